"""The subgraph behind a canned query's findings: the nodes its rows name, and what explains them.

The rule, the same for every query (no query declares anything):

1. **Key columns are inferred.** Every string in the rows (a cell, or an item of a list cell) is looked
   up as a node key under every label, one round trip per label. A column is a *key column* when each
   of its non-empty strings is the key of some node: supply-chains' ``supplier``, ``receiver``,
   ``vessels`` and ``transfers``, dossiers' ``subject`` and ``other``, identity-changes' ``value``...
   A column of names, dates or free text is not (one string that is not a key is enough), so a name
   that happens to equal a key elsewhere is never taken for one. A string that is a key under several
   labels names each of those nodes.
2. **Named nodes** are the nodes the key columns name.
3. **One hop out.** Every relationship of a named node, in either direction, comes along with the node
   at its other end: identity (names, flags, MMSIs, call signs), owners and managers, sanctions,
   anomalies, events (STS transfers, port calls, AIS gaps, loitering). Two limits keep the picture
   readable: a *hub* node (``hub: true`` in graph/schema.yaml, i.e. Country) is never expanded, and a
   named node with more than ``max_degree`` relationships is not expanded either (it keeps only its
   relationships to the other nodes of the picture; :attr:`Subgraph.capped` lists it).
4. **Events bring their place**: an event node (``event: true`` in the schema) reached by the hop also
   brings the nodes it points to (a port call's Port), so the picture can be put on a map.
5. **Relationships among them**: every relationship between two nodes of the picture is included.

:func:`query_subgraph` runs a query and returns the nodes and relationships; :func:`rows_subgraph`
does the same for rows already in hand (the case-file report), and :func:`explain_query` returns the
full :class:`Subgraph` (which nodes were named, which columns held keys, which nodes were capped).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.store import Direction, EdgeView, NodeView, Store
from queries.engine import run_query

#: A named node with more relationships than this is not expanded (see rule 3).
DEFAULT_MAX_DEGREE = 500
_LOOKUP_BATCH = 10_000

NodeId = tuple[str, str]
EdgeId = tuple[str, str, str, str, str, str]


@dataclass(frozen=True)
class Subgraph:
    """Nodes and relationships explaining some query rows, and how they were chosen."""

    nodes: list[NodeView]
    edges: list[EdgeView]
    #: (label, key) of the nodes the rows name, sorted.
    named: list[NodeId] = field(default_factory=list)
    #: Query name -> the columns found to hold node keys, in column order.
    key_columns: dict[str, list[str]] = field(default_factory=dict)
    #: (label, key) of named nodes left unexpanded because they have more than max_degree relationships.
    capped: list[NodeId] = field(default_factory=list)


def edge_id(edge: EdgeView) -> EdgeId:
    """What makes two relationship views the same relationship."""
    return (edge.type, edge.src_label, edge.src, edge.dst_label, edge.dst, edge.key)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        if value:
            yield value
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, str) and item:
                yield item


def find_keys(
    store: Store, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None
) -> tuple[list[str], dict[NodeId, NodeView]]:
    """The key columns of ``rows`` (rule 1) and the nodes they name, fetched from ``store``."""
    names = list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    values: dict[str, set[str]] = {c: set() for c in names}
    for row in rows:
        for column in names:
            values[column].update(_strings(row.get(column)))
    candidates = sorted(set().union(*values.values())) if values else []
    owners: dict[str, list[NodeView]] = defaultdict(list)
    for label in sorted(store.schema.nodes):
        for start in range(0, len(candidates), _LOOKUP_BATCH):
            for key, view in store.get_nodes(label, candidates[start : start + _LOOKUP_BATCH]).items():
                owners[key].append(view)
    key_columns = [c for c in names if values[c] and all(v in owners for v in values[c])]
    named: dict[NodeId, NodeView] = {}
    for column in key_columns:
        for value in values[column]:
            for view in owners[value]:
                named[(view.label, view.key)] = view
    return key_columns, named


def _edges_of(store: Store, ids: Iterable[NodeId], direction: Direction) -> list[EdgeView]:
    by_label: dict[str, list[str]] = defaultdict(list)
    for label, key in sorted(set(ids)):
        by_label[label].append(key)
    out: list[EdgeView] = []
    for label, keys in by_label.items():
        for start in range(0, len(keys), _LOOKUP_BATCH):
            out.extend(store.edges(label, keys[start : start + _LOOKUP_BATCH], None, direction))
    return out


def expand(store: Store, named: Mapping[NodeId, NodeView], max_degree: int = DEFAULT_MAX_DEGREE) -> Subgraph:
    """Rules 3-5: the named nodes with their neighbourhood, fetched set-at-a-time."""
    schema = store.schema
    expandable = [n for n in named if not schema.node(n[0]).hub]
    touching: dict[NodeId, list[EdgeView]] = defaultdict(list)
    for edge in _edges_of(store, expandable, "out"):
        touching[(edge.src_label, edge.src)].append(edge)
    for edge in _edges_of(store, expandable, "in"):
        touching[(edge.dst_label, edge.dst)].append(edge)
    capped = sorted(n for n, edges in touching.items() if len(edges) > max_degree)
    capped_set = set(capped)
    edges: dict[EdgeId, EdgeView] = {}
    for node, linked in touching.items():
        if node not in capped_set:
            for edge in linked:
                edges[edge_id(edge)] = edge
    members: set[NodeId] = set(named)
    for edge in edges.values():
        members.add((edge.src_label, edge.src))
        members.add((edge.dst_label, edge.dst))
    # Rule 4: events reached by the hop bring what they point to (a port call's port).
    events = [n for n in members - set(named) if schema.node(n[0]).event]
    for edge in _edges_of(store, events, "out"):
        edges[edge_id(edge)] = edge
        members.add((edge.dst_label, edge.dst))
    # Rule 5: relationships among the members. Uncapped named nodes already gave all of theirs; any
    # other relationship between two members leaves one of the remaining members.
    rest = [n for n in members if n not in named or n in capped_set]
    for edge in _edges_of(store, rest, "out"):
        if (edge.dst_label, edge.dst) in members:
            edges[edge_id(edge)] = edge
    for node in capped:
        for edge in touching[node]:
            if (edge.src_label, edge.src) in members and (edge.dst_label, edge.dst) in members:
                edges[edge_id(edge)] = edge
    views: dict[NodeId, NodeView] = dict(named)
    missing: dict[str, list[str]] = defaultdict(list)
    for label, key in sorted(members - set(views)):
        missing[label].append(key)
    for label, keys in missing.items():
        for start in range(0, len(keys), _LOOKUP_BATCH):
            for key, view in store.get_nodes(label, keys[start : start + _LOOKUP_BATCH]).items():
                views[(label, key)] = view
    return Subgraph(
        nodes=[views[n] for n in sorted(views)],
        edges=[edges[e] for e in sorted(edges)],
        named=sorted(named),
        capped=capped,
    )


def rows_subgraph(
    store: Store,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    query: str = "rows",
    max_degree: int = DEFAULT_MAX_DEGREE,
) -> Subgraph:
    """The subgraph explaining ``rows`` (of the query called ``query``, for the record)."""
    key_columns, named = find_keys(store, rows, columns)
    sub = expand(store, named, max_degree)
    return Subgraph(sub.nodes, sub.edges, sub.named, {query: key_columns}, sub.capped)


def explain_query(
    store: Store,
    query_name: str,
    params: Mapping[str, Any] | None = None,
    *,
    max_degree: int = DEFAULT_MAX_DEGREE,
) -> Subgraph:
    """Run the canned query ``query_name`` and return the subgraph of its rows, with the details."""
    from queries.registry import get  # lazily: the query layer sits on top of the stores

    spec = get(query_name)
    rows = run_query(store, query_name, params)
    return rows_subgraph(store, rows, spec.column_names, query=query_name, max_degree=max_degree)


def query_subgraph(
    store: Store,
    query_name: str,
    params: Mapping[str, Any] | None = None,
    *,
    max_degree: int = DEFAULT_MAX_DEGREE,
) -> tuple[list[NodeView], list[EdgeView]]:
    """Run the canned query ``query_name`` with ``params`` and return the nodes and relationships that
    explain its findings (see the module docstring for the rule), sorted by label/type and key."""
    sub = explain_query(store, query_name, params, max_degree=max_degree)
    return sub.nodes, sub.edges


def merge(subgraphs: Iterable[Subgraph]) -> Subgraph:
    """The union of several subgraphs (each node and relationship once)."""
    nodes: dict[NodeId, NodeView] = {}
    edges: dict[EdgeId, EdgeView] = {}
    named: set[NodeId] = set()
    capped: set[NodeId] = set()
    key_columns: dict[str, list[str]] = {}
    for sub in subgraphs:
        nodes.update(((n.label, n.key), n) for n in sub.nodes)
        edges.update((edge_id(e), e) for e in sub.edges)
        named.update(sub.named)
        capped.update(sub.capped)
        key_columns.update(sub.key_columns)
    return Subgraph(
        nodes=[nodes[n] for n in sorted(nodes)],
        edges=[edges[e] for e in sorted(edges)],
        named=sorted(named),
        key_columns=key_columns,
        capped=sorted(capped),
    )
