"""What an export reads (the whole store or a subgraph) and what every format shares.

A :class:`GraphSource` hands out nodes and relationships in batches, so a writer streams them to its
file without holding the graph. :class:`StoreSource` reads the whole store through the narrow Store
interface (``scan_nodes`` per label, ``edges`` of each batch), one round trip per batch, so it works
on both stores; :class:`SubgraphSource` serves a subgraph already in memory.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from graph.files import atomic_file
from graph.records import Provenance
from graph.schema import Schema
from graph.store import EdgeView, NodeView, Store, StoreError

ProgressFn = Callable[[int], None]
DEFAULT_BATCH = 10_000


class ExportError(StoreError):
    """An export cannot be written; the message is one line meant for the user."""


@dataclass
class ExportStats:
    """What an export wrote: node and relationship counts, the target, and format-specific figures."""

    format: str
    target: str
    nodes: int = 0
    edges: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the terminal."""
        more = "".join(
            f", {k.replace('_', ' ')} {v:,}" for k, v in self.extra.items() if v and k != "features"
        )
        if "features" in self.extra:
            what = f"{self.extra['features']:,} features (of {self.nodes:,} events)"
        else:
            what = f"{self.nodes:,} nodes and {self.edges:,} relationships"
        return f"exported {what} as {self.format} to {self.target}{more}"


class GraphSource(Protocol):
    """The nodes and relationships to export, in batches."""

    store: Store
    schema: Schema

    def totals(self) -> tuple[int, int]:
        """Number of nodes and relationships (for progress bars)."""
        ...

    def label_counts(self) -> dict[str, int]:
        """Number of nodes by label."""
        ...

    def nodes_of(self, label: str) -> Iterator[list[NodeView]]:
        """The nodes of one label, in key order, in batches."""
        ...

    def node_batches(self) -> Iterator[list[NodeView]]:
        """Every node, label by label in key order."""
        ...

    def edge_batches(self) -> Iterator[list[EdgeView]]:
        """Every relationship, once, grouped by the label of its start node."""
        ...

    def walk(self) -> Iterator[tuple[list[NodeView], list[EdgeView]]]:
        """Nodes and relationships in one pass: each node batch with the relationships leaving it."""
        ...


def _edge_order(edge: EdgeView) -> tuple[str, str, str, str, str, str]:
    return (edge.type, edge.src_label, edge.src, edge.dst_label, edge.dst, edge.key)


class StoreSource:
    """The whole graph of a store, read label by label in batches of ``batch_size`` nodes."""

    def __init__(self, store: Store, batch_size: int = DEFAULT_BATCH) -> None:
        self.store = store
        self.schema = store.schema
        self.batch_size = batch_size

    def totals(self) -> tuple[int, int]:
        counts = self.store.counts()
        return sum(counts.nodes.values()), sum(counts.relationships.values())

    def label_counts(self) -> dict[str, int]:
        return dict(self.store.counts().nodes)

    def nodes_of(self, label: str) -> Iterator[list[NodeView]]:
        return self.store.scan_nodes(label, self.batch_size)

    def node_batches(self) -> Iterator[list[NodeView]]:
        for label in sorted(self.schema.nodes):
            yield from self.store.scan_nodes(label, self.batch_size)

    def _out_edges(self, label: str, batch: Sequence[NodeView]) -> list[EdgeView]:
        # A relationship is read once: from the batch holding its start node.
        edges = self.store.edges(label, [n.key for n in batch], None, "out")
        return sorted(edges, key=_edge_order)

    def edge_batches(self) -> Iterator[list[EdgeView]]:
        for label in sorted(self.schema.nodes):
            if not any(label in rel.sources for rel in self.schema.relationships.values()):
                continue  # no relationship starts at this label: nothing to scan
            for batch in self.store.scan_nodes(label, self.batch_size):
                edges = self._out_edges(label, batch)
                if edges:
                    yield edges

    def walk(self) -> Iterator[tuple[list[NodeView], list[EdgeView]]]:
        for label in sorted(self.schema.nodes):
            starts = any(label in rel.sources for rel in self.schema.relationships.values())
            for batch in self.store.scan_nodes(label, self.batch_size):
                yield batch, self._out_edges(label, batch) if starts else []


class SubgraphSource:
    """Nodes and relationships already in memory (a query's subgraph) of ``store``."""

    def __init__(
        self,
        store: Store,
        nodes: Sequence[NodeView],
        edges: Sequence[EdgeView],
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self.store = store
        self.schema = store.schema
        self.nodes = sorted(nodes, key=lambda n: (n.label, n.key))
        self.edges = sorted(edges, key=lambda e: (e.src_label, *_edge_order(e)))
        self.batch_size = batch_size

    def totals(self) -> tuple[int, int]:
        return len(self.nodes), len(self.edges)

    def label_counts(self) -> dict[str, int]:
        return dict(Counter(n.label for n in self.nodes))

    def nodes_of(self, label: str) -> Iterator[list[NodeView]]:
        of_label = [n for n in self.nodes if n.label == label]
        for start in range(0, len(of_label), self.batch_size):
            yield of_label[start : start + self.batch_size]

    def node_batches(self) -> Iterator[list[NodeView]]:
        for start in range(0, len(self.nodes), self.batch_size):
            yield self.nodes[start : start + self.batch_size]

    def edge_batches(self) -> Iterator[list[EdgeView]]:
        for start in range(0, len(self.edges), self.batch_size):
            yield self.edges[start : start + self.batch_size]

    def walk(self) -> Iterator[tuple[list[NodeView], list[EdgeView]]]:
        yield from ((batch, []) for batch in self.node_batches())
        yield from (([], batch) for batch in self.edge_batches())


# ---- helpers shared by the writers ----------------------------------------------------------------


def caption(schema: Schema, node: NodeView) -> str:
    """What a viewer shows for a node: its schema caption property (name, ...), else its key."""
    prop = schema.node(node.label).caption
    value = node.props.get(prop) if prop != "key" else None
    return str(value) if value not in (None, "") else node.key


def decode_provenance(entries: Sequence[str], where: str) -> list[dict[str, str]]:
    """Stored provenance strings as ``{source, record, retrieved_at}`` objects, in stored order."""
    out = []
    for entry in entries:
        try:
            prov = Provenance.decode(entry)
        except (ValueError, KeyError, TypeError):
            raise ExportError(f"{where}: unreadable provenance entry {entry[:80]!r}") from None
        out.append({"source": prov.source, "record": prov.record, "retrieved_at": prov.retrieved_at})
    return out


def provenance_json(entries: Sequence[str], where: str) -> str:
    """Provenance as one compact JSON array string (for formats without nested values)."""
    return json.dumps(decode_provenance(entries, where), ensure_ascii=False, separators=(",", ":"))


@contextlib.contextmanager
def text_output(target: Path | None) -> Iterator[TextIO]:
    """A UTF-8 text stream to ``target``, replaced crash-safely (graph/files.py); None means stdout."""
    if target is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with atomic_file(target) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
        try:
            yield text
            text.flush()
        finally:
            text.detach()  # atomic_file owns the file: it syncs and renames it


def tick(progress: ProgressFn | None, n: int) -> None:
    """Advance a progress callback when there is one."""
    if progress is not None and n:
        progress(n)
