"""Export benchmark: nodes+relationships per second, CPU seconds and peak memory of `shadowfleet export`.

Run from the repository root (a script, not a pytest test; nothing here asserts on timings)::

    .venv/bin/python -m tests.benchmarks.bench_export --vessels 5000

One synthetic world (loaders/world.py, fixed seed) is written to an in-memory embedded store, then
the whole graph is exported in every format through StoreSource (set-at-a-time, streamed). In the
same run two naive baselines: JSON lines written with one round trip per node (get_node and edges of
each node alone), and GraphML through networkx (the graph materialised as a networkx graph, then
``nx.write_graphml``). With ``--neo4j`` the same exports run against a private Neo4j server
(``--bolt-port``/``--http-port``, default 27687/27474, temporary home reusing the installed jars),
never the shared one, after one unmeasured warm-up export. The load average is printed beside the
figures.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import psutil
from rich.console import Console
from rich.table import Table

from graph.memory_store import MemoryStore
from graph.store import Store
from loaders.world import World
from shadowfleet.exports import FORMATS, StoreSource
from shadowfleet.exports.jsonl import edge_line, node_line

console = Console(stderr=True, highlight=False)


@dataclass
class Result:
    """One measured export."""

    store: str
    step: str
    items: int
    seconds: float
    cpu_seconds: float
    peak_rss_delta: int
    output_bytes: int

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def _peak_during(fn: Callable[[], Any]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of this process, and the RSS peak above the start (sampled)."""
    me = psutil.Process()
    gc.collect()
    start_rss = me.memory_info().rss
    peak = [start_rss]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], me.memory_info().rss)

    thread = threading.Thread(target=sample, daemon=True)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    thread.start()
    try:
        fn()
    finally:
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        stop.set()
        thread.join()
    peak[0] = max(peak[0], me.memory_info().rss)
    return seconds, cpu, peak[0] - start_rss


def naive_jsonl(store: Store, path: Path, limit: int) -> int:
    """Baseline: one round trip per node (get_node, then its own outgoing relationships), for the first
    ``limit`` nodes of each label; returns the nodes and relationships written."""
    import json

    written = 0
    with path.open("w", encoding="utf-8") as out:
        for label in sorted(store.schema.nodes):
            keys = [v.key for v in next(iter(store.scan_nodes(label, limit)), [])]
            for key in keys:
                node = store.get_node(label, key)
                assert node is not None
                out.write(json.dumps(node_line(node), ensure_ascii=False) + "\n")
                written += 1
                for edge in store.edges(label, [key]):
                    out.write(json.dumps(edge_line(edge), ensure_ascii=False) + "\n")
                    written += 1
    return written


def naive_graphml(store: Store, path: Path) -> None:
    """Baseline: materialise a networkx graph of plain attributes, then nx.write_graphml."""
    import json

    graph = nx.MultiDiGraph()
    source = StoreSource(store)
    for batch in source.node_batches():
        for n in batch:
            attrs = {k: json.dumps(v) if isinstance(v, list) else v for k, v in n.props.items()}
            graph.add_node(
                f"{n.label}:{n.key}", type=n.label, key=n.key, provenance=json.dumps(n.provenance), **attrs
            )
    for batch in source.edge_batches():
        for e in batch:
            attrs = {k: json.dumps(v) if isinstance(v, list) else v for k, v in e.props.items()}
            graph.add_edge(
                f"{e.src_label}:{e.src}",
                f"{e.dst_label}:{e.dst}",
                rel_type=e.type,
                rel_key=e.key,
                provenance=json.dumps(e.provenance),
                **attrs,
            )
    nx.write_graphml(graph, path)


def measure(store: Store, name: str, folder: Path, items: int, naive_limit: int) -> list[Result]:
    import importlib

    results = []
    if name != "memory":
        # A fresh server compiles every query shape and warms its JIT on first use: export once unmeasured.
        console.print(f"{name}: warm-up (jsonl and geojson, not measured)")
        for warm in ("jsonl", "geojson"):
            importlib.import_module(FORMATS[warm][0]).write(StoreSource(store), folder / f"warm-{warm}")
    for fmt, (module_name, default_name) in sorted(FORMATS.items()):
        module = importlib.import_module(module_name)
        target = folder / f"{name}-{default_name}"
        source = StoreSource(store)
        count = (
            items if fmt != "geojson" else sum(source.label_counts().get(lbl, 0) for lbl in _events(store))
        )
        console.print(f"{name}: export --format {fmt}")
        seconds, cpu, peak = _peak_during(lambda m=module, t=target, s=source: m.write(s, t))
        size = _size(target)
        results.append(Result(name, f"export {fmt}", count, seconds, cpu, peak, size))
    console.print(f"{name}: baseline GraphML through networkx")
    target = folder / f"{name}-naive.graphml"
    seconds, cpu, peak = _peak_during(lambda: naive_graphml(store, target))
    results.append(Result(name, "baseline: nx.write_graphml", items, seconds, cpu, peak, _size(target)))
    console.print(f"{name}: baseline JSON lines, one round trip per node (first {naive_limit:,} per label)")
    target = folder / f"{name}-naive.jsonl"
    written: list[int] = []
    seconds, cpu, peak = _peak_during(lambda: written.append(naive_jsonl(store, target, naive_limit)))
    step = "baseline: jsonl, a round trip per node (sample)"
    results.append(Result(name, step, written[0], seconds, cpu, peak, _size(target)))
    return results


def _events(store: Store) -> list[str]:
    from shadowfleet.exports.geojson import event_labels

    return event_labels(store.schema)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir())
    return path.stat().st_size if path.exists() else 0


def neo4j_store(records: list[Any], home: Path, bolt: int, http: int) -> tuple[Any, Any]:
    """A private Neo4j server in ``home`` (reusing the installed jars) loaded with ``records``."""
    from graph.neo4j_server import Neo4jServer, default_home
    from graph.neo4j_store import Neo4jStore

    installed = Neo4jServer(default_home())
    if not installed.is_installed():
        raise SystemExit(f"no Neo4j installed in {installed.home}; run `shadowfleet neo4j start` once")
    home.mkdir(parents=True, exist_ok=True)
    (home / "lib").symlink_to(installed.lib_dir)
    server = Neo4jServer(home, bolt_port=bolt, http_port=http, heap="1g", pagecache="512m")
    server.start(timeout=600)
    store = Neo4jStore(uri=server.bolt_uri)
    store.write(records, atomic=False)
    return server, store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_export", description=__doc__)
    parser.add_argument("--vessels", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--neo4j", action="store_true", help="also export from a private Neo4j server")
    parser.add_argument("--bolt-port", type=int, default=27687)
    parser.add_argument("--http-port", type=int, default=27474)
    parser.add_argument(
        "--naive-limit", type=int, default=2_000, help="nodes per label in the per-node baseline"
    )
    args = parser.parse_args(argv)
    load0 = os.getloadavg()
    world = World(args.seed, args.vessels)
    records = list(world)
    counts = world.counts().as_dict()
    items = counts["total_nodes"] + counts["total_relationships"]
    console.print(
        f"world: seed {args.seed}, {args.vessels:,} vessels: {counts['total_nodes']:,} nodes, "
        f"{counts['total_relationships']:,} relationships; load average {[round(x, 2) for x in load0]}"
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="sf-bench-export-") as tmp:
        folder = Path(tmp)
        memory = MemoryStore(None)
        memory.write(records, atomic=False)
        results += measure(memory, "memory", folder, items, args.naive_limit)
        del memory
        gc.collect()
        if args.neo4j:
            server, store = neo4j_store(records, folder / "neo4j", args.bolt_port, args.http_port)
            try:
                results += measure(store, "neo4j", folder, items, args.naive_limit)
            finally:
                store.close()
                server.stop()
    load1 = os.getloadavg()
    table = Table(title=f"Export: {counts['total_nodes']:,} nodes + {counts['total_relationships']:,} rels")
    for column in ("store", "step", "items", "seconds", "CPU s", "items/s", "peak RSS +MiB", "output MiB"):
        table.add_column(column, justify="left" if column in ("store", "step") else "right")
    for r in results:
        table.add_row(
            r.store,
            r.step,
            f"{r.items:,}",
            f"{r.seconds:.2f}",
            f"{r.cpu_seconds:.2f}",
            f"{r.rate:,.0f}",
            f"{r.peak_rss_delta / 2**20:.0f}",
            f"{r.output_bytes / 2**20:.1f}",
        )
    out = Console(highlight=False, width=160)
    out.print(table)
    out.print(
        f"load average {[round(x, 2) for x in load0]} -> {[round(x, 2) for x in load1]}; "
        f"{os.cpu_count()} logical CPUs; peak RSS of the process "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; "
        f"python {sys.version.split()[0]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
