"""One node per company: a company named without an identifier joins the one that has it.

Strong identifiers (IMO company number, LEI, registration number with jurisdiction) make the key, so
two sources that give one meet on it. A source that gives only a name ("X Shipping Ltd" in a registry)
gets a name key, ``co:<digest of name, jurisdiction>``. This module joins such name-keyed companies:

* to the one strong-keyed company with the same normalised name whose jurisdiction does not
  contradict it (equal, or unknown on either side): the registry's owner by name is the sanctions
  list's owner by IMO company number;
* failing that, a name key without jurisdiction to the one name key of the same name with one, so that
  a source adding the country of registration never splits the company in two;
* never two companies that one source keeps apart: when a source states both, it gave them different
  keys on purpose (OFAC lists branches of one foundation as separate entries), and its word stands.

With two or more candidates nothing is joined: the resolver and a reviewer decide (``shadowfleet
resolve``). Joins at write time rewrite the records; companies stored earlier under a name key move
when the company with the identifier arrives (``relocations``), through graph/identity/merge.py, so
every join keeps ``resolved_from`` and ``source_keys`` and can be split again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from graph.identity.merge import Reader, Relocation, alias, merge, restate, rewired
from graph.keys import normalize_name
from graph.records import EdgeRecord, NodeRecord, Provenance, Record

NAME_KEY = "name_key"
WEAK_PREFIX = "co:"
LABEL = "Company"


@dataclass(frozen=True)
class Known:
    """A company the join can point at: its key, jurisdiction and whether the key is an identifier."""

    key: str
    jurisdiction: str | None
    sources: frozenset[str]

    @property
    def strong(self) -> bool:
        return not self.key.startswith(WEAK_PREFIX)


def with_name_keys(records: Sequence[Record]) -> list[Record]:
    """Company records with their normalised name as ``name_key`` (what joins and lookups use)."""
    out: list[Record] = []
    for record in records:
        if isinstance(record, NodeRecord) and record.label == LABEL and record.props.get("name"):
            key = normalize_name(str(record.props["name"]))
            if key and record.props.get(NAME_KEY) != key:
                record = replace(record, props={**record.props, NAME_KEY: key})
        out.append(record)
    return out


def _compatible(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


def _target(
    name_key: str, jurisdiction: str | None, key: str, known: dict[str, dict[str, Known]]
) -> str | None:
    """The one company a name-keyed company joins, or None."""
    entries = known.get(name_key, {})
    me = entries.get(key)
    sources = me.sources if me else frozenset()
    candidates = {k for k in entries.values() if k.key != key and not (k.sources & sources)}
    strong = {k.key for k in candidates if k.strong and _compatible(k.jurisdiction, jurisdiction)}
    if strong:
        return strong.pop() if len(strong) == 1 else None
    if jurisdiction is None:
        weak = {k.key for k in candidates if not k.strong and k.jurisdiction is not None}
        if len(weak) == 1:
            return weak.pop()
    return None


def _rejected(reader: Reader | None, known: dict[str, dict[str, Known]]) -> set[tuple[str, str]]:
    """Pairs a reviewer judged different (POSSIBLY_SAME_AS with method ``rejected``), both ways round:
    no rule joins them again."""
    weak = sorted({k for ks in known.values() for k in ks if k.startswith(WEAK_PREFIX)})
    if reader is None or not weak:
        return set()
    pairs: set[tuple[str, str]] = set()
    for direction in ("out", "in"):
        for edge in reader.edges(LABEL, weak, ["POSSIBLY_SAME_AS"], direction):
            if edge.props.get("method") == "rejected":
                pairs.update({(edge.src, edge.dst), (edge.dst, edge.src)})
    return pairs


def _known(records: Sequence[Record], reader: Reader | None) -> dict[str, dict[str, Known]]:
    """Companies by name key (from the batch and the store), each with its jurisdiction and sources."""
    found: dict[tuple[str, str], tuple[str | None, set[str]]] = {}
    for record in records:
        if isinstance(record, NodeRecord) and record.label == LABEL and record.props.get(NAME_KEY):
            slot = (str(record.props[NAME_KEY]), record.key)
            jurisdiction, sources = found.get(slot, (None, set()))
            if record.provenance is not None:
                sources.add(record.provenance.source)
            found[slot] = (jurisdiction or record.props.get("jurisdiction"), sources)
    if reader is not None and found:
        for view in reader.find_nodes(LABEL, NAME_KEY, sorted({n for n, _ in found})):
            slot = (str(view.props[NAME_KEY]), view.key)
            jurisdiction, sources = found.get(slot, (None, set()))
            sources.update(Provenance.decode(p).source for p in view.provenance)
            found[slot] = (jurisdiction or view.props.get("jurisdiction"), sources)
    names: dict[str, dict[str, Known]] = defaultdict(dict)
    for (name, key), (jurisdiction, sources) in found.items():
        names[name][key] = Known(key, jurisdiction, frozenset(sources))
    return names


def resolve(records: Sequence[Record], reader: Reader | None) -> tuple[list[Record], Relocation]:
    """The batch with name-keyed companies joined where one candidate is certain, and the moves of
    companies stored under a name key that this batch's companies now explain."""
    records = with_name_keys(records)
    known = _known(records, reader)
    if not known:
        return records, Relocation()
    apart = _rejected(reader, known)
    joins: dict[str, str] = {}
    for record in records:
        if (
            isinstance(record, NodeRecord)
            and record.label == LABEL
            and record.key.startswith(WEAK_PREFIX)
            and record.props.get(NAME_KEY)
        ):
            target = _target(str(record.props[NAME_KEY]), record.props.get("jurisdiction"), record.key, known)
            if (
                target is not None
                and (record.key, target) not in apart
                and joins.get(record.key, target) == target
            ):
                joins[record.key] = target
    out: list[Record] = [alias(LABEL, key, target, "name") for key, target in sorted(joins.items())]
    for record in records:
        if isinstance(record, NodeRecord) and record.label == LABEL and record.key in joins:
            out.append(restate(record, joins[record.key], record.key))
        elif isinstance(record, EdgeRecord) and (
            (record.src_label == LABEL and record.src in joins)
            or (record.dst_label == LABEL and record.dst in joins)
        ):
            src = joins.get(record.src, record.src) if record.src_label == LABEL else record.src
            dst = joins.get(record.dst, record.dst) if record.dst_label == LABEL else record.dst
            out.append(rewired(record, src, dst))
        else:
            out.append(record)
    move = Relocation()
    if reader is not None:
        in_batch = {r.key for r in records if isinstance(r, NodeRecord) and r.label == LABEL}
        stored_weak = {
            k.key: (name, k.jurisdiction)
            for name, ks in known.items()
            for k in ks.values()
            if not k.strong and k.key not in in_batch
        }
        merged: set[str] = set()
        plans = sorted(
            (target, key)
            for key, (name, jurisdiction) in stored_weak.items()
            if (target := _target(name, jurisdiction, key, known)) is not None and (key, target) not in apart
        )
        # Into identifiers first, so a name key that itself moves is never a target afterwards.
        for target, key in sorted(plans, key=lambda p: (p[0].startswith(WEAK_PREFIX), p)):
            if target not in merged:
                move.add(merge(reader, LABEL, key, target, "name"))
                merged.add(key)
    return out, move
