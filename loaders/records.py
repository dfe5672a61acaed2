"""The native format: graph records as JSON lines, one node or relationship per line.

A node line: ``{"node": "Vessel", "key": "imo:9289518", "props": {...}, "provenance": [...]}``, and,
when written by an export, ``"claims": [{"property", "value", "held", "provenance"}, ...]``: which
record states which value (graph/evidence.py), restored exactly on load.
A relationship line: ``{"rel": "FLAGGED", "from": ["Vessel", "imo:..."], "to": ["Country", "PA"],
"key": "...", "props": {...}, "provenance": [...]}``. Provenance entries are objects with source,
record and retrieved_at; a line without provenance gets the file and line as its record id. This is
also what `shadowfleet export --format jsonl` writes, so an export loads back into an empty store.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graph.records import EdgeRecord, NodeRecord, Provenance
from graph.schema import SchemaError, default_schema
from loaders.base import LoadOptions, LoadOutput, Reject, iter_jsonl, provenance, retrieved_at


def _provenances(obj: dict[str, Any], default: Provenance) -> list[Provenance]:
    raw = obj.get("provenance") or []
    if isinstance(raw, dict):
        raw = [raw]
    found = [Provenance(p["source"], p["record"], p["retrieved_at"]) for p in raw]
    return found or [default]


def to_records(obj: Any, default: Provenance) -> list[NodeRecord | EdgeRecord]:
    """Turn one parsed line into records (one per provenance entry); raises ValueError when malformed."""
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    schema = default_schema()
    props = obj.get("props") or {}
    if "node" in obj:
        schema.check_node(obj["node"], props)
        label, key = obj["node"], str(obj["key"])
        claims = obj.get("claims")
        if not claims:
            return [NodeRecord(label, key, props, p) for p in _provenances(obj, default)]
        # An export with claims: each claim is restated by its own record, so every value keeps
        # exactly its sources; properties no claim states, and records that state none, come along.
        by_record: dict[Provenance, list[NodeRecord]] = {p: [] for p in _provenances(obj, default)}
        claimed: set[str] = set()
        for claim in claims:
            p = claim["provenance"]
            prov = Provenance(p["source"], p["record"], p["retrieved_at"])
            stated = {claim["property"]: claim["value"]}
            schema.check_node(label, stated)
            by_record.setdefault(prov, []).append(
                NodeRecord(label, key, stated, prov, observed=claim.get("held"))
            )
            claimed.add(claim["property"])
        # In the node's provenance order, so the reloaded node lists its records as the export did.
        out: list[NodeRecord | EdgeRecord] = []
        for prov, stated_by in by_record.items():
            out += stated_by or [NodeRecord(label, key, {}, prov)]
        rest = {k: v for k, v in props.items() if k not in claimed}
        if rest:
            out.append(NodeRecord(label, key, rest))
        return out
    if "rel" in obj:
        (src_label, src), (dst_label, dst) = obj["from"], obj["to"]
        schema.check_edge(obj["rel"], src_label, dst_label, props)
        return [
            EdgeRecord(
                obj["rel"],
                src_label,
                str(src),
                dst_label,
                str(dst),
                str(obj.get("key", "")),
                props,
                p,
                observed=obj.get("observed"),
            )
            for p in _provenances(obj, default)
        ]
    raise ValueError("a line needs 'node' or 'rel'")


def load(paths: Sequence[Path], options: LoadOptions) -> LoadOutput:
    """Read native JSON-lines record files."""
    out = LoadOutput()
    for path in paths:
        when = retrieved_at(path, options)
        source = options.source or "records"
        for number, obj in iter_jsonl(path):
            out.rows_read += 1
            if isinstance(obj, Reject):
                out.rejects.append(obj)
                continue
            try:
                out.records.extend(to_records(obj, provenance(source, path, number, when)))
            except (ValueError, KeyError, TypeError, SchemaError) as exc:
                out.rejects.append(Reject(str(path), number, f"bad record: {exc}", str(obj)[:500]))
            if options.progress:
                options.progress(1)
    return out
