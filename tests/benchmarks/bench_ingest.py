"""Ingest benchmark: records per second and peak memory for loading a synthetic world into each store.

Run from the repository root (a script, not a pytest test; nothing here asserts on timings)::

    .venv/bin/python -m tests.benchmarks.bench_ingest --store both --vessels 22000

What it measures, on one pre-materialised world (the generation time is reported but not counted):

* memory store: one ``store.write(records, atomic=False)``, in memory and persisted to a temporary
  folder; the same records in 50k-record ``write()`` calls; a per-record ``write()`` baseline on a
  sample; raw networkx ``add_nodes_from``/``add_edges_from`` of the same rows for reference.
* Neo4j: ``store.write(records, atomic=False, batch_size=B)`` for each B (5k, 10k, 20k by default);
  one atomic (single-transaction) write; a baseline of one auto-commit ``MERGE`` per record through the
  driver on a sample; and the bulk path: CSV files in the ``neo4j-admin database import full`` layout,
  server stop, import, restart, constraints and indexes, count. The bulk path needs the local server
  (``shadowfleet neo4j start``, data under ``.shadowfleet/neo4j``); against any other server it is
  reported as skipped.

The Neo4j database is cleared before and after (``store.clear()``): never point this at data you keep.
Targets (docs: style-and-performance B7, L1-L3) are printed beside the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import logging
import os
import platform
import pstats
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psutil
from rich.console import Console
from rich.table import Table

from graph.records import EdgeRecord, NodeRecord, Record, plain
from graph.schema import Schema
from graph.store import Counts, Store, StoreError, StoreUnavailable
from loaders.world import World
from shadowfleet.exports.neo4j_csv import write_import_csv

TARGET_MEMORY = 120_000  # records/s, L3
TARGET_NEO4J = 20_000  # records/s, L1
TARGET_NEO4J_RATIO = 50  # x the per-record baseline, L1
TARGET_BULK_RATIO = 5  # x the driver path end to end, L2
GIB = 1024**3

console = Console(stderr=True, highlight=False)


def log(message: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}")


# ---- measurement helpers -----------------------------------------------------------------------


@dataclass
class Result:
    """One measured (or skipped) step."""

    store: str
    step: str
    records: int = 0
    seconds: float = 0.0
    client_peak_rss: int | None = None
    server_peak_rss: int | None = None
    server_cpu_pct: float | None = None
    client_cpu_pct: float | None = None
    target: str = ""
    status: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["records_per_s"] = round(self.rate, 1)
        return out


class Sampler:
    """Samples this process's RSS (and a server process's RSS and CPU time) while a step runs."""

    def __init__(self, server_pid: int | None = None, interval: float = 0.1) -> None:
        self.me = psutil.Process()
        self.server = _process(server_pid)
        self.interval = interval
        self.client_start = 0
        self.client_peak = 0
        self.server_peak: int | None = None
        self.server_cpu_pct: float | None = None
        self.client_cpu_pct: float | None = None
        self.seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        self.client_peak = max(self.client_peak, self.me.memory_info().rss)
        if self.server is not None:
            try:
                self.server_peak = max(self.server_peak or 0, self.server.memory_info().rss)
            except psutil.Error:
                self.server = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Sampler:
        gc.collect()
        self.client_start = self.me.memory_info().rss
        self._sample()
        self._cpu0 = _cpu_seconds(self.server)
        self._own0 = _cpu_seconds(self.me, children=False)
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0
        self._stop.set()
        self._thread.join()
        self._sample()
        cpu1 = _cpu_seconds(self.server)
        own1 = _cpu_seconds(self.me, children=False)
        if self._own0 is not None and own1 is not None and self.seconds > 0:
            self.client_cpu_pct = 100.0 * (own1 - self._own0) / self.seconds
        if self._cpu0 is not None and cpu1 is not None and self.seconds > 0:
            self.server_cpu_pct = 100.0 * (cpu1 - self._cpu0) / self.seconds

    def fill(self, result: Result) -> Result:
        result.seconds = self.seconds
        result.client_peak_rss = self.client_peak
        result.server_peak_rss = self.server_peak
        result.server_cpu_pct = self.server_cpu_pct
        result.client_cpu_pct = self.client_cpu_pct
        result.detail.setdefault("client_rss_before", self.client_start)
        return result


def _process(pid: int | None) -> psutil.Process | None:
    if pid is None:
        return None
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def _cpu_seconds(proc: psutil.Process | None, children: bool = True) -> float | None:
    if proc is None:
        return None
    try:
        times = proc.cpu_times()
    except psutil.Error:
        return None
    total = times.user + times.system
    if children:
        total += getattr(times, "children_user", 0) + getattr(times, "children_system", 0)
    return total


def peak_rss(pid: int | None) -> int | None:
    """Peak RSS (VmHWM) of a process since it started."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def machine_facts() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import neo4j
    import networkx

    return {
        "cpu": model,
        "logical_cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "ram_gib": round(psutil.virtual_memory().total / GIB, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "networkx": networkx.__version__,
        "neo4j_driver": neo4j.__version__,
    }


def baseline_sample(seed: int, size: int) -> tuple[list[Record], Counts]:
    """A small, complete world of at least ``size`` records (so every edge has its ends)."""
    vessels = max(1, size // 45)
    while True:
        world = World(seed, vessels)
        records = list(world)
        if len(records) >= size:
            return records, world.counts()
        vessels += max(1, (size - len(records)) // 40)


def check_counts(store: Store, expected: Counts, result: Result) -> None:
    got = store.counts()
    if got != expected:
        want = expected.as_dict()
        have = got.as_dict()
        result.status = (
            f"count mismatch: {have['total_nodes']} nodes / {have['total_relationships']} rels, "
            f"expected {want['total_nodes']} / {want['total_relationships']}"
        )


# ---- memory store ------------------------------------------------------------------------------


def bench_memory(
    records: list[Record],
    counts: Counts,
    sample: list[Record],
    sample_counts: Counts,
    *,
    repeat: int,
    chunk: int,
    profile: str | None,
) -> list[Result]:
    from graph.memory_store import MemoryStore

    results: list[Result] = []
    target = f">= {TARGET_MEMORY:,} rec/s"

    runs: list[Result] = []
    for n in range(repeat):
        log(f"memory: one write() of {len(records):,} records (run {n + 1}/{repeat})")
        store = MemoryStore(None)
        result = Result("memory", "write(all, atomic=False), in memory", len(records), target=target)
        with Sampler() as sampler:
            store.write(records, atomic=False)
        sampler.fill(result)
        check_counts(store, counts, result)
        runs.append(result)
        log(f"  {result.rate:,.0f} records/s in {result.seconds:.1f}s")
        del store
        gc.collect()
    best = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]  # the median run
    best.detail["runs_seconds"] = [round(r.seconds, 3) for r in runs]
    results.append(best)

    if profile:
        log("memory: profiling one write() with cProfile")
        store = MemoryStore(None)
        profiler = cProfile.Profile()
        profiler.enable()
        store.write(records, atomic=False)
        profiler.disable()
        profiler.dump_stats(profile)
        stats = pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime")
        stats.print_stats(25)
        del store
        gc.collect()

    with tempfile.TemporaryDirectory(prefix="sf-bench-mem-") as tmp:
        log("memory: one write() persisted to disk (SQLite, one transaction)")
        store = MemoryStore(Path(tmp))
        result = Result("memory", "write(all, atomic=False), persisted", len(records), target=target)
        with Sampler() as sampler:
            store.write(records, atomic=False)
        sampler.fill(result)
        check_counts(store, counts, result)
        result.detail["file_bytes"] = (Path(tmp) / "graph.sqlite").stat().st_size
        results.append(result)
        log(f"  {result.rate:,.0f} records/s in {result.seconds:.1f}s")
        del store
        gc.collect()

    log(f"memory: write() per {chunk:,}-record chunk, in memory")
    store = MemoryStore(None)
    result = Result(
        "memory", f"write() per {chunk // 1000}k-record chunk, in memory", len(records), target=target
    )
    with Sampler() as sampler:
        for start in range(0, len(records), chunk):
            store.write(records[start : start + chunk], atomic=False)
    sampler.fill(result)
    check_counts(store, counts, result)
    results.append(result)
    log(f"  {result.rate:,.0f} records/s in {result.seconds:.1f}s")
    del store
    gc.collect()

    log(f"memory: per-record write() baseline on a {len(sample):,}-record sample")
    store = MemoryStore(None)
    naive = Result("memory", "baseline: one write() per record (sample)", len(sample))
    with Sampler() as sampler:
        for record in sample:
            store.write([record], atomic=False)
    sampler.fill(naive)
    check_counts(store, sample_counts, naive)
    results.append(naive)
    log(f"  {naive.rate:,.0f} records/s")
    store = MemoryStore(None)
    same = Result("memory", "write(sample, atomic=False), in memory", len(sample))
    with Sampler() as sampler:
        store.write(sample, atomic=False)
    sampler.fill(same)
    results.append(same)
    del store

    results.append(bench_raw_networkx(records))
    return results


def bench_raw_networkx(records: list[Record]) -> Result:
    """Reference: the same rows straight into networkx, without schema checks or merging."""
    import networkx as nx

    log("memory: raw networkx add_nodes_from + add_edges_from (reference)")
    nodes = [
        (
            (r.label, r.key),
            {"props": dict(r.props), "provenance": [r.provenance.encode()] if r.provenance else []},
        )
        for r in records
        if isinstance(r, NodeRecord)
    ]
    edges = [
        (
            (r.src_label, r.src),
            (r.dst_label, r.dst),
            (r.type, r.key),
            {"props": dict(r.props), "provenance": [r.provenance.encode()] if r.provenance else []},
        )
        for r in records
        if isinstance(r, EdgeRecord)
    ]
    result = Result("memory", "reference: raw networkx add_*_from", len(records))
    with Sampler() as sampler:
        graph = nx.MultiDiGraph()
        graph.add_nodes_from(nodes)
        graph.add_edges_from(edges)
    sampler.fill(result)
    result.detail["edges_per_s"] = round(len(edges) / result.seconds, 1)
    log(f"  {result.rate:,.0f} records/s ({len(edges) / result.seconds:,.0f} edges/s)")
    return result


# ---- Neo4j ---------------------------------------------------------------------------------------


def _is_local(uri: str) -> bool:
    return (urlparse(uri).hostname or "") in ("127.0.0.1", "localhost", "::1")


def find_server_pid(uri: str, pid_file: Path | None = None) -> int | None:
    """The pid of the Neo4j JVM listening on the URI's port on this machine, if any."""
    if not _is_local(uri):
        return None
    port = urlparse(uri).port or 7687
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if "CommunityEntryPoint" not in cmdline and "neo4j" not in cmdline.lower():
            continue
        try:
            for conn in proc.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                    return proc.pid
        except psutil.Error:
            continue
    if pid_file is not None:
        try:
            return int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
    return None


def other_clients(uri: str, server_pid: int | None) -> list[int]:
    """Pids of other local processes with a connection open to the server's Bolt port."""
    if not _is_local(uri):
        return []
    port = urlparse(uri).port or 7687
    mine = {os.getpid(), server_pid}
    try:
        conns = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return []
    return sorted(
        {
            c.pid
            for c in conns
            if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED and c.pid not in mine
        }
    )


def open_neo4j(uri: str, wait: float) -> Store:
    from graph.neo4j_store import Neo4jStore

    deadline = time.monotonic() + wait
    while True:
        try:
            return Neo4jStore(uri=uri)
        except StoreUnavailable as exc:
            if time.monotonic() >= deadline:
                raise
            log(f"neo4j: not answering yet ({exc}); retrying in 30 s")
            time.sleep(30)


def naive_neo4j(store: Any, sample: list[Record]) -> None:
    """One auto-commit MERGE per record through the driver (labels and types come from the schema)."""
    schema: Schema = store.schema
    node_q: dict[str, str] = {}
    edge_q: dict[tuple[str, str, str], str] = {}
    prov_set = (
        "SET x.provenance = coalesce(x.provenance, []) + "
        "[p IN $prov WHERE NOT p IN coalesce(x.provenance, [])]"
    )
    with store.driver.session(database=store.database) as session:
        for r in sample:
            prov = [r.provenance.encode()] if r.provenance else []
            props = {k: plain(v) for k, v in r.props.items()}
            if isinstance(r, NodeRecord):
                query = node_q.get(r.label)
                if query is None:
                    schema.node(r.label)
                    query = node_q[r.label] = f"MERGE (x:{r.label} {{key: $key}}) SET x += $props {prov_set}"
                session.run(query, key=r.key, props=props, prov=prov).consume()
            else:
                group = (r.type, r.src_label, r.dst_label)
                query = edge_q.get(group)
                if query is None:
                    schema.check_edge(r.type, r.src_label, r.dst_label, {})
                    query = edge_q[group] = (
                        f"MATCH (a:{r.src_label} {{key: $src}}) MATCH (b:{r.dst_label} {{key: $dst}}) "
                        f"MERGE (a)-[x:{r.type} {{key: $key}}]->(b) SET x += $props {prov_set}"
                    )
                session.run(query, src=r.src, dst=r.dst, key=r.key, props=props, prov=prov).consume()


def apply_rel_key_indexes(store: Any, mode: str) -> int:
    """Keep the store's relationship key indexes, or drop them (diagnostic: see BENCHMARKS.md)."""
    names = [
        r["name"]
        for r in store._read(
            "SHOW INDEXES YIELD name, entityType WHERE entityType = 'RELATIONSHIP' RETURN name"
        )
    ]
    if mode == "drop":
        with store.driver.session(database=store.database) as session:
            for name in names:
                session.run(f"DROP INDEX `{name}` IF EXISTS").consume()
        log(f"neo4j: dropped {len(names)} relationship key indexes (--rel-key-indexes drop)")
        return 0
    return len(names)


def timed_clear(store: Store) -> float:
    t0 = time.perf_counter()
    store.clear()
    return time.perf_counter() - t0


def bench_neo4j(
    records: list[Record],
    counts: Counts,
    sample: list[Record],
    sample_counts: Counts,
    args: argparse.Namespace,
) -> tuple[list[Result], dict[str, Any]]:
    uri = args.neo4j_uri
    home = Path(args.neo4j_home).absolute()
    info: dict[str, Any] = {"uri": uri}
    results: list[Result] = []
    log(f"neo4j: connecting to {uri}")
    store = open_neo4j(uri, args.wait_neo4j)
    pid = find_server_pid(uri, home / "run" / "neo4j.pid")
    info["server_pid"] = pid
    deadline = time.monotonic() + args.wait_neo4j
    while (others := other_clients(uri, pid)) and not args.force:
        if time.monotonic() >= deadline:
            store.close()
            raise StoreUnavailable(
                f"other processes are connected to {uri} (pids {others}); this benchmark clears the "
                "database, so it waits for them (--wait-neo4j) or runs anyway with --force"
            )
        log(f"neo4j: other clients connected (pids {others}); waiting")
        time.sleep(30)
    rows = store._read("CALL dbms.components() YIELD name, versions RETURN name, versions[0] AS version")
    info["server_version"] = rows[0]["version"] if rows else "?"
    info["server_rss_at_start"] = _process(pid).memory_info().rss if _process(pid) else None
    log(f"neo4j: server {info['server_version']} pid {pid}; clearing and creating the schema")
    info["clear_seconds"] = [round(timed_clear(store), 1)]
    store.ensure_schema()
    info["rel_key_indexes"] = apply_rel_key_indexes(store, args.rel_key_indexes)

    log("neo4j: warm-up (the sample, batched; untimed)")
    store.write(sample, atomic=False)
    timed_clear(store)

    log(f"neo4j: baseline, one auto-commit MERGE per record, {len(sample):,} records")
    naive = Result("neo4j", "baseline: auto-commit MERGE per record (sample)", len(sample))
    with Sampler(pid) as sampler:
        naive_neo4j(store, sample)
    sampler.fill(naive)
    check_counts(store, sample_counts, naive)
    results.append(naive)
    log(f"  {naive.rate:,.0f} records/s")
    timed_clear(store)
    same = Result("neo4j", "write(sample, atomic=False, 10k batches)", len(sample))
    with Sampler(pid) as sampler:
        store.write(sample, atomic=False, batch_size=10_000)
    sampler.fill(same)
    check_counts(store, sample_counts, same)
    results.append(same)
    log(f"  same sample batched: {same.rate:,.0f} records/s")
    timed_clear(store)

    driver_runs: list[Result] = []
    for batch in args.batch_sizes:
        log(f"neo4j: write(all, atomic=False, batch_size={batch:,}) of {len(records):,} records")
        result = Result(
            "neo4j",
            f"write(all, atomic=False, batch_size={batch // 1000}k)",
            len(records),
            target=f">= {TARGET_NEO4J:,} rec/s and >= {TARGET_NEO4J_RATIO}x baseline",
        )
        result.detail["batch_size"] = batch
        with Sampler(pid) as sampler:
            store.write(records, atomic=False, batch_size=batch)
        sampler.fill(result)
        check_counts(store, counts, result)
        result.detail["ratio_to_baseline"] = round(result.rate / naive.rate, 1) if naive.rate else None
        driver_runs.append(result)
        results.append(result)
        log(
            f"  {result.rate:,.0f} records/s in {result.seconds:.1f}s ({result.detail['ratio_to_baseline']}x)"
        )
        info["clear_seconds"].append(round(timed_clear(store), 1))
    best = max(driver_runs, key=lambda r: r.rate if r.status == "ok" else 0.0)
    best.detail["best"] = True
    info["best_batch_size"] = best.detail["batch_size"]

    if args.atomic:
        batch = best.detail["batch_size"]
        log(f"neo4j: atomic write(all, atomic=True, batch_size={batch:,}): one transaction")
        result = Result("neo4j", f"write(all, atomic=True, batch_size={batch // 1000}k)", len(records))
        try:
            with Sampler(pid) as sampler:
                store.write(records, atomic=True, batch_size=batch)
            sampler.fill(result)
            check_counts(store, counts, result)
            log(f"  {result.rate:,.0f} records/s in {result.seconds:.1f}s")
        except StoreError as exc:
            sampler.fill(result)
            result.status = f"failed: {' '.join(str(exc).split())[:200]}"
            log(f"  {result.status}")
        results.append(result)
        info["clear_seconds"].append(round(timed_clear(store), 1))

    if args.bulk:
        bulk, store, pid = bench_bulk(records, counts, store, home, best, args)
        results.append(bulk)
        info["server_pid_after_bulk"] = pid
    info["clear_seconds"].append(round(timed_clear(store), 1))
    if args.rel_key_indexes == "drop":  # leave the schema as the store makes it
        store._schema_ready = False
        store.ensure_schema()
    info["server_rss_at_end"] = _process(pid).memory_info().rss if _process(pid) else None
    info["server_rss_hwm"] = peak_rss(pid)
    store.close()
    return results, info


# ---- bulk import -----------------------------------------------------------------------------------
# The CSV writer (write_import_csv) lives in shadowfleet/exports/neo4j_csv.py, shared with
# `shadowfleet export`.


def bench_bulk(
    records: list[Record],
    counts: Counts,
    store: Any,
    home: Path,
    best: Result,
    args: argparse.Namespace,
) -> tuple[Result, Any, int | None]:
    """CSV, stop, neo4j-admin import, start, schema, count: end to end, against the driver path."""
    from graph.neo4j_server import Neo4jServer, Neo4jServerError
    from graph.neo4j_store import Neo4jStore

    uri = args.neo4j_uri
    result = Result(
        "neo4j",
        "bulk: CSV + neo4j-admin import (end to end)",
        len(records),
        target=f">= {TARGET_BULK_RATIO}x the driver path",
    )
    port = urlparse(uri).port or 7687
    server = Neo4jServer(home, bolt_port=port, http_port=args.neo4j_http_port)
    pid = find_server_pid(uri, home / "run" / "neo4j.pid")
    if not hasattr(server, "admin_import"):
        result.status = "skipped: graph.neo4j_server has no admin_import yet"
    elif not _is_local(uri):
        result.status = f"skipped: {uri} is not a local server this benchmark can stop and restart"
    elif not server.is_running() or (pid is not None and server.status()["pid"] != pid):
        result.status = (
            f"skipped: the server at {uri} is not the local one in {home} (`shadowfleet neo4j start`)"
        )
    if result.status != "ok":
        log(f"neo4j bulk: {result.status}")
        return result, store, pid

    tmp = Path(tempfile.mkdtemp(prefix="sf-bench-import-"))
    phases: dict[str, float] = {}
    try:
        log(f"neo4j bulk: writing import CSV under {tmp}")
        with Sampler() as sampler:
            files = write_import_csv(records, tmp)
        phases["csv_write"] = sampler.seconds
        result.client_peak_rss = sampler.client_peak
        result.detail["csv_bytes"] = files.bytes
        result.detail["csv_files"] = len(files.nodes) + len(files.relationships)
        store.close()
        log("neo4j bulk: stopping the server")
        t0 = time.perf_counter()
        server.stop()
        phases["server_stop"] = time.perf_counter() - t0
        log("neo4j bulk: neo4j-admin database import full")
        t0 = time.perf_counter()
        proc = None
        try:
            proc = server.admin_import(files.admin_args(store.database, tmp / "import.report"))
        finally:
            phases["import"] = time.perf_counter() - t0
            log("neo4j bulk: starting the server")
            t0 = time.perf_counter()
            server.start(timeout=300)
            phases["server_start"] = time.perf_counter() - t0
        result.detail["import_jvm_peak_rss"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        if proc is None or proc.returncode != 0:
            tail = " | ".join(((proc.stdout + proc.stderr) if proc else "").strip().splitlines()[-5:])
            result.status = (
                f"failed: neo4j-admin import exited {proc.returncode if proc else '?'}: {tail[:300]}"
            )
        summary = [ln for ln in (proc.stdout if proc else "").splitlines() if "IMPORT DONE" in ln]
        result.detail["import_summary"] = summary[-1].strip() if summary else ""
        store = Neo4jStore(uri=uri)
        pid = find_server_pid(uri, home / "run" / "neo4j.pid")
        log("neo4j bulk: creating constraints and indexes on the imported graph")
        t0 = time.perf_counter()
        store.ensure_schema()
        apply_rel_key_indexes(store, args.rel_key_indexes)
        phases["constraints_and_indexes"] = time.perf_counter() - t0
        if result.status == "ok":
            check_counts(store, counts, result)
            keyless = store._read("MATCH ()-[r:LOCATED_IN]->() WHERE r.key IS NULL RETURN count(r) AS n")[0][
                "n"
            ]
            if keyless:
                result.status = f"failed: {keyless} relationships imported without their empty key"
    except (Neo4jServerError, StoreError, OSError, ValueError) as exc:
        result.status = f"failed: {' '.join(str(exc).split())[:300]}"
        if not server.is_running():
            server.start(timeout=300)
        store = Neo4jStore(uri=uri)
        pid = find_server_pid(uri, home / "run" / "neo4j.pid")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result.seconds = sum(phases.values())
    result.server_peak_rss = peak_rss(pid)
    result.detail["phases_seconds"] = {k: round(v, 2) for k, v in phases.items()}
    if result.status == "ok" and best.rate:
        result.detail["ratio_to_driver"] = round(result.rate / best.rate, 2)
    log(
        f"  {result.status}: {result.rate:,.0f} records/s end to end; "
        f"phases {result.detail['phases_seconds']}"
    )
    return result, store, pid


# ---- report ----------------------------------------------------------------------------------------


def _gib(n: int | None) -> str:
    return "" if n is None else f"{n / GIB:.2f}"


def _verdict(result: Result, naive: dict[str, Result], driver_best: Result | None) -> str:
    if result.status != "ok" or not result.target:
        return ""
    if result.store == "memory":
        return "met" if result.rate >= TARGET_MEMORY else "missed"
    if result.step.startswith("bulk"):
        if driver_best is None or not driver_best.rate:
            return ""
        return "met" if result.rate >= TARGET_BULK_RATIO * driver_best.rate else "missed"
    base = naive.get("neo4j")
    ok = result.rate >= TARGET_NEO4J and (base is None or result.rate >= TARGET_NEO4J_RATIO * base.rate)
    return "met" if ok else "missed"


def _short(status: str) -> str:
    """A one-line status for the table (the JSON and the detail lines keep it whole)."""
    if "dbms.memory.transaction.total.max" in status:
        return "failed: over dbms.memory.transaction.total.max"
    return status if len(status) <= 60 else status[:57] + "..."


def report(results: Sequence[Result], world: dict[str, Any], out: Console) -> None:
    naive = {r.store: r for r in results if r.step.startswith("baseline")}
    driver = [r for r in results if r.store == "neo4j" and r.detail.get("batch_size") and r.status == "ok"]
    driver_best = max(driver, key=lambda r: r.rate) if driver else None
    table = Table(title=f"Ingest: {world['records']:,} records ({world['nodes']:,} nodes, "
                  f"{world['relationships']:,} relationships)")  # fmt: skip
    columns = ["store", "step", "records", "seconds", "records/s", "× baseline", "client peak GiB"]
    columns += ["client CPU %", "server peak GiB", "server CPU %", "target", "verdict / status"]
    for column in columns:
        table.add_column(column, justify="right" if column not in ("store", "step", "target") else "left")
    for r in results:
        base = naive.get(r.store)
        ratio = f"{r.rate / base.rate:,.1f}" if base and base.rate and r is not base and r.rate else ""
        if r.step.startswith("bulk") and driver_best and r.status == "ok":
            ratio = f"{r.rate / driver_best.rate:.2f}× driver"
        status = _verdict(r, naive, driver_best) if r.status == "ok" else _short(r.status)
        if r.status != "ok":
            ratio = ""
        table.add_row(
            r.store,
            r.step,
            f"{r.records:,}",
            f"{r.seconds:.2f}" if r.seconds else "",
            f"{r.rate:,.0f}" if r.seconds and r.status == "ok" else "",
            ratio,
            _gib(r.client_peak_rss),
            f"{r.client_cpu_pct:.0f}" if r.client_cpu_pct is not None else "",
            _gib(r.server_peak_rss),
            f"{r.server_cpu_pct:.0f}" if r.server_cpu_pct is not None else "",
            r.target,
            status,
        )
    out.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_ingest", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--store", choices=("memory", "neo4j", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--vessels", type=int, default=22_000, help="world size (22,000: 267k nodes, 529k rels)"
    )
    parser.add_argument("--companies", type=int)
    parser.add_argument("--persons", type=int)
    parser.add_argument("--events", type=int)
    parser.add_argument("--sample", type=int, default=2_000, help="records in the per-record baseline sample")
    parser.add_argument(
        "--batch-sizes", default="5000,10000,20000", help="Neo4j batch sizes, comma-separated"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of the in-memory write (median reported)")
    parser.add_argument(
        "--chunk", type=int, default=50_000, help="records per write() in the chunked memory run"
    )
    parser.add_argument("--profile", metavar="PSTATS", help="cProfile one memory write into this file")
    parser.add_argument(
        "--no-atomic", dest="atomic", action="store_false", help="skip the Neo4j atomic write"
    )
    parser.add_argument(
        "--no-bulk", dest="bulk", action="store_false", help="skip the neo4j-admin import path"
    )
    parser.add_argument("--neo4j-uri", default=os.environ.get("NEO4J_URI") or "bolt://127.0.0.1:7687")
    parser.add_argument(
        "--neo4j-home",
        default=str(Path(os.environ.get("SHADOWFLEET_HOME") or ".shadowfleet") / "neo4j"),
        help="home of the local server (for its pid and the bulk import); default .shadowfleet/neo4j",
    )
    parser.add_argument("--neo4j-http-port", type=int, default=7474)
    parser.add_argument(
        "--rel-key-indexes",
        choices=("keep", "drop"),
        default="keep",
        help="keep the store's relationship key indexes (as shipped) or drop them after ensure_schema()",
    )
    parser.add_argument(
        "--force", action="store_true", help="clear the Neo4j database even while other clients are connected"
    )
    parser.add_argument(
        "--wait-neo4j",
        type=float,
        default=0.0,
        help="seconds to wait for Bolt to answer and other clients to leave",
    )
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="leave the pre-materialised input records to the cyclic garbage collector",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON ('-' for stdout)")
    args = parser.parse_args(argv)
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    # The server's notifications (deprecations, unknown labels in counts()) are not what we measure.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)

    facts = machine_facts()
    log(
        f"machine: {facts['cpu']}, {facts['logical_cpus']} logical CPUs, {facts['ram_gib']} GiB RAM, "
        f"load average {facts['load_average_at_start']}"
    )
    if facts["load_average_at_start"][0] > (facts["logical_cpus"] or 1):
        log("[yellow]warning: the machine is busy; figures will understate both stores[/yellow]")
    log(f"generating the world: seed {args.seed}, {args.vessels:,} vessels")
    world = World(args.seed, args.vessels, args.companies, args.persons, args.events)
    rss0 = psutil.Process().memory_info().rss
    t0 = time.perf_counter()
    records = list(world)
    gen_seconds = time.perf_counter() - t0
    counts = world.counts()
    totals = counts.as_dict()
    world_info = {
        "params": asdict(world.params),
        "records": len(records),
        "nodes": totals["total_nodes"],
        "relationships": totals["total_relationships"],
        "counts": totals,
        "generate_seconds": round(gen_seconds, 2),
        "materialised_rss_bytes": psutil.Process().memory_info().rss - rss0,
    }
    log(
        f"  {len(records):,} records = {totals['total_nodes']:,} nodes + "
        f"{totals['total_relationships']:,} relationships in {gen_seconds:.1f}s "
        f"({len(records) / gen_seconds:,.0f} records/s; "
        f"{world_info['materialised_rss_bytes'] / GIB:.2f} GiB held)"
    )
    sample, sample_counts = baseline_sample(args.seed, args.sample)
    sample_totals = sample_counts.as_dict()
    world_info["sample"] = {
        "records": len(sample),
        "nodes": sample_totals["total_nodes"],
        "relationships": sample_totals["total_relationships"],
    }
    log(
        f"  baseline sample: {len(sample):,} records (a complete {sample_totals['total_nodes']:,}-node world)"
    )

    results: list[Result] = []
    neo4j_info: dict[str, Any] | None = None
    if args.store in ("memory", "both"):
        results += bench_memory(
            records, counts, sample, sample_counts, repeat=args.repeat, chunk=args.chunk, profile=args.profile
        )
    if args.store in ("neo4j", "both"):
        try:
            neo_results, neo4j_info = bench_neo4j(records, counts, sample, sample_counts, args)
            results += neo_results
        except StoreUnavailable as exc:
            results.append(Result("neo4j", "all Neo4j steps", status=f"skipped: {exc}"))
            log(f"neo4j: skipped: {exc}")
    facts["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    facts["client_peak_rss_lifetime"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    out = Console(highlight=False, width=200)
    report(results, world_info, out)
    out.print(
        f"world: seed {args.seed}, {args.vessels:,} vessels; generated in {gen_seconds:.1f}s; "
        f"machine: {facts['logical_cpus']} CPUs ({facts['cpu']}), {facts['ram_gib']} GiB, load average "
        f"{facts['load_average_at_start']} -> {facts['load_average_at_end']}; gc.freeze {args.gc_freeze}; "
        f"python {facts['python']}, networkx {facts['networkx']}, neo4j driver {facts['neo4j_driver']}"
        + (
            f", Neo4j {neo4j_info['server_version']}, relationship key indexes: {args.rel_key_indexes}"
            if neo4j_info
            else ""
        )
    )
    for r in results:
        extra = {k: v for k, v in r.detail.items() if k not in ("client_rss_before",)}
        if r.status != "ok":
            extra["status"] = r.status
        if extra:
            out.print(f"  {r.store} / {r.step}: {json.dumps(extra, default=str)}")
    if args.json:
        doc = {
            "machine": facts,
            "world": world_info,
            "neo4j": neo4j_info,
            "results": [r.as_dict() for r in results],
            "targets": {
                "memory_records_per_s": TARGET_MEMORY,
                "neo4j_records_per_s": TARGET_NEO4J,
                "neo4j_ratio_to_baseline": TARGET_NEO4J_RATIO,
                "bulk_ratio_to_driver": TARGET_BULK_RATIO,
            },
        }
        text = json.dumps(doc, indent=2, default=str)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
