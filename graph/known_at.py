"""The graph as it was known at a date: only facts retrieved by then (``--known-at``).

``as_of`` asks when a fact held (valid time); ``known_at`` asks when we knew it (the retrieval time of
the records that state it). A backtest needs the second: "would we have flagged this tanker before it
was designated?" is every query run on the graph of the facts retrieved by that day.

The view is a projection into an in-memory store, built through the narrow store interface (so it
works the same on both stores), on which any canned query runs unchanged (the embedded
implementations return the same rows as the Cypher; the parity tests hold them to it):

* a node or relationship is kept when one of its provenance entries was retrieved on or before the
  day (a reference table's entries, with no retrieval time, always are), with only those entries;
* a node's properties are recomputed from the claims of those records (graph/evidence.py), so a
  value first stated later is absent, and one restated later falls back to what was known;
* a relationship is kept only if both its ends are.

It reads the whole graph: it is for backtests and audits, not for every query. A join the identity
layer made from a tie retrieved after the day (an MMSI tied to its hull later) stays joined in the
view; the facts themselves are filtered by their own records.
"""

from __future__ import annotations

from graph import evidence
from graph.memory_store import MemoryStore
from graph.records import Provenance
from graph.store import Deletions, EdgeRow, NodeRow, Store


def _known(entry: str, day: str) -> bool:
    retrieved = Provenance.decode(entry).retrieved_at
    return not retrieved or retrieved[:10] <= day


def known_at(store: Store, day: str, batch_size: int = 10_000) -> MemoryStore:
    """An in-memory store holding what ``store`` knew on ``day`` (YYYY-MM-DD), by retrieval time."""
    view = MemoryStore(None, store.schema)
    nodes: dict[str, dict[str, NodeRow]] = {}
    kept: set[tuple[str, str]] = set()
    cache: dict[str, bool] = {}

    def known(entry: str) -> bool:
        if entry not in cache:
            cache[entry] = _known(entry, day)
        return cache[entry]

    for label in sorted(store.schema.nodes):
        rows: dict[str, NodeRow] = {}
        for batch in store.scan_nodes(label, batch_size):
            for node in batch:
                prov = [p for p in node.provenance if known(p)]
                if node.provenance and not prov:
                    continue
                claims = [c for c in node.claims if known(evidence.parse(c)[3])]
                claimed = {evidence.parse(c)[0] for c in node.claims}
                props = {k: v for k, v in node.props.items() if k not in claimed}
                props.update(evidence.current_values(claims))
                rows[node.key] = NodeRow(node.key, props, prov, claims)
                kept.add((label, node.key))
        if rows:
            nodes[label] = rows
    edges: dict[tuple[str, str, str], dict[tuple[str, str, str], EdgeRow]] = {}
    for label, rows in nodes.items():
        keys = sorted(rows)
        for start in range(0, len(keys), batch_size):
            for edge in store.edges(label, keys[start : start + batch_size], None, "out"):
                if (edge.dst_label, edge.dst) not in kept:
                    continue
                prov = [p for p in edge.provenance if known(p)]
                if edge.provenance and not prov:
                    continue
                group = edges.setdefault((edge.type, edge.src_label, edge.dst_label), {})
                group[(edge.src, edge.dst, edge.key)] = EdgeRow(
                    edge.src, edge.dst, edge.key, dict(edge.props), prov
                )
    view._write_rows(nodes, edges, batch_size, atomic=True, progress=None, deletes=Deletions())
    return view
