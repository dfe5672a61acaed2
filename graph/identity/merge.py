"""Moving facts between nodes of one entity, reversibly: merge a node into another, and split it out.

A merge moves every relationship of the merged node to the surviving one, marked ``resolved_from``
(the key the source gave), and restates each of its statements there with a ``source_keys`` claim
citing the same record, so the survivor says which records called it by the merged key. A split
reads those marks back: the relationships resolved from the key return to it, and the statements of
the records that named it are withdrawn from the survivor and restated on a node of their own.
Nothing loaded is lost either way: the same statements, each with its own provenance, are moved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from graph.evidence import SEP, parse
from graph.records import EdgeRecord, NodeRecord, Provenance, Record

SOURCE_KEYS = "source_keys"
RESOLVED_FROM = "resolved_from"
EdgeId = tuple[str, str, str, str, str, str]  # type, src label, src, dst label, dst, key


class Reader(Protocol):
    """The reads the identity layer needs from a store (the narrow store interface)."""

    def edges(
        self, label: str, keys: Sequence[str], types: Sequence[str] | None = None, direction: Any = "out"
    ) -> list[Any]: ...

    def get_nodes(self, label: str, keys: Sequence[str]) -> dict[str, Any]: ...

    def find_nodes(self, label: str, prop: str, values: Sequence[Any]) -> list[Any]: ...


@dataclass
class Relocation:
    """What a move does in one write: delete these nodes and relationships, withdraw the statements of
    these records from these nodes, then write these records."""

    delete_nodes: list[tuple[str, str]] = field(default_factory=list)
    delete_edges: list[EdgeId] = field(default_factory=list)
    retract: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)

    def add(self, other: Relocation) -> None:
        """Fold another move into this one."""
        self.delete_nodes += [n for n in other.delete_nodes if n not in self.delete_nodes]
        self.delete_edges += other.delete_edges
        for node, provs in other.retract.items():
            self.retract.setdefault(node, set()).update(provs)
        self.records += other.records

    def __bool__(self) -> bool:
        return bool(self.records or self.delete_nodes or self.delete_edges or self.retract)


def restate(statement: NodeRecord, target: str, source_key: str | None) -> NodeRecord:
    """A statement about one node made about another: keyed ``target``; when the target is another
    entity key than the one the source gave, with a ``source_keys`` claim naming the key it gave."""
    props = {k: v for k, v in statement.props.items() if k != SOURCE_KEYS}
    if source_key is not None and source_key != target:
        props[SOURCE_KEYS] = (source_key,)
    elif SOURCE_KEYS in statement.props and source_key is None:
        props[SOURCE_KEYS] = statement.props[SOURCE_KEYS]
    return replace(statement, key=target, props=props)


def node_statements(view: Any) -> list[NodeRecord]:
    """A stored node back as the records that stated it: one per claim (so each value keeps exactly
    its sources), one per provenance entry that stated no property, one for unclaimed properties."""
    out: list[NodeRecord] = []
    claimed: set[str] = set()
    cited: set[str] = set()
    for claim in view.claims:
        name, _, value, prov, _ = parse(claim)
        held = claim.split(SEP, 4)[3] or None
        claimed.add(name)
        cited.add(prov)
        value = tuple(value) if isinstance(value, list) else value
        out.append(NodeRecord(view.label, view.key, {name: value}, Provenance.decode(prov), observed=held))
    rest = {k: v for k, v in view.props.items() if k not in claimed}
    if rest:
        out.append(NodeRecord(view.label, view.key, rest))
    out.extend(
        NodeRecord(view.label, view.key, {}, Provenance.decode(p)) for p in view.provenance if p not in cited
    )
    return out


def rewired(record: EdgeRecord, src: str, dst: str) -> EdgeRecord:
    """A relationship record with its ends resolved to ``src`` and ``dst``, marked ``resolved_from``
    (the key the source gave the end that changed); unchanged when neither did."""
    if (src, dst) == (record.src, record.dst):
        return record
    given = record.src if src != record.src else record.dst
    return replace(record, src=src, dst=dst, props={**record.props, RESOLVED_FROM: given})


def moved_edge(edge: Any, outgoing: bool, target: str, resolved_from: str | None) -> list[EdgeRecord]:
    """A stored relationship re-attached at the subject's end to ``target``: one record per provenance
    entry, so each keeps its own source."""
    src, dst = (target, edge.dst) if outgoing else (edge.src, target)
    props = {k: v for k, v in edge.props.items() if k != RESOLVED_FROM}
    if resolved_from is not None:
        props[RESOLVED_FROM] = resolved_from
    return [
        EdgeRecord(
            edge.type,
            edge.src_label,
            src,
            edge.dst_label,
            dst,
            edge.key,
            props,
            Provenance.decode(prov) if prov else None,
        )
        for prov in edge.provenance or [None]
    ]


def edge_id(edge: Any) -> EdgeId:
    """What identifies a stored relationship."""
    return (edge.type, edge.src_label, edge.src, edge.dst_label, edge.dst, edge.key)


ALIAS = "Alias"


def alias_key(label: str, key: str) -> str:
    """Key of the Alias node of ``key`` (graph/schema.yaml)."""
    return f"{label}:{key}"


def alias(label: str, source: str, target: str, method: str) -> NodeRecord:
    """The Alias node that sends later references to ``source`` on to ``target``."""
    return NodeRecord(
        ALIAS, alias_key(label, source), {"of_label": label, "target": target, "method": method}
    )


def merge(reader: Reader, label: str, source: str, target: str, method: str = "judgement") -> Relocation:
    """Move every fact of node ``source`` to node ``target`` (both of ``label``), delete ``source`` and
    leave an Alias, so that records naming ``source`` later resolve to ``target``."""
    move = Relocation()
    views = reader.get_nodes(label, [source])
    if source == target or source not in views:
        return move
    move.records.append(alias(label, source, target, method))
    for direction, outgoing in (("out", True), ("in", False)):
        for edge in reader.edges(label, [source], None, direction):
            move.delete_edges.append(edge_id(edge))
            move.records += moved_edge(edge, outgoing, target, edge.props.get(RESOLVED_FROM) or source)
    # A statement made under a key joined into ``source`` earlier keeps naming that key.
    for statement in node_statements(views[source]):
        kept = SOURCE_KEYS in statement.props
        move.records.append(replace(statement, key=target) if kept else restate(statement, target, source))
    move.delete_nodes.append((label, source))
    return move


def split(reader: Reader, label: str, survivor: str, source: str) -> Relocation:
    """Undo ``merge(source -> survivor)``: the facts that came from ``source`` go back to a node of
    their own, the rest stay."""
    move = Relocation()
    views = reader.get_nodes(label, [survivor])
    if survivor not in views:
        return move
    view = views[survivor]
    records: set[str] = set()
    for claim in view.claims:
        name, _, value, prov, _ = parse(claim)
        if name == SOURCE_KEYS and source in (value if isinstance(value, list) else [value]):
            records.add(prov)
    for direction, outgoing in (("out", True), ("in", False)):
        for edge in reader.edges(label, [survivor], None, direction):
            if edge.props.get(RESOLVED_FROM) == source:
                move.delete_edges.append(edge_id(edge))
                move.records += moved_edge(edge, outgoing, source, None)
    statements = [s for s in node_statements(view) if s.provenance and s.provenance.encode() in records]
    move.records += [restate(s, source, None) for s in statements if set(s.props) != {SOURCE_KEYS}]
    move.delete_nodes.append((ALIAS, alias_key(label, source)))
    if records:
        move.retract[(label, survivor)] = records
    if not statements and move.records:
        move.records.append(NodeRecord(label, source, {}))
    return move


def group_by_target(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Sources grouped by the node they merge into."""
    out: dict[str, list[str]] = defaultdict(list)
    for source, target in pairs:
        out[target].append(source)
    return out
