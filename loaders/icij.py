"""The ICIJ Offshore Leaks database in its published CSV layout.

Node files: nodes-entities.csv and nodes-others.csv (-> Company), nodes-officers.csv (-> Person, or
Company when the name carries a legal form), nodes-intermediaries.csv (-> Company) and
nodes-addresses.csv (-> Address); relationships.csv links them by node id. Keys are ``icij:<node_id>``.
Pass the files, or the folder holding them. ICIJ's own similarity links (same_name_as, similar, ...)
and officer roles outside ownership, directorship and agency are rejected as "unmapped relationship".
Dates that cannot be read are dropped rather than rejected: the leak data is known to be messy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.schema import default_schema
from loaders.base import LoadError, LoadOptions, LoadOutput, Reject, provenance, retrieved_at
from loaders.countries import Country, lookup_country
from loaders.dates import parse_date
from loaders.mapping import is_empty, raw_line, read_csv
from loaders.ownership import looks_corporate

NODE_FILES: dict[str, str] = {
    "nodes-entities": "entity",
    "nodes-others": "other",
    "nodes-intermediaries": "intermediary",
    "nodes-officers": "officer",
    "nodes-addresses": "address",
}
RELATIONSHIPS = "relationships"
_NEEDED = {
    "entity": ("node_id", "name"),
    "other": ("node_id", "name"),
    "intermediary": ("node_id", "name"),
    "officer": ("node_id", "name"),
    "address": ("node_id", "address"),
    RELATIONSHIPS: ("node_id_start", "node_id_end", "rel_type"),
}
_DIRECTOR_WORDS = (
    "director",
    "secretary",
    "officer",
    "president",
    "treasurer",
    "chairman",
    "signatory",
    "board",
)
Ends = Mapping[str, tuple[str, str]]


def _text(row: Mapping[str, Any], column: str) -> str | None:
    value = row.get(column)
    return None if is_empty(value) else " ".join(str(value).split())


def _date(row: Mapping[str, Any], column: str) -> str | None:
    raw = _text(row, column)
    if raw is None:
        return None
    try:
        return parse_date(raw, "DMY", partial=True)
    except ValueError:
        return None


def _country(*candidates: str | None) -> Country | None:
    for candidate in candidates:
        for part in (candidate or "").split(";"):
            found = lookup_country(part.strip()) if part.strip() else None
            if found is not None:
                return found
    return None


def node_key(node_id: str) -> str:
    """The graph key of an ICIJ node."""
    return f"icij:{node_id.strip()}"


def node_records(kind: str, row: Mapping[str, Any], prov: Provenance) -> list[Record]:
    """The node (first) and its country records for one row of a node file; ValueError when unusable."""
    node_id = _text(row, "node_id")
    if node_id is None:
        raise ValueError("node_id: missing")
    key = node_key(node_id)
    if kind == "address":
        full = _text(row, "address") or _text(row, "name")
        if full is None:
            raise ValueError("address: missing")
        country = _country(_text(row, "country_codes"), _text(row, "countries"))
        node = NodeRecord("Address", key, {"full": full, "country": country.code if country else None}, prov)
        link = "LOCATED_IN"
    else:
        name = _text(row, "name")
        if name is None:
            raise ValueError("name: missing")
        if kind == "officer" and not looks_corporate(name):
            return [NodeRecord("Person", key, {"name": name}, prov)]
        country = _country(_text(row, "jurisdiction_description"), _text(row, "jurisdiction"))
        aliases = [a for a in (_text(row, "former_name"), _text(row, "original_name")) if a and a != name]
        props = {
            "name": name,
            "jurisdiction": country.code if country else None,
            "registration_number": _text(row, "ibcRUC"),
            "aliases": sorted(set(aliases)) or None,
            "incorporation_date": _date(row, "incorporation_date"),
            "dissolution_date": _date(row, "inactivation_date")
            or _date(row, "struck_off_date")
            or _date(row, "closed_date"),
        }
        node = NodeRecord("Company", key, props, prov)
        link = "INCORPORATED_IN"
    records: list[Record] = [node]
    if country is not None:
        records.append(country.record())
        records.append(EdgeRecord(link, node.label, key, "Country", country.code, provenance=prov))
    return records


def classify(rel_type: str, link: str | None) -> list[tuple[str, str | None]]:
    """Schema relationship types (with a director's role) for an ICIJ rel_type and link; [] if unmapped."""
    kind = rel_type.strip().lower()
    text = (link or "").lower()
    if kind == "registered_address":
        return [("REGISTERED_AT", None)]
    if kind == "intermediary_of":
        return [("REGISTRATION_AGENT_OF", None)]
    if kind != "officer_of":
        return []
    found: list[tuple[str, str | None]] = []
    if "beneficial owner" in text or "ubo" in text.replace("/", " ").split():
        found.append(("BENEFICIAL_OWNER_OF", None))
    if "shareholder" in text:
        found.append(("SHAREHOLDER_OF", None))
    if any(word in text for word in _DIRECTOR_WORDS):
        found.append(("DIRECTOR_OF", link))
    return found


def relationship_records(row: Mapping[str, Any], ends: Ends, prov: Provenance) -> list[Record]:
    """Edges for one row of relationships.csv; ValueError (reason "unmapped relationship ...") if none."""
    start, end = _text(row, "node_id_start"), _text(row, "node_id_end")
    rel_type, link = _text(row, "rel_type") or "", _text(row, "link")
    for node_id in (start, end):
        if node_id is None or node_id not in ends:
            raise ValueError(f"unknown node id {node_id!r}")
    assert start is not None and end is not None
    types = classify(rel_type, link)
    if not types:
        raise ValueError(f"unmapped relationship {rel_type}" + (f" ({link})" if link else ""))
    (src_label, src), (dst_label, dst) = ends[start], ends[end]
    schema = default_schema()
    valid_from, valid_to = _date(row, "start_date"), _date(row, "end_date")
    records: list[Record] = []
    for edge_type, role in types:
        rel = schema.rel(edge_type)
        if src_label not in rel.sources or dst_label not in rel.targets:
            raise ValueError(f"unmapped relationship {rel_type} ({link}) from {src_label} to {dst_label}")
        props = {"valid_from": valid_from, "valid_to": valid_to}
        if edge_type == "DIRECTOR_OF":
            props["role"] = role
        records.append(EdgeRecord(edge_type, src_label, src, dst_label, dst, valid_from or "", props, prov))
    return records


def _files(paths: Sequence[Path]) -> list[tuple[str, Path]]:
    found: dict[str, Path] = {}
    for path in paths:
        candidates = sorted(path.glob("*.csv")) if path.is_dir() else [path]
        for candidate in candidates:
            stem = candidate.name.removesuffix(".csv")
            if stem not in NODE_FILES and stem != RELATIONSHIPS:
                if path.is_dir():
                    continue
                raise LoadError(f"{candidate}: not an ICIJ file (expected nodes-*.csv or relationships.csv)")
            found[stem] = candidate
    if not found:
        raise LoadError(f"{paths[0] if paths else '.'}: no ICIJ nodes-*.csv or relationships.csv found")
    order = [*NODE_FILES, RELATIONSHIPS]
    return [(stem, found[stem]) for stem in order if stem in found]


def _read(
    stem: str,
    path: Path,
    options: LoadOptions,
    out: LoadOutput,
    handle: Callable[[Mapping[str, Any], Provenance], list[Record]],
) -> None:
    header, rows = read_csv(path, delimiter=",")
    kind = NODE_FILES.get(stem, RELATIONSHIPS)
    missing = [c for c in _NEEDED[kind] if c not in header]
    if missing:
        raise LoadError(f"{path}: not an ICIJ {stem}.csv file: no column {missing[0]!r}")
    when = retrieved_at(path, options)
    source = options.source or "icij"
    for number, row in rows:
        out.rows_read += 1
        if options.progress:
            options.progress(1)
        try:
            if "__error__" in row:
                raise ValueError(row["__error__"])
            out.records.extend(handle(row, provenance(source, path, number, when)))
        except ValueError as exc:
            out.rejects.append(Reject(str(path), number, str(exc), raw_line(row)))


def load(paths: Sequence[Path], options: LoadOptions) -> LoadOutput:
    """Read ICIJ Offshore Leaks CSV files (node files first, then relationships)."""
    out = LoadOutput()
    ends: dict[str, tuple[str, str]] = {}
    schema = default_schema()

    def on_node(kind: str) -> Callable[[Mapping[str, Any], Provenance], list[Record]]:
        def handle(row: Mapping[str, Any], prov: Provenance) -> list[Record]:
            records = node_records(kind, row, prov)
            node = records[0]
            assert isinstance(node, NodeRecord)
            node_id = node.key.removeprefix("icij:")
            known = ends.get(node_id)
            if known is None:
                ends[node_id] = (node.label, node.key)
            elif known[0] != node.label:
                declared = schema.node(known[0]).properties
                props = {k: v for k, v in node.props.items() if k in declared}
                return [NodeRecord(known[0], node.key, props, prov)]
            return records

        return handle

    for stem, path in _files(paths):
        if stem == RELATIONSHIPS:
            _read(stem, path, options, out, lambda row, prov: relationship_records(row, ends, prov))
        else:
            _read(stem, path, options, out, on_node(NODE_FILES[stem]))
    return out
