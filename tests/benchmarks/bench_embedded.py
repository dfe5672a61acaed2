"""Embedded-store benchmark: a small write into a large persisted graph, and a cold vessel dossier.

Run from the repository root (a script, not a pytest test; nothing here asserts on timings)::

    .venv/bin/python -m tests.benchmarks.bench_embedded --vessels 100000

What it measures, on a synthetic world persisted once in a data directory (``--cache``, reused by
later runs; building it is reported, not counted):

* **write**: ``store.write()`` of 1,000 new records (port calls of existing vessels, with their
  relationships) into the persisted graph, fresh process state each time (median of ``--repeat``),
  against the baseline in the same run: what a whole-graph file costs for the same write (read the
  whole graph, then serialise all of it again: the previous pickle store's cost model);
* **dossier**: ``shadowfleet vessel IMO --format json`` as a new process (cold start: interpreter,
  imports, opening the file, the query), median of ``--repeat``, against the baseline of the same
  dossier after loading the whole graph into networkx (what every command did before).

Each line prints the throughput or latency and the peak RSS, beside the target (issue 11).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graph.memory_store import MemoryStore
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from loaders.world import World
from tests.benchmarks.bench_ingest import machine_facts

TARGET_WRITE_SECONDS = 1.0
TARGET_DOSSIER_SECONDS = 0.3
ROOT = Path(__file__).resolve().parents[2]


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


def build(directory: Path, seed: int, vessels: int) -> dict[str, Any]:
    """The persisted world in ``directory`` (built once; a marker file records its parameters)."""
    marker = directory / "bench-world.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        if info.get("seed") == seed and info.get("vessels") == vessels:
            log(f"reusing the persisted world in {directory}")
            return info
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("graph.sqlite", "graph.sqlite-wal", "graph.sqlite-shm"):
        (directory / name).unlink(missing_ok=True)
    log(f"building the world: seed {seed}, {vessels:,} vessels")
    world = World(seed, vessels)
    records = list(world)
    store = MemoryStore(directory)
    started = time.perf_counter()
    store.write(records, atomic=False)
    seconds = time.perf_counter() - started
    imo = next(
        r.key
        for r in records
        if isinstance(r, NodeRecord) and r.label == "Vessel" and r.key.startswith("imo:")
    )
    info = {
        "seed": seed,
        "vessels": vessels,
        "records": len(records),
        "build_seconds": round(seconds, 1),
        "file_bytes": (directory / "graph.sqlite").stat().st_size,
        "sample_vessel": imo,
    }
    store.close()
    marker.write_text(json.dumps(info))
    log(f"  {len(records):,} records persisted in {seconds:.1f}s ({len(records) / seconds:,.0f} records/s)")
    return info


def new_records(vessel_keys: list[str], run: int, size: int = 1_000) -> list[Record]:
    """``size`` records: port calls (node + MADE_CALL) of existing vessels, new on every run."""
    prov = Provenance("bench", f"calls-{run}.csv#1", "2025-01-01T00:00:00Z")
    out: list[Record] = []
    i = 0
    while len(out) < size:
        vessel = vessel_keys[i % len(vessel_keys)]
        key = f"pc:bench:{run}:{i}"
        out.append(NodeRecord("PortCall", key, {"arrival": "2025-01-02T00:00:00Z"}, prov))
        out.append(EdgeRecord("MADE_CALL", "Vessel", vessel, "PortCall", key, "", {}, prov))
        i += 1
    return out[:size]


WRITER = """
import json, os, sys, time
from pathlib import Path
from graph.memory_store import MemoryStore
from tests.benchmarks.bench_embedded import new_records
from tests.benchmarks.bench_ingest import peak_rss
home, run, keys = Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
records = new_records(keys, run)
started = time.perf_counter()
store = MemoryStore(home)
store.write(records)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rss": peak_rss(os.getpid())}))
"""

BASELINE = """
import json, os, pickle, sys, tempfile, time
from pathlib import Path
from graph.memory_store import MemoryStore
from tests.benchmarks.bench_embedded import new_records
from tests.benchmarks.bench_ingest import peak_rss
home, run, keys = Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
records = new_records(keys, run)
started = time.perf_counter()
store = MemoryStore(home)
graph = store.graph  # the whole graph, as a whole-file store reads it, then the same write in memory
nodes, edges, _, _ = store._coalesce(records)
store._apply(graph, nodes, edges, None)
with tempfile.NamedTemporaryFile(dir=home, suffix=".tmp") as handle:
    pickle.dump(graph, handle, protocol=pickle.HIGHEST_PROTOCOL)
    handle.flush(); os.fsync(handle.fileno())
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rss": peak_rss(os.getpid())}))
"""

DOSSIER_FULL = """
import json, os, sys, time
from pathlib import Path
started = time.perf_counter()
from graph.memory_store import MemoryStore
from queries.engine import run_query
from tests.benchmarks.bench_ingest import peak_rss
store = MemoryStore(Path(sys.argv[1]))
store.graph  # noqa: B018 - load all of it, as before
rows = run_query(store, "vessel", {"vessel": sys.argv[2]})
print(json.dumps({"seconds": time.perf_counter() - started, "rows": len(rows), "rss": peak_rss(os.getpid())}))
"""


def child(code: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


CLI = """
import atexit, json, os, runpy, sys
from tests.benchmarks.bench_ingest import peak_rss
atexit.register(lambda: print(json.dumps({"rss": peak_rss(os.getpid())}), file=sys.stderr))
sys.argv = ["shadowfleet", *sys.argv[1:]]
runpy.run_module("shadowfleet", run_name="__main__")
"""


def timed_cli(home: Path, vessel: str) -> tuple[float, int]:
    """Wall time of ``shadowfleet vessel VESSEL --format json`` as a new process, and its peak RSS."""
    env = {**os.environ, "SHADOWFLEET_HOME": str(home), "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-c", CLI, "vessel", vessel, "--format", "json"]
    started = time.perf_counter()
    proc = subprocess.run(cli, capture_output=True, text=True, env=env, check=True)
    seconds = time.perf_counter() - started
    if not proc.stdout.strip():
        raise RuntimeError("the dossier printed no rows")
    return seconds, json.loads(proc.stderr.strip().splitlines()[-1])["rss"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vessels", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=ROOT / ".shadowfleet" / "bench-embedded")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    facts = machine_facts()
    log(f"machine: {facts['cpu']}, {facts['logical_cpus']} CPUs, load {facts['load_average_at_start']}")
    home = args.cache / f"seed{args.seed}-v{args.vessels}"
    info = build(home, args.seed, args.vessels)
    store = MemoryStore(home)
    keys = [k for batch in store.scan_nodes("Vessel", 5_000) for k in (v.key for v in batch)][:500]
    counts = store.counts().as_dict()
    store.close()
    log(
        f"graph: {counts['total_nodes']:,} nodes, {counts['total_relationships']:,} relationships, "
        f"{info['file_bytes'] / 1e6:,.0f} MB"
    )
    results: dict[str, Any] = {"machine": facts, "world": info, "counts": counts}

    base_run = int(time.time())
    writes, rss = [], []
    for i in range(args.repeat):
        figures = child(WRITER, str(home), str(base_run + i), json.dumps(keys))
        writes.append(figures["seconds"])
        rss.append(figures["rss"] or 0)
    naive = child(BASELINE, str(home), str(base_run + args.repeat), json.dumps(keys))
    write_median = statistics.median(writes)
    log(
        f"write 1,000 records: {write_median * 1000:,.0f} ms median ({1000 / write_median:,.0f} records/s), "
        f"peak RSS {max(rss) / 2**20:,.0f} MiB; target <= {TARGET_WRITE_SECONDS * 1000:.0f} ms"
    )
    log(
        f"  baseline (whole graph read and rewritten): {naive['seconds'] * 1000:,.0f} ms, "
        f"peak RSS {(naive['rss'] or 0) / 2**20:,.0f} MiB: {naive['seconds'] / write_median:,.0f}x slower"
    )
    results["write"] = {
        "median_seconds": write_median,
        "runs": writes,
        "peak_rss": max(rss),
        "baseline": naive,
    }

    vessel = info["sample_vessel"]
    cold = [timed_cli(home, vessel) for _ in range(args.repeat)]
    full = child(DOSSIER_FULL, str(home), vessel)
    cold_median = statistics.median(s for s, _ in cold)
    log(
        f"cold dossier (new process): {cold_median * 1000:,.0f} ms median, peak RSS "
        f"{max(r for _, r in cold) / 2**20:,.0f} MiB; target <= {TARGET_DOSSIER_SECONDS * 1000:.0f} ms"
    )
    log(
        f"  baseline (whole graph loaded first): {full['seconds'] * 1000:,.0f} ms, peak RSS "
        f"{(full['rss'] or 0) / 2**20:,.0f} MiB: {full['seconds'] / cold_median:,.0f}x slower"
    )
    results["dossier"] = {"median_seconds": cold_median, "runs": [s for s, _ in cold], "baseline": full}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    gc.collect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
