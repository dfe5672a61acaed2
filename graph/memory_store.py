"""The embedded default store: networkx as the query engine, persisted in one SQLite file.

Nodes are ``(label, key)`` tuples; relationships are keyed ``(type, key)`` within a node pair. On disk
the graph lives in ``graph.sqlite`` under the data directory (``graph/embedded_db.py``): a write
reads and rewrites only the rows it touches, in one SQLite transaction, so it costs O(records
written), a kill -9 leaves the state before or after it, and a failed write leaves the graph as it
was. Lookups by key, expansions and counts read the file directly; the whole graph is loaded into
networkx only when a canned query needs to walk it (``graph``), and then kept up to date by later
writes in the same process.

``MemoryStore(None)`` keeps the graph in memory only (tests, benchmarks, throw-away work).
"""

from __future__ import annotations

import contextlib
import gc
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from graph import evidence
from graph.embedded_db import FILE_NAME, EdgeTuple, FormatError, GraphFile, NodeTuple
from graph.schema import Schema
from graph.store import (
    Counts,
    Deletions,
    Direction,
    EdgeGroups,
    EdgeView,
    NodeGroups,
    NodeView,
    ProgressFn,
    Store,
    StoreError,
    StoreUnavailable,
    WriteStats,
    merge_provenance,
)

LEGACY_FILE = "graph.pickle"


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a bulk insert allocates millions of dicts it would keep
    rescanning for nothing (measured: about half the time of a large write)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class MemoryStore(Store):
    """The embedded store, persisted under a data directory (``directory=None`` keeps it in memory only)."""

    backend = "memory"
    default_batch_size = 50_000

    def __init__(self, directory: Path | None, schema: Schema | None = None) -> None:
        super().__init__(schema)
        self.directory = directory
        self._file: GraphFile | None = None
        self._graph: nx.MultiDiGraph | None = None
        self._graph_version: int | None = None
        if directory is None:
            self._graph = nx.MultiDiGraph()
        else:
            legacy = directory / LEGACY_FILE
            if legacy.exists() and not (directory / FILE_NAME).exists():
                raise StoreUnavailable(
                    f"{legacy} is a graph from an earlier shadowfleet (a pickle, which this version never "
                    "opens); reload your sources into a new SHADOWFLEET_HOME, or move the file away"
                )
            try:
                indexed = {p for node in self.schema.nodes.values() for p in node.indexes}
                self._file = GraphFile(directory / FILE_NAME, indexed)
            except FormatError as exc:
                raise StoreUnavailable(str(exc)) from exc

    @property
    def path(self) -> Path | None:
        """The file the graph is persisted to."""
        return self._file.path if self._file else None

    @property
    def location(self) -> str:
        return str(self.path) if self.path else "memory (not persisted)"

    @property
    def persisted(self) -> bool:
        """True when the graph lives in a file (reads then go to the file, not to networkx)."""
        return self._file is not None

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The whole graph in networkx, for the canned queries that walk it (loaded on first use)."""
        if self._file is None:
            assert self._graph is not None
            return self._graph
        version = self._file.data_version()
        if self._graph is None or self._graph_version != version:
            self._graph = self._load_graph(self._file)
            self._graph_version = version
        return self._graph

    def local_graph(self, label: str, keys: Sequence[str], through: Collection[str]) -> nx.MultiDiGraph:
        """The neighbourhood of some nodes as a small networkx graph: the nodes, every relationship
        touching them and the nodes at the other end; for those of a label in ``through`` (events a
        dossier describes), their relationships and other ends too. Reads only those rows."""
        if self._file is None or self._graph is not None:
            return self.graph
        graph = nx.MultiDiGraph()
        frontier: dict[str, set[str]] = {label: set(keys)}
        seen: set[tuple[str, str]] = set()
        for depth in range(2):
            by_label: dict[str, set[str]] = {}
            for lbl, lkeys in frontier.items():
                todo = sorted(k for k in lkeys if (lbl, k) not in seen)
                seen.update((lbl, k) for k in todo)
                for direction in ("out", "in"):
                    for edge in self._file.edges_from(lbl, todo, None, direction):
                        self._add_edge_tuple(graph, edge)
                        other = (edge[3], edge[4]) if direction == "out" else (edge[0], edge[1])
                        if depth == 0 and other[0] in through:
                            by_label.setdefault(other[0], set()).add(other[1])
            frontier = by_label
        wanted: dict[str, list[str]] = {}
        for lbl, key in graph.nodes:
            wanted.setdefault(lbl, []).append(key)
        for lbl, lkeys in frontier.items():
            wanted.setdefault(lbl, []).extend(lkeys)
        for lbl, key in seen:
            wanted.setdefault(lbl, []).append(key)
        for lbl, lkeys in wanted.items():
            for _, key, props, prov, claims in self._file.nodes(lbl, sorted(set(lkeys))).values():
                graph.add_node((lbl, key), props=props, provenance=prov, claims=claims)
        return graph

    @staticmethod
    def _add_edge_tuple(graph: nx.MultiDiGraph, edge: EdgeTuple) -> None:
        sl, s, t, dl, d, k, props, prov = edge
        graph.add_edge((sl, s), (dl, d), key=(t, k), props=props, provenance=prov)

    def _load_graph(self, file: GraphFile) -> nx.MultiDiGraph:
        graph = nx.MultiDiGraph()
        with _gc_paused():
            node_data = graph._node
            for label, key, props, prov, claims in file.all_nodes():
                graph.add_node((label, key), props=props, provenance=prov, claims=claims)
            for edge in file.all_edges():
                sl, s, t, dl, d, _, _, _ = edge
                if (sl, s) not in node_data or (dl, d) not in node_data:
                    raise StoreUnavailable(f"{file.path}: a {t} relationship refers to a missing node")
                self._add_edge_tuple(graph, edge)
        return graph

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    # ---- writes -----------------------------------------------------------------------------

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
        if self._file is None:
            assert self._graph is not None
            # A write records what it changes and undoes exactly that if it fails, so its cost is its
            # records, not the graph. The rare write that deletes (an identity move) copies instead.
            snapshot = self._graph.copy() if deletes else None
            undo = _Undo()
            try:
                with _gc_paused():
                    if deletes:
                        self._delete_in_graph(self._graph, deletes)
                    return self._apply(self._graph, nodes, edges, progress, undo)
            except BaseException:
                if snapshot is not None:
                    self._graph = snapshot
                else:
                    undo.revert(self._graph)
                raise
        # Persisted: one SQLite transaction (atomic) or one per group (bulk). The in-memory graph, if
        # this process loaded it, is dropped and re-read on next use rather than patched twice.
        file = self._file
        file.begin()
        try:
            with _gc_paused():
                if deletes:
                    self._delete_in_file(file, deletes)
                stats = self._write_file(file, nodes, edges, progress, commit_each=not atomic)
            file.commit()
        except BaseException:
            file.rollback()
            raise
        finally:
            self._graph = None
        return stats

    @staticmethod
    def _delete_in_graph(graph: nx.MultiDiGraph, deletes: Deletions) -> None:
        for rel_type, src_label, src, dst_label, dst, key in deletes.edges:
            if graph.has_edge((src_label, src), (dst_label, dst), (rel_type, key)):
                graph.remove_edge((src_label, src), (dst_label, dst), (rel_type, key))
        node_data = graph._node
        for node, records in deletes.retract.items():
            attrs = node_data.get(node)
            if attrs is not None:
                props, prov, claims = evidence.retract(
                    attrs["props"], attrs["provenance"], attrs["claims"], records
                )
                attrs.update(props=props, provenance=prov, claims=claims)
        for node in deletes.nodes:
            if node in graph:
                graph.remove_node(node)

    @staticmethod
    def _delete_in_file(file: GraphFile, deletes: Deletions) -> None:
        by_label: dict[str, list[str]] = {}
        for label, key in deletes.retract:
            by_label.setdefault(label, []).append(key)
        rows: list[NodeTuple] = []
        for label, keys in by_label.items():
            for _, key, props, prov, claims in file.nodes(label, keys).values():
                rows.append(
                    (label, key, *evidence.retract(props, prov, claims, deletes.retract[(label, key)]))
                )
        file.put_nodes(rows)
        file.delete(deletes.nodes, deletes.edges)

    def _write_file(
        self,
        file: GraphFile,
        nodes: NodeGroups,
        edges: EdgeGroups,
        progress: ProgressFn | None,
        *,
        commit_each: bool,
    ) -> WriteStats:
        stats = WriteStats()
        self._check_endpoints_in_file(file, nodes, edges)
        for label, rows in nodes.items():
            stored = file.nodes(label, list(rows))
            out: list[NodeTuple] = []
            for key, row in rows.items():
                old = stored.get(key)
                if old is None:
                    props, claims = row.resolve(None)
                    out.append((label, key, dict(props), list(row.prov), claims))
                else:
                    new_props, claims = row.resolve(old[4])
                    props = old[2]
                    props.update(new_props)
                    out.append((label, key, props, merge_provenance(old[3], row.prov), claims))
            file.put_nodes(out)
            created = len(rows) - len(stored)
            stats.nodes_created += created
            stats.nodes_merged += len(stored)
            if created:
                stats.created_by_label[label] = stats.created_by_label.get(label, 0) + created
            if progress:
                progress(len(rows))
            if commit_each:
                file.commit()
                file.begin()
        for (rel_type, src_label, dst_label), erows in edges.items():
            srcs = sorted({row.src for row in erows.values()})
            stored_edges = {
                (e[1], e[4], e[5]): e for e in file.edges_between(rel_type, src_label, dst_label, srcs)
            }
            eout: list[EdgeTuple] = []
            merged = 0
            for ident, row in erows.items():
                props = {k: v for k, v in row.props.items() if v is not None}
                old_edge = stored_edges.get(ident)
                if old_edge is None:
                    eout.append(
                        (src_label, row.src, rel_type, dst_label, row.dst, row.key, props, list(row.prov))
                    )
                else:
                    merged += 1
                    old_props = old_edge[6]
                    old_props.update(props)
                    eout.append(
                        (
                            src_label,
                            row.src,
                            rel_type,
                            dst_label,
                            row.dst,
                            row.key,
                            old_props,
                            merge_provenance(old_edge[7], row.prov),
                        )
                    )
            file.put_edges(eout)
            stats.edges_created += len(erows) - merged
            stats.edges_merged += merged
            if progress:
                progress(len(erows))
            if commit_each:
                file.commit()
                file.begin()
        return stats

    def _apply(
        self,
        graph: nx.MultiDiGraph,
        nodes: NodeGroups,
        edges: EdgeGroups,
        progress: ProgressFn | None,
        undo: _Undo | None = None,
    ) -> WriteStats:
        stats = WriteStats()
        node_data = graph._node  # direct access: graph.nodes[...] builds a view per call
        self._check_endpoints(nodes, edges, lambda label, key: (label, key) in node_data)
        for label, rows in nodes.items():
            created = 0
            for key, row in rows.items():
                attrs = node_data.get((label, key))
                if attrs is None:
                    props, claims = row.resolve(None)
                    graph.add_node((label, key), props=dict(props), provenance=list(row.prov), claims=claims)
                    created += 1
                    if undo is not None:
                        undo.new_nodes.append((label, key))
                else:
                    if undo is not None:
                        undo.changed.append((attrs, dict(attrs)))
                        attrs["props"] = dict(attrs["props"])
                    props, attrs["claims"] = row.resolve(attrs["claims"])
                    attrs["props"].update(props)
                    attrs["provenance"] = merge_provenance(attrs["provenance"], row.prov)
            stats.nodes_created += created
            stats.nodes_merged += len(rows) - created
            if created:
                stats.created_by_label[label] = stats.created_by_label.get(label, 0) + created
            if progress:
                progress(len(rows))
        for (rel_type, src_label, dst_label), erows in edges.items():
            created = 0
            for row in erows.values():
                src, dst = (src_label, row.src), (dst_label, row.dst)
                edge_key = (rel_type, row.key)
                existing = graph.get_edge_data(src, dst, edge_key)
                props = {k: v for k, v in row.props.items() if v is not None}
                if existing is None:
                    graph.add_edge(src, dst, key=edge_key, props=props, provenance=list(row.prov))
                    created += 1
                    if undo is not None:
                        undo.new_edges.append((src, dst, edge_key))
                else:
                    if undo is not None:
                        undo.changed.append((existing, dict(existing)))
                        existing["props"] = dict(existing["props"])
                    existing["props"].update(props)
                    existing["provenance"] = merge_provenance(existing["provenance"], row.prov)
            stats.edges_created += created
            stats.edges_merged += len(erows) - created
            if progress:
                progress(len(erows))
        return stats

    @staticmethod
    def _check_endpoints(nodes: NodeGroups, edges: EdgeGroups, stored: Any) -> None:
        """Fail before any change if a relationship names a node neither stored nor being written."""
        for (rel_type, src_label, dst_label), erows in edges.items():
            for row in erows.values():
                for label, key in ((src_label, row.src), (dst_label, row.dst)):
                    if key not in nodes.get(label, {}) and not stored(label, key):
                        raise _missing(rel_type, label, key)

    @staticmethod
    def _check_endpoints_in_file(file: GraphFile, nodes: NodeGroups, edges: EdgeGroups) -> None:
        wanted: dict[str, set[str]] = {}
        for (_, src_label, dst_label), erows in edges.items():
            for row in erows.values():
                for label, key in ((src_label, row.src), (dst_label, row.dst)):
                    if key not in nodes.get(label, {}):
                        wanted.setdefault(label, set()).add(key)
        for label, keys in wanted.items():
            missing = keys - file.existing_keys(label, sorted(keys))
            if missing:
                rel_type = next(
                    t
                    for (t, sl, dl), erows in edges.items()
                    for row in erows.values()
                    if (sl == label and row.src in missing) or (dl == label and row.dst in missing)
                )
                raise _missing(rel_type, label, min(missing))

    # ---- reads ------------------------------------------------------------------------------

    def counts(self) -> Counts:
        if self._file is not None:
            return Counts(self._file.node_counts(), self._file.edge_counts())
        graph = self.graph
        nodes = Counter(label for label, _ in graph.nodes)
        rels = Counter(key[0] for _, _, key in graph.edges(keys=True))
        return Counts(dict(nodes), dict(rels))

    def get_nodes(self, label: str, keys: Sequence[str]) -> dict[str, NodeView]:
        self.schema.node(label)
        if self._file is not None:
            return {
                key: NodeView(label, key, props, prov, claims)
                for key, (_, _, props, prov, claims) in self._file.nodes(label, list(keys)).items()
            }
        found: dict[str, NodeView] = {}
        node_data = self.graph._node
        for key in keys:
            attrs = node_data.get((label, key))
            if attrs is not None:
                found[key] = NodeView(
                    label, key, dict(attrs["props"]), list(attrs["provenance"]), list(attrs["claims"])
                )
        return found

    def scan_nodes(self, label: str, batch_size: int = 10_000) -> Iterator[list[NodeView]]:
        self.schema.node(label)
        if self._file is not None:
            keys = self._file.scan_keys(label)
        else:
            keys = sorted(key for lbl, key in self.graph.nodes if lbl == label)
        for start in range(0, len(keys), batch_size):
            found = self.get_nodes(label, keys[start : start + batch_size])
            yield [found[k] for k in keys[start : start + batch_size]]

    def find_nodes(self, label: str, prop: str, values: Sequence[Any]) -> list[NodeView]:
        node = self.schema.node(label)
        if self._file is not None:
            if prop not in node.properties:
                raise StoreError(f"{label} has no property {prop!r} in the schema")
            return [NodeView(*node) for node in self._file.find(label, prop, values)]
        wanted = set(values)
        return [
            NodeView(lbl, key, dict(attrs["props"]), list(attrs["provenance"]), list(attrs["claims"]))
            for (lbl, key), attrs in self.graph.nodes(data=True)
            if lbl == label and attrs["props"].get(prop) in wanted
        ]

    def edges(
        self,
        label: str,
        keys: Sequence[str],
        types: Sequence[str] | None = None,
        direction: Direction = "out",
    ) -> list[EdgeView]:
        self.schema.node(label)
        wanted = set(types) if types is not None else None
        if wanted:
            for rel_type in wanted:
                self.schema.rel(rel_type)
        if self._file is not None:
            return [
                EdgeView(t, sl, s, dl, d, k, props, prov)
                for sl, s, t, dl, d, k, props, prov in self._file.edges_from(
                    label, list(keys), sorted(wanted) if wanted is not None else None, direction
                )
            ]
        out: list[EdgeView] = []
        graph = self.graph
        adjacency = graph._succ if direction == "out" else graph._pred
        for key in keys:
            node = (label, key)
            neighbours: Mapping[Any, Any] | None = adjacency.get(node)
            if not neighbours:
                continue
            for other, keyed in neighbours.items():
                for (rel_type, edge_key), data in keyed.items():
                    if wanted is not None and rel_type not in wanted:
                        continue
                    src, dst = (node, other) if direction == "out" else (other, node)
                    out.append(
                        EdgeView(
                            rel_type,
                            src[0],
                            src[1],
                            dst[0],
                            dst[1],
                            edge_key,
                            dict(data["props"]),
                            list(data["provenance"]),
                        )
                    )
        return out

    def clear(self) -> None:
        if self._file is not None:
            self._file.clear()
            self._graph = None
        else:
            self._graph = nx.MultiDiGraph()


class _Undo:
    """What an in-memory write changed, to revert it: nodes and edges it created, and the attribute
    dicts it changed with their contents before (props dicts are copied before they change)."""

    def __init__(self) -> None:
        self.new_nodes: list[tuple[str, str]] = []
        self.new_edges: list[tuple[Any, Any, Any]] = []
        self.changed: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def revert(self, graph: nx.MultiDiGraph) -> None:
        for attrs, before in reversed(self.changed):
            attrs.clear()
            attrs.update(before)
        for src, dst, key in reversed(self.new_edges):
            if graph.has_edge(src, dst, key):
                graph.remove_edge(src, dst, key)
        for node in reversed(self.new_nodes):
            if node in graph:
                graph.remove_node(node)


def _missing(rel_type: str, label: str, key: str) -> StoreError:
    return StoreError(
        f"{rel_type} refers to a missing node {label} {key!r}; "
        "loaders must yield both ends of every relationship"
    )
