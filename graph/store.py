"""The narrow, set-at-a-time store interface shared by the embedded and the Neo4j store.

A backend implements a handful of primitives (write grouped rows, count, fetch nodes by key, expand a
frontier of nodes along relationship types, run a named query). Everything else (schema checks,
coalescing duplicate records, folding snapshot observations into dated periods) is written once here,
so both stores behave the same and one conformance suite tests both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from graph import evidence
from graph.history import (
    Period,
    fold_multi_valued,
    fold_single_valued,
    group_observations,
    replay,
    replayable,
    sighting,
)
from graph.identity import resolve_batch
from graph.identity.merge import Relocation
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.schema import Schema, default_schema

Direction = Literal["out", "in"]
ProgressFn = Callable[[int], None]


class StoreError(RuntimeError):
    """A store operation failed; the message is one line meant for the user."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or opened."""


class UnsupportedOperation(StoreError):
    """The store cannot do what was asked; raised instead of silently degrading."""


@dataclass(frozen=True)
class NodeView:
    """A node as read back from a store."""

    label: str
    key: str
    props: dict[str, Any]
    provenance: list[str]
    claims: list[str] = field(default_factory=list)

    def sources(self) -> list[Provenance]:
        """Decoded provenance entries."""
        return [Provenance.decode(p) for p in self.provenance]


@dataclass(frozen=True)
class EdgeView:
    """A relationship as read back from a store."""

    type: str
    src_label: str
    src: str
    dst_label: str
    dst: str
    key: str
    props: dict[str, Any]
    provenance: list[str]


@dataclass
class NodeRow:
    """Coalesced write row for one node: merged properties and every provenance entry seen."""

    key: str
    props: dict[str, Any] = field(default_factory=dict)
    prov: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)

    def resolve(self, stored_claims: list[str] | None) -> tuple[dict[str, Any], list[str]]:
        """The properties to set and the node's claims after this write, given its stored claims
        (None for a new node): claims merged, each claimed property at its current value by the rule
        of graph/evidence.py, whatever order the records came in."""
        if stored_claims is None and len(self.prov) <= 1:
            return self.props, sorted(set(self.claims))
        claims = evidence.merge(stored_claims or (), self.claims)
        props = dict(self.props)
        props.update(evidence.current_values(claims, {c.split(evidence.SEP, 1)[0] for c in self.claims}))
        return props, claims


@dataclass
class EdgeRow:
    """Coalesced write row for one relationship."""

    src: str
    dst: str
    key: str
    props: dict[str, Any] = field(default_factory=dict)
    prov: list[str] = field(default_factory=list)


@dataclass
class Deletions:
    """Nodes and relationships a write removes before it writes (facts the identity layer moves)."""

    nodes: list[tuple[str, str]] = field(default_factory=list)
    edges: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)  # type, ends, key
    # (label, key) -> provenance entries whose statements leave that node (graph/evidence.retract)
    retract: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.nodes or self.edges or self.retract)


NodeGroups = dict[str, dict[str, NodeRow]]
EdgeGroups = dict[tuple[str, str, str], dict[tuple[str, str, str], EdgeRow]]


@dataclass
class WriteStats:
    """What a write did: records received, and nodes/relationships created or merged into."""

    records: int = 0
    nodes_created: int = 0
    nodes_merged: int = 0
    edges_created: int = 0
    edges_merged: int = 0
    created_by_label: dict[str, int] = field(default_factory=dict)

    def add(self, other: WriteStats) -> None:
        """Accumulate another write's figures."""
        self.records += other.records
        self.nodes_created += other.nodes_created
        self.nodes_merged += other.nodes_merged
        self.edges_created += other.edges_created
        self.edges_merged += other.edges_merged
        for label, n in other.created_by_label.items():
            self.created_by_label[label] = self.created_by_label.get(label, 0) + n


@dataclass(frozen=True)
class Counts:
    """Counts by node label and relationship type."""

    nodes: dict[str, int]
    relationships: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """Stable, JSON-ready form: labels and types sorted, totals included."""
        return {
            "nodes": dict(sorted(self.nodes.items())),
            "relationships": dict(sorted(self.relationships.items())),
            "total_nodes": sum(self.nodes.values()),
            "total_relationships": sum(self.relationships.values()),
        }


class Store(ABC):
    """Base class of every store. Subclasses implement the primitives marked abstract."""

    backend: str = "abstract"
    default_batch_size: int = 10_000

    def __init__(self, schema: Schema | None = None) -> None:
        self.schema = schema or default_schema()

    # ---- the public interface ---------------------------------------------------------------

    def write(
        self,
        records: Iterable[Record],
        *,
        batch_size: int | None = None,
        atomic: bool = True,
        progress: ProgressFn | None = None,
    ) -> WriteStats:
        """Upsert records, merging on keys. Idempotent: writing the same records again changes nothing.

        With ``atomic`` (the default) the whole call is one transaction: if anything fails, the graph
        is left as it was. Without it, each batch commits on its own (faster for bulk loads into Neo4j).
        """
        given = list(records)
        # The identity layer first (graph/identity): references resolve to their entity's node, and
        # facts stored earlier move where this batch's identities now place them.
        resolved, move = resolve_batch(given, self)
        stats = self._write_move(resolved + move.records, move, batch_size, atomic, progress)
        stats.records = len(given)
        return stats

    def apply(self, move: Relocation, *, progress: ProgressFn | None = None) -> WriteStats:
        """Carry out a move of the identity layer (a merge or a split, graph/identity/merge.py) in one
        transaction: its deletions and withdrawals, then its records, written as they are (not
        resolved again: a split must not be re-joined by the rule it undoes)."""
        stats = self._write_move(move.records, move, None, True, progress)
        stats.records = len(move.records)
        return stats

    def _write_move(
        self,
        records: list[Record],
        move: Relocation,
        batch_size: int | None,
        atomic: bool,
        progress: ProgressFn | None,
    ) -> WriteStats:
        """Coalesce and fold ``records``, then write them after ``move``'s deletions and withdrawals."""
        nodes, edges, observed, _ = self._coalesce(records)
        deletes = Deletions(move.delete_nodes, list(move.delete_edges), move.retract)
        if observed:
            deletes.edges += self._fold(observed, edges)
        size = batch_size or self.default_batch_size
        return self._write_rows(nodes, edges, size, atomic=atomic, progress=progress, deletes=deletes)

    @abstractmethod
    def counts(self) -> Counts:
        """Number of nodes by label and relationships by type."""

    @abstractmethod
    def get_nodes(self, label: str, keys: Sequence[str]) -> dict[str, NodeView]:
        """Fetch nodes of one label by key, in one round trip; missing keys are absent from the result."""

    def get_node(self, label: str, key: str) -> NodeView | None:
        """Fetch one node by label and key."""
        return self.get_nodes(label, [key]).get(key)

    @abstractmethod
    def edges(
        self,
        label: str,
        keys: Sequence[str],
        types: Sequence[str] | None = None,
        direction: Direction = "out",
    ) -> list[EdgeView]:
        """Expand a frontier: the relationships of the given types leaving (or entering) these nodes."""

    @abstractmethod
    def scan_nodes(self, label: str, batch_size: int = 10_000) -> Iterator[list[NodeView]]:
        """Every node of ``label``, in key order, one batch (one round trip) at a time."""

    @abstractmethod
    def find_nodes(self, label: str, prop: str, values: Sequence[Any]) -> list[NodeView]:
        """Nodes of ``label`` whose property ``prop`` equals one of ``values``."""

    @abstractmethod
    def clear(self) -> None:
        """Delete every node and relationship (tests and `shadowfleet reset`)."""

    def ensure_schema(self) -> None:
        """Create whatever indexes or constraints the backend needs; a no-op where none are needed."""

    def close(self) -> None:
        """Release connections and locks."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def location(self) -> str:
        """Where the data lives (a file path or a URI), for messages."""
        return self.backend

    # ---- primitives for subclasses ----------------------------------------------------------

    @abstractmethod
    def _write_rows(
        self,
        nodes: NodeGroups,
        edges: EdgeGroups,
        batch_size: int,
        *,
        atomic: bool,
        progress: ProgressFn | None,
        deletes: Deletions | None = None,
    ) -> WriteStats:
        """Remove ``deletes``, then write coalesced rows: every node group, then every edge group (in the
        same transaction when ``atomic``)."""

    # ---- shared logic -----------------------------------------------------------------------

    def _coalesce(self, records: Iterable[Record]) -> tuple[NodeGroups, EdgeGroups, list[EdgeRecord], int]:
        """Check records against the schema and merge duplicates, so each key is written once."""
        nodes: NodeGroups = defaultdict(dict)
        edges: EdgeGroups = defaultdict(dict)
        observed: list[EdgeRecord] = []
        count = 0
        for record in records:
            count += 1
            if isinstance(record, NodeRecord):
                self.schema.check_node(record.label, record.props)
                row = nodes[record.label].get(record.key)
                if row is None:
                    row = nodes[record.label][record.key] = NodeRow(record.key)
                props = row.props
                for k, v in record.props.items():
                    props[k] = list(v) if type(v) is tuple else v
                if record.provenance is not None:
                    enc = record.provenance.encode()
                    if enc not in row.prov:
                        row.prov.append(enc)
                    if record.props:
                        row.claims.extend(evidence.claims_of(record.props, enc, record.observed))
            else:
                self.schema.check_edge(record.type, record.src_label, record.dst_label, record.props)
                if record.observed is not None:
                    observed.append(record)
                    continue
                group = edges[(record.type, record.src_label, record.dst_label)]
                ident = (record.src, record.dst, record.key)
                erow = group.get(ident)
                if erow is None:
                    erow = group[ident] = EdgeRow(record.src, record.dst, record.key)
                eprops = erow.props
                for k, v in record.props.items():
                    eprops[k] = list(v) if type(v) is tuple else v
                if record.provenance is not None:
                    enc = record.provenance.encode()
                    if enc not in erow.prov:
                        erow.prov.append(enc)
        return nodes, edges, observed, count

    def _fold(
        self, observed: list[EdgeRecord], edges: EdgeGroups
    ) -> list[tuple[str, str, str, str, str, str]]:
        """Turn snapshot observations into dated periods, reading the periods already stored.

        Returns the stored periods to delete: when an observation is older than what is stored, the
        subject's periods are folded again from all their sightings (graph/history.replay), so the
        result does not depend on the order the snapshots were loaded in."""
        subject_end = {name: rel.timeline for name, rel in self.schema.relationships.items()}
        groups = group_observations(observed, subject_end)
        wanted: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        for rel_type, end, label, key in groups:
            wanted[(rel_type, end, label)].add(key)
        stored: dict[tuple[str, str, str, str], list[EdgeView]] = defaultdict(list)
        for (rel_type, end, label), keys in wanted.items():
            direction: Direction = "out" if end == "from" else "in"
            for view in self.edges(label, sorted(keys), [rel_type], direction):
                subject = view.src if end == "from" else view.dst
                stored[(rel_type, end, label, subject)].append(view)
        dropped: list[tuple[str, str, str, str, str, str]] = []
        for (rel_type, end, label, key), obs in groups.items():
            rel = self.schema.rel(rel_type)
            # Undated values a list gives besides the current one ("former" flags, aliases) are
            # history without a place on the timeline: a new observation must not close them.
            views = [v for v in stored.get((rel_type, end, label, key), []) if "status" not in v.props]
            existing = [
                Period(
                    v.dst_label if end == "from" else v.src_label,
                    v.dst if end == "from" else v.src,
                    v.key,
                    dict(v.props),
                )
                for v in views
            ]
            latest = max((p.props.get("last_seen") or "" for p in existing), default="")
            known = {s for p in existing for s in p.props.get("sightings") or ()}
            older = [o for o in obs if (o.observed or "") < latest and sighting(o) not in known]
            if rel.single_valued and older and replayable(existing):
                obs = replay(existing, rel_type, (label, key), end == "from") + list(obs)
                dropped += [(v.type, v.src_label, v.src, v.dst_label, v.dst, v.key) for v in views]
                existing = []
            if rel.single_valued:
                touched = fold_single_valued(existing, obs, subject_is_src=end == "from")
            else:
                touched = fold_multi_valued(existing, obs)
            for period in touched:
                if end == "from":
                    src_label, src, dst_label, dst = label, key, period.other_label, period.other
                else:
                    src_label, src, dst_label, dst = period.other_label, period.other, label, key
                group = edges[(rel_type, src_label, dst_label)]
                row = group.get((src, dst, period.key))
                if row is None:
                    row = group[(src, dst, period.key)] = EdgeRow(src, dst, period.key)
                row.props.update(period.props)
                for prov in period.provenance:
                    enc = prov.encode()
                    if enc not in row.prov:
                        row.prov.append(enc)
        return dropped


def merge_provenance(existing: list[str], new: Iterable[str]) -> list[str]:
    """Append new provenance entries that are not already present, keeping order."""
    out = list(existing)
    for entry in new:
        if entry not in out:
            out.append(entry)
    return out
