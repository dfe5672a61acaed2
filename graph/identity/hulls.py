"""One node per hull: facts that name a vessel only by MMSI join the hull that MMSI belonged to then.

An event file, an encounter list or an AIS track names a vessel by MMSI; a registry, a sanctions list
or the vessel's own AIS static reports tie that MMSI to an IMO-numbered hull for a period
(``HAS_MMSI``). MMSIs are reused by other hulls over the years and one hull changes MMSI, so the join
is by time: a fact about ``mmsi:X`` at time *t* goes to the hull whose ``HAS_MMSI`` period for X
covers *t*, and to no hull when none or several do.

The rule, written once here for every source and both stores:

* a dated period covers *t* when its start (``valid_from``, else the first snapshot that saw it) is on
  or before *t* and its end (``valid_to``) is after *t* or unknown; before the first sighting we do
  not know, so we do not join;
* an undated statement ("MMSI 273456789" in a list's remarks, a registry's current ``mmsi``) covers
  every *t*, but only when it is the only hull ever tied to X: with two, the date decides or nothing;
* a fact with no time of its own (a node record) follows the relationships of the same batch that
  name it, else joins when exactly one hull was ever tied to X.

A joined relationship keeps ``resolved_from`` (the key the source gave), the hull keeps the source
keys in ``source_keys``, so every join is visible and can be undone (``split``). Facts stored earlier
on an ``mmsi:`` node move to the hull when a later load supplies the tie (``relocations``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from graph.identity.merge import (
    RESOLVED_FROM,
    SOURCE_KEYS,
    Reader,
    Relocation,
    edge_id,
    moved_edge,
    node_statements,
    restate,
    rewired,
)
from graph.records import EdgeRecord, NodeRecord, Record

# Properties of the node at the other end that date a fact about a vessel (as the dossiers read them).
EVENT_TIME = ("start", "arrival", "listing_date", "observed")
MMSI_PREFIX = "mmsi:"
HULL_PREFIX = "imo:"


@dataclass(frozen=True)
class Tie:
    """One statement that hull ``hull`` used MMSI ``mmsi``: dated (start, end) or undated."""

    hull: str
    mmsi: str
    start: str | None
    end: str | None
    dated: bool

    def covers(self, t: str) -> bool:
        """True when the statement says the hull held the MMSI at ``t`` (an ISO date or timestamp)."""
        day = t[:10]
        if not self.dated:
            return True
        return self.start is not None and self.start[:10] <= day and (self.end is None or day < self.end[:10])


def _tie_from_props(hull: str, mmsi: str, props: dict[str, Any], observed: str | None) -> Tie:
    if props.get("status") is not None:
        return Tie(hull, mmsi, None, None, dated=False)
    start = props.get("valid_from") or props.get("first_seen") or observed
    return Tie(hull, mmsi, start, props.get("valid_to"), dated=start is not None)


class Ties:
    """Every known tie of the MMSIs in question, from the batch being written and from the store."""

    def __init__(self) -> None:
        self.by_mmsi: dict[str, list[Tie]] = defaultdict(list)

    def add(self, tie: Tie) -> None:
        if tie not in self.by_mmsi[tie.mmsi]:
            self.by_mmsi[tie.mmsi].append(tie)

    def hull_at(self, mmsi: str, t: str | None) -> str | None:
        """The one hull that held ``mmsi`` at ``t`` (``None``: time unknown), or None."""
        ties = self.by_mmsi.get(mmsi, [])
        hulls = {tie.hull for tie in ties}
        if t is not None:
            covering = {tie.hull for tie in ties if tie.dated and tie.covers(t)}
            if len(covering) == 1:
                return covering.pop()
            if covering:
                return None
            if len(hulls) == 1 and all(not tie.dated for tie in ties):
                return next(iter(hulls))
            return None
        return next(iter(hulls)) if len(hulls) == 1 else None

    @classmethod
    def gather(cls, records: Sequence[Record], mmsis: Iterable[str], reader: Reader | None) -> Ties:
        """Ties for ``mmsis`` stated by the batch and already stored."""
        ties = cls()
        wanted = set(mmsis)
        for record in records:
            if (
                isinstance(record, EdgeRecord)
                and record.type == "HAS_MMSI"
                and record.src.startswith(HULL_PREFIX)
                and record.dst in wanted
            ):
                ties.add(_tie_from_props(record.src, record.dst, dict(record.props), record.observed))
            elif (
                isinstance(record, NodeRecord)
                and record.label == "Vessel"
                and record.key.startswith(HULL_PREFIX)
                and record.props.get("mmsi") in wanted
            ):
                ties.add(Tie(record.key, str(record.props["mmsi"]), None, None, dated=False))
        if reader is not None and wanted:
            keys = sorted(wanted)
            for edge in reader.edges("Mmsi", keys, ["HAS_MMSI"], "in"):
                if edge.src.startswith(HULL_PREFIX):
                    ties.add(_tie_from_props(edge.src, edge.dst, dict(edge.props), None))
            for node in reader.find_nodes("Vessel", "mmsi", keys):
                if node.key.startswith(HULL_PREFIX):
                    ties.add(Tie(node.key, str(node.props["mmsi"]), None, None, dated=False))
        ties._close(records, reader)
        return ties

    def _close(self, records: Sequence[Record], reader: Reader | None) -> None:
        """End each dated tie where the same hull was next seen with another MMSI, as the store's fold
        of HAS_MMSI periods will (a hull has one MMSI at a time), taking this batch's sightings into
        account before they are folded."""
        hulls = {t.hull for ts in self.by_mmsi.values() for t in ts}
        if not hulls:
            return
        seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for record in records:
            if isinstance(record, EdgeRecord) and record.type == "HAS_MMSI" and record.src in hulls:
                tie = _tie_from_props(record.src, record.dst, dict(record.props), record.observed)
                if tie.dated and tie.start:
                    seen[tie.hull].add((tie.start[:10], tie.mmsi))
        if reader is not None:
            for edge in reader.edges("Vessel", sorted(hulls), ["HAS_MMSI"], "out"):
                tie = _tie_from_props(edge.src, edge.dst, dict(edge.props), None)
                if tie.dated and tie.start:
                    seen[tie.hull].add((tie.start[:10], tie.mmsi))
        for mmsi, ties in self.by_mmsi.items():
            closed = []
            for tie in ties:
                later = [
                    d for d, m in seen.get(tie.hull, ()) if m != mmsi and tie.start and d > tie.start[:10]
                ]
                if tie.dated and later and (tie.end is None or min(later) < tie.end[:10]):
                    tie = replace(tie, end=min(later))
                closed.append(tie)
            self.by_mmsi[mmsi] = closed


def _mmsi_of(key: str) -> str | None:
    return key[len(MMSI_PREFIX) :] if key.startswith(MMSI_PREFIX) else None


def _edge_time(record: EdgeRecord, other_props: dict[str, Any] | None) -> str | None:
    props = record.props
    t = record.observed or props.get("valid_from") or props.get("first_seen")
    if t is None and other_props:
        t = next((other_props[p] for p in EVENT_TIME if other_props.get(p)), None)
    return str(t) if t is not None else None


def resolve(records: Sequence[Record], reader: Reader | None) -> list[Record]:
    """The batch with every MMSI-keyed vessel reference that a tie resolves rewritten to its hull."""
    mmsis = {
        m
        for r in records
        for m in (
            (_mmsi_of(r.key),)
            if isinstance(r, NodeRecord) and r.label == "Vessel"
            else (
                _mmsi_of(r.src) if r.src_label == "Vessel" else None,
                _mmsi_of(r.dst) if r.dst_label == "Vessel" else None,
            )
            if isinstance(r, EdgeRecord)
            else ()
        )
        if m
    }
    if not mmsis:
        return list(records)
    ties = Ties.gather(records, mmsis, reader)
    if not any(ties.by_mmsi.get(m) for m in mmsis):
        return list(records)
    batch_props = {(r.label, r.key): dict(r.props) for r in records if isinstance(r, NodeRecord)}
    out: list[Record] = []
    node_targets: dict[str, set[str]] = defaultdict(set)
    for record in records:
        if not isinstance(record, EdgeRecord):
            continue
        src, dst = record.src, record.dst
        for end in ("src", "dst"):
            label = record.src_label if end == "src" else record.dst_label
            key = src if end == "src" else dst
            mmsi = _mmsi_of(key) if label == "Vessel" else None
            if mmsi is None:
                continue
            other = (record.dst_label, dst) if end == "src" else (record.src_label, src)
            hull = ties.hull_at(mmsi, _edge_time(record, batch_props.get(other)))
            node_targets[key].add(hull or key)
            if hull:
                src, dst = (hull, dst) if end == "src" else (src, hull)
        out.append(rewired(record, src, dst))
    nodes: list[Record] = []
    for record in records:
        if not isinstance(record, NodeRecord):
            continue
        mmsi = _mmsi_of(record.key) if record.label == "Vessel" else None
        if mmsi is None:
            nodes.append(record)
            continue
        targets = node_targets.get(record.key)
        if targets is None:
            hull = ties.hull_at(mmsi, record.observed)
            targets = {hull or record.key}
        for target in sorted(targets):
            nodes.append(record if target == record.key else restate(record, target, record.key))
    return nodes + out


def _tied_mmsis(records: Sequence[Record]) -> list[str]:
    tied = {
        r.dst
        for r in records
        if isinstance(r, EdgeRecord) and r.type == "HAS_MMSI" and r.src.startswith(HULL_PREFIX)
    }
    tied.update(
        str(r.props["mmsi"])
        for r in records
        if isinstance(r, NodeRecord)
        and r.label == "Vessel"
        and r.key.startswith(HULL_PREFIX)
        and r.props.get("mmsi")
    )
    return sorted(tied)


def relocations(records: Sequence[Record], reader: Reader) -> Relocation | None:
    """Re-judge every stored fact named by an MMSI that ``records`` tie to a hull: each goes to the hull
    that held the MMSI at its time (or back to the MMSI-keyed vessel), with the records behind it."""
    tied = _tied_mmsis(records)
    if not tied:
        return None
    ties = Ties.gather(records, tied, reader)
    holders = {MMSI_PREFIX + m for m in tied} | {t.hull for m in tied for t in ties.by_mmsi.get(m, [])}
    stored = reader.get_nodes("Vessel", sorted(holders))
    if not any(k.startswith(MMSI_PREFIX) for k in stored) and not _any_resolved(reader, stored):
        return None
    keys = sorted(stored)
    edges = [(e, True) for e in reader.edges("Vessel", keys, None, "out")]
    edges += [(e, False) for e in reader.edges("Vessel", keys, None, "in")]
    named = [(e, out) for e, out in edges if _named_mmsi(e, out) in tied]
    if not named:
        return None
    other_props = _other_ends(reader, named)
    moved = Relocation()
    moves: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    stays: set[str] = set()
    for edge, outgoing in named:
        holder = edge.src if outgoing else edge.dst
        mmsi = _named_mmsi(edge, outgoing) or ""
        other = (edge.dst_label, edge.dst) if outgoing else (edge.src_label, edge.src)
        as_record = EdgeRecord(
            edge.type, edge.src_label, edge.src, edge.dst_label, edge.dst, edge.key, edge.props
        )
        target = ties.hull_at(mmsi, _edge_time(as_record, other_props.get(other))) or MMSI_PREFIX + mmsi
        if target == holder:
            stays.add(holder)
            continue
        source_key = MMSI_PREFIX + mmsi
        moves[(holder, target, source_key)].update(edge.provenance)
        moved.delete_edges.append(edge_id(edge))
        moved.records += moved_edge(edge, outgoing, target, source_key if target != source_key else None)
    for (holder, target, source_key), provs in moves.items():
        view = stored[holder]
        statements = [s for s in node_statements(view) if s.provenance and s.provenance.encode() in provs]
        given = None if target == source_key else source_key
        moved.records += [restate(statement, target, given) for statement in statements]
        if target.startswith(MMSI_PREFIX) and not statements:
            moved.records.append(NodeRecord("Vessel", target, {"mmsi": target[len(MMSI_PREFIX) :]}))
        if holder.startswith(MMSI_PREFIX) and holder not in stays and set(view.provenance) <= provs:
            moved.delete_nodes.append(("Vessel", holder))
        else:
            moved.retract.setdefault(("Vessel", holder), set()).update(provs)
    return moved if moved.records else None


def _any_resolved(reader: Reader, stored: dict[str, Any]) -> bool:
    return any(SOURCE_KEYS in view.props for view in stored.values())


def _named_mmsi(edge: Any, outgoing: bool) -> str | None:
    """The MMSI a stored relationship's source named the vessel by, if it did."""
    holder = edge.src if outgoing else edge.dst
    return _mmsi_of(holder) or _mmsi_of(str(edge.props.get(RESOLVED_FROM) or ""))


def _other_ends(reader: Reader, edges: list[tuple[Any, bool]]) -> dict[tuple[str, str], dict[str, Any]]:
    wanted: dict[str, set[str]] = defaultdict(set)
    for edge, outgoing in edges:
        label, key = (edge.dst_label, edge.dst) if outgoing else (edge.src_label, edge.src)
        wanted[label].add(key)
    return {
        (label, key): view.props
        for label, keys in wanted.items()
        for key, view in reader.get_nodes(label, sorted(keys)).items()
    }
