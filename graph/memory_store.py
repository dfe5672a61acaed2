"""The embedded default store: a networkx MultiDiGraph persisted to one local file.

Nodes are ``(label, key)`` tuples; relationships are keyed ``(type, key)`` within a node pair. The
file is replaced atomically (write to a temporary file, fsync, rename, fsync the folder), so a crash
or a kill at any moment leaves either the old graph or the new one on disk, never a torn file. A
write that fails half-way restores the graph that was there before it.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import pickle
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from graph.files import atomic_file
from graph.schema import Schema
from graph.store import (
    Counts,
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

FILE_NAME = "graph.pickle"
FORMAT_VERSION = 1


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
    """networkx-backed store persisted under a data directory (``path=None`` keeps it in memory only)."""

    backend = "memory"
    default_batch_size = 50_000

    def __init__(self, directory: Path | None, schema: Schema | None = None) -> None:
        super().__init__(schema)
        self.directory = directory
        self.graph: nx.MultiDiGraph = self._read()

    @property
    def path(self) -> Path | None:
        """The file the graph is persisted to."""
        return self.directory / FILE_NAME if self.directory else None

    @property
    def location(self) -> str:
        return str(self.path) if self.path else "memory (not persisted)"

    # ---- persistence ------------------------------------------------------------------------

    def _read(self) -> nx.MultiDiGraph:
        path = self.path
        if path is None or not path.exists():
            return nx.MultiDiGraph(format_version=FORMAT_VERSION)
        try:
            with path.open("rb") as handle:
                graph = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError) as exc:
            raise StoreUnavailable(f"cannot read the embedded graph {path}: {exc}") from exc
        if not isinstance(graph, nx.MultiDiGraph) or graph.graph.get("format_version") != FORMAT_VERSION:
            raise StoreUnavailable(f"{path} is not a shadowfleet graph file of format {FORMAT_VERSION}")
        return graph

    def _save(self) -> None:
        path = self.path
        if path is None:
            return
        with atomic_file(path, prefix=".graph-") as handle:
            pickle.dump(self.graph, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def _remove_stale_temporaries(self) -> None:
        """Delete temporary files left by a writer that was killed (we hold the lock, so none is live)."""
        if self.directory is not None:
            for stale in self.directory.glob(".graph-*.tmp"):
                stale.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold an exclusive lock on the data directory so two writers never interleave."""
        if self.directory is None:
            yield
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "graph.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # ---- writes -----------------------------------------------------------------------------

    def _write_rows(
        self,
        nodes: NodeGroups,
        edges: EdgeGroups,
        batch_size: int,
        *,
        atomic: bool,
        progress: ProgressFn | None,
    ) -> WriteStats:
        with self._locked():
            if self.path is not None:
                # Another process may have written since we opened: start from what is on disk.
                self.graph = self._read()
                self._remove_stale_temporaries()
            snapshot = self.graph.copy() if self.path is None else None
            try:
                with _gc_paused():
                    stats = self._apply(nodes, edges, progress)
                self._save()
            except BaseException:
                self.graph = snapshot if snapshot is not None else self._read()
                raise
        return stats

    def _apply(self, nodes: NodeGroups, edges: EdgeGroups, progress: ProgressFn | None) -> WriteStats:
        stats = WriteStats()
        graph = self.graph
        node_data = graph._node  # direct access: graph.nodes[...] builds a view per call
        self._check_endpoints(nodes, edges)
        for label, rows in nodes.items():
            created = 0
            for key, row in rows.items():
                attrs = node_data.get((label, key))
                if attrs is None:
                    graph.add_node((label, key), props=dict(row.props), provenance=list(row.prov))
                    created += 1
                else:
                    attrs["props"].update(row.props)
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
                else:
                    existing["props"].update(props)
                    existing["provenance"] = merge_provenance(existing["provenance"], row.prov)
            stats.edges_created += created
            stats.edges_merged += len(erows) - created
            if progress:
                progress(len(erows))
        return stats

    def _check_endpoints(self, nodes: NodeGroups, edges: EdgeGroups) -> None:
        """Fail before any change if a relationship names a node neither stored nor being written."""
        node_data = self.graph._node
        for (rel_type, src_label, dst_label), erows in edges.items():
            for row in erows.values():
                for label, key in ((src_label, row.src), (dst_label, row.dst)):
                    if (label, key) not in node_data and key not in nodes.get(label, {}):
                        raise StoreError(
                            f"{rel_type} refers to a missing node {label} {key!r}; "
                            "loaders must yield both ends of every relationship"
                        )

    # ---- reads ------------------------------------------------------------------------------

    def counts(self) -> Counts:
        nodes = Counter(label for label, _ in self.graph.nodes)
        rels = Counter(key[0] for _, _, key in self.graph.edges(keys=True))
        return Counts(dict(nodes), dict(rels))

    def get_nodes(self, label: str, keys: Sequence[str]) -> dict[str, NodeView]:
        self.schema.node(label)
        found: dict[str, NodeView] = {}
        node_data = self.graph._node
        for key in keys:
            attrs = node_data.get((label, key))
            if attrs is not None:
                found[key] = NodeView(label, key, dict(attrs["props"]), list(attrs["provenance"]))
        return found

    def scan_nodes(self, label: str, batch_size: int = 10_000) -> Iterator[list[NodeView]]:
        self.schema.node(label)
        keys = sorted(key for lbl, key in self.graph.nodes if lbl == label)
        for start in range(0, len(keys), batch_size):
            found = self.get_nodes(label, keys[start : start + batch_size])
            yield [found[k] for k in keys[start : start + batch_size]]

    def find_nodes(self, label: str, prop: str, values: Sequence[Any]) -> list[NodeView]:
        self.schema.node(label)
        wanted = set(values)
        return [
            NodeView(lbl, key, dict(attrs["props"]), list(attrs["provenance"]))
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
        with self._locked():
            self.graph = nx.MultiDiGraph(format_version=FORMAT_VERSION)
            self._save()
