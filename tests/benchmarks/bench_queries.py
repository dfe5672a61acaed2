"""Canned-query latency on a generated world (issue 4 §6): p50/p95 per query and store, with a baseline.

Run from the repository root (a script, not a pytest test; nothing here asserts on timings)::

    .venv/bin/python -m tests.benchmarks.bench_queries --store both --vessels 100000

The world (default seed 1: 100,000 vessels, 200,000 companies, 1,000,000 events) is built once per
store and cached (see tests/benchmarks/query_world.py): the embedded store as an SQLite graph under
``--cache``, Neo4j in a private server under ``--neo4j-home`` on ``--bolt-port``/``--http-port``
(17687/17474 by default; never the shared development server), loaded with ``neo4j-admin import``.

For every canned query (queries/*.yaml) and store it runs ``--warmup`` untimed and ``--runs`` timed
calls of ``queries.engine.run_query`` (what the CLI runs: the query plus result shaping and, on Neo4j,
the transfer of every row to the client) and prints p50, p95 and max wall time, the rows returned, the
target and whether p95 meets it, client and server CPU per run, and the load average. Dossiers and
ownership chains draw a random vessel or company per run (the same sequence on both stores); the
whole-graph queries run with their defaults on as_of 2024-06-30 (the generator's last day).

In the same run, a naive baseline per query and store, for the ratio:

* Neo4j, vessel and company dossiers: one round trip to list the entity's relationships, then one per
  relationship for the relationship and the node at its other end (the client-side N+1 pattern);
  ownership-chain: one round trip per owner, walking up the ownership links with ``Store.edges``.
* everything else: the query as it stood before this benchmark's rewrites (commit ``BEFORE``, read
  with ``git show``): its Cypher on Neo4j; its Python module on the embedded store, which found a
  dossier's subject by scanning every vessel or company. Its rows are shaped as ``run_query`` shapes
  them, with the garbage collector paused as ``run_query`` now pauses it, so the ratio is the query's.

Targets: Neo4j p95 <= 100 ms for single-entity dossiers and <= 500 ms for the other queries (up to 4
hops); embedded store p95 <= 2 s. A query slower than ``--budget`` seconds in total stops after the
runs done by then (at least one), and the report says how many ran.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

import psutil
import yaml
from neo4j import Query
from neo4j.exceptions import Neo4jError
from rich.console import Console
from rich.table import Table

from graph.memory_store import MemoryStore
from graph.neo4j_store import Neo4jStore
from graph.store import Store, StoreError
from queries.engine import gc_paused, run_query, shape_row
from queries.registry import registry
from tests.benchmarks.bench_ingest import machine_facts, peak_rss
from tests.benchmarks.query_world import WorldSpec, event_count, open_memory, open_neo4j

BEFORE = "90fbdfe"  # the last commit before the rewrites: the baseline versions of the queries
AS_OF = "2024-06-30"
RECENT = "2024-04-01"  # "what happened in the last quarter"
TARGET_MS = {("neo4j", "dossier"): 100.0, ("neo4j", "query"): 500.0, ("memory", "dossier"): 2000.0}
TARGET_MS[("memory", "query")] = 2000.0
DOSSIERS = ("vessel", "company")
REPO = Path(__file__).resolve().parents[2]
GIB = 1024**3

console = Console(stderr=True, highlight=False)
Params = dict[str, Any]


def log(message: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}")


# ---- what is run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One canned query with the parameters of each call (warm-up calls first)."""

    query: str
    kind: str  # "dossier" (single entity) or "query"
    params: tuple[Params, ...]
    note: str = "defaults"

    @property
    def label(self) -> str:
        """How the report names the case."""
        return self.query if self.note == "defaults" else f"{self.query} ({self.note})"


def sanctioned_keys(store: Store) -> list[str]:
    """Keys of every entity with a sanctions listing (the same on both stores)."""
    keys: set[str] = set()
    for batch in store.scan_nodes("Sanction"):
        keys.update(e.src for e in store.edges("Sanction", [v.key for v in batch], ["SANCTIONED_AS"], "in"))
    return sorted(keys)


def build_cases(spec: WorldSpec, names: Sequence[str], calls: int, seed: int, store: Store) -> list[Case]:
    """The benchmark's cases: random subjects for the anchored queries, defaults for the others, and
    for the long whole-graph lists also the anchored form an analyst would run."""
    world = spec.world()
    rng = Random(seed)

    def each(make: Callable[[], Params]) -> tuple[Params, ...]:
        return tuple({**make(), "as_of": AS_OF} for _ in range(calls))

    def vessel() -> Params:
        return {"vessel": world.vessel_key(rng.randrange(spec.vessels))}

    def company() -> Params:
        return {"company": world.company_key(rng.randrange(spec.companies))}

    listed = sanctioned_keys(store)
    recent = {"since": RECENT}
    cases: list[Case] = []
    for name in names:
        if name == "vessel":
            cases.append(Case(name, "dossier", each(vessel), "random vessel"))
        elif name == "company":
            cases.append(Case(name, "dossier", each(company), "random company"))
        elif name == "ownership-chain":
            cases.append(Case(name, "query", each(vessel), "random vessel"))
        else:
            cases.append(Case(name, "query", each(dict)))
            if name in ("identity-changes", "dark-activity"):
                cases.append(Case(name, "query", each(lambda: dict(recent)), f"since {RECENT}"))
            if name == "sanctions-exposure" and listed:
                cases.append(
                    Case(name, "query", each(lambda: {"sanctioned": rng.choice(listed)}), "random sanctioned")
                )
    return cases


# ---- timing --------------------------------------------------------------------------------------


@dataclass
class Timing:
    """Wall times (ms) and CPU of the timed calls of one case on one store."""

    runs: int = 0
    wall_ms: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    client_cpu_s: float = 0.0
    server_cpu_s: float | None = None
    status: str = "ok"

    def pct(self, q: float) -> float | None:
        """The q-quantile of the wall times (nearest rank)."""
        if not self.wall_ms:
            return None
        ordered = sorted(self.wall_ms)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures."""
        n = max(1, self.runs)
        return {
            "runs": self.runs,
            "p50_ms": _r(self.pct(0.5)),
            "p95_ms": _r(self.pct(0.95)),
            "max_ms": _r(max(self.wall_ms)) if self.wall_ms else None,
            "rows_mean": round(statistics.fmean(self.rows), 1) if self.rows else None,
            "rows_max": max(self.rows) if self.rows else None,
            "client_cpu_s_per_run": round(self.client_cpu_s / n, 4),
            "server_cpu_s_per_run": None if self.server_cpu_s is None else round(self.server_cpu_s / n, 4),
            "status": self.status,
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _cpu(proc: psutil.Process | None) -> float | None:
    if proc is None:
        return None
    try:
        t = proc.cpu_times()
    except psutil.Error:
        return None
    return t.user + t.system


def measure(
    call: Callable[[Params], list[Any]],
    params: Sequence[Params],
    warmup: int,
    budget: float,
    server: psutil.Process | None,
) -> Timing:
    """Warm up, then time each remaining call until the parameters or the time budget run out."""
    timing = Timing()
    started = time.perf_counter()
    try:
        for p in params[:warmup]:
            call(p)
            if time.perf_counter() - started > budget:
                break
        for p in params[warmup:]:
            s0, c0 = _cpu(server), time.process_time()
            t0 = time.perf_counter()
            rows = call(p)
            timing.wall_ms.append((time.perf_counter() - t0) * 1000)
            timing.client_cpu_s += time.process_time() - c0
            s1 = _cpu(server)
            if s0 is not None and s1 is not None:
                timing.server_cpu_s = (timing.server_cpu_s or 0.0) + s1 - s0
            timing.rows.append(len(rows))
            timing.runs += 1
            if time.perf_counter() - started > budget:
                break
    except (StoreError, Neo4jError, ValueError, OSError) as exc:
        timing.status = f"failed: {' '.join(str(exc).split())[:200]}"
    if timing.runs < len(params) - warmup and timing.status == "ok":
        timing.status = f"budget: {timing.runs} of {len(params) - warmup} runs in {budget:.0f}s"
    return timing


# ---- baselines -----------------------------------------------------------------------------------


def git_show(path: str) -> str | None:
    """A file as it stood at BEFORE, or None outside a git checkout with that commit."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{BEFORE}:{path}"], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


def old_cypher(name: str) -> str | None:
    """The query's Cypher at BEFORE."""
    text = git_show(f"queries/{name}.yaml")
    return None if text is None else yaml.safe_load(text)["cypher"]


def old_module(name: str) -> types.ModuleType | None:
    """The embedded implementation at BEFORE, loaded under a private name."""
    mod_name = name.replace("-", "_")
    source = git_show(f"queries/memory/{mod_name}.py")
    if source is None:
        return None
    module = types.ModuleType(f"_bench_before_{mod_name}")
    exec(compile(source, f"{BEFORE}:queries/memory/{mod_name}.py", "exec"), module.__dict__)
    return module


def naive_dossier(store: Neo4jStore, label: str, params: Params) -> list[Any]:
    """One round trip for the entity and its relationship ids, then one per relationship."""
    key = params[label.lower()]
    store.schema.node(label)
    facts: list[Any] = []
    with store.driver.session(database=store.database) as session:
        rels = session.run(
            f"MATCH (n:{label} {{key: $key}}) OPTIONAL MATCH (n)-[r]-() "
            "RETURN properties(n) AS props, collect(elementId(r)) AS rels",
            key=key,
        ).single()
        if rels is None:
            return facts
        facts.append(rels["props"])
        for rel_id in rels["rels"]:
            record = session.run(
                "MATCH (n)-[r]-(o) WHERE elementId(r) = $id AND n.key = $key "
                "RETURN type(r) AS type, properties(r) AS r, labels(o) AS labels, properties(o) AS o",
                id=rel_id,
                key=key,
            ).single()
            facts.append(record.data() if record else None)
    return facts


OWNERSHIP = ["REGISTERED_OWNER_OF", "BENEFICIAL_OWNER_OF", "SHAREHOLDER_OF"]


def naive_ownership(store: Store, params: Params, max_hops: int = 5) -> list[Any]:
    """Walk up the ownership links with one ``Store.edges`` round trip per node (breadth first)."""
    frontier = [("Vessel", params["vessel"])]
    seen = set(frontier)
    found: list[Any] = []
    for _ in range(max_hops):
        nxt: list[tuple[str, str]] = []
        for label, key in frontier:
            for edge in store.edges(label, [key], OWNERSHIP, "in"):
                found.append(edge)
                owner = (edge.src_label, edge.src)
                if owner not in seen:
                    seen.add(owner)
                    nxt.append(owner)
        frontier = nxt
    return found


def baseline_call(
    name: str, store: Store, timeout: float
) -> tuple[Callable[[Params], list[Any]] | None, str]:
    """The naive or earlier way to answer ``name`` on ``store``, and what it is."""
    if isinstance(store, Neo4jStore):
        if name in DOSSIERS:
            label = name.capitalize()
            return (lambda p: naive_dossier(store, label, p)), "N+1 round trips (one per relationship)"
        if name == "ownership-chain":
            return (lambda p: naive_ownership(store, p)), "one Store.edges round trip per owner"
        cypher = old_cypher(name)
        if cypher is None:
            return None, f"no {BEFORE} in this checkout"
        spec = registry()[name]

        def old(p: Params) -> list[Any]:
            # Auto-commit, so that the server gives up after the time budget; shaped like run_query.
            with gc_paused(), store.driver.session(database=store.database) as session:
                records = session.run(Query(cypher, timeout=timeout), spec.bind(p))
                return [shape_row(spec, r.data()) for r in records]

        return old, f"Cypher at {BEFORE}"
    module = old_module(name)
    if module is None:
        return None, f"no {BEFORE} in this checkout"
    spec = registry()[name]

    def before(p: Params) -> list[Any]:
        with gc_paused():
            return [shape_row(spec, r) for r in module.run(store, spec.bind(p))]

    return before, f"Python module at {BEFORE}"


# ---- the run -------------------------------------------------------------------------------------


@dataclass
class Result:
    """Figures of one case on one store."""

    query: str
    label: str
    store: str
    kind: str
    note: str
    target_ms: float
    timing: Timing
    baseline: Timing | None
    baseline_what: str
    load_average: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        p95 = self.timing.pct(0.95)
        base = self.baseline.pct(0.5) if self.baseline else None
        mine = self.timing.pct(0.5)
        return {
            "query": self.query,
            "case": self.label,
            "store": self.store,
            "kind": self.kind,
            "params": self.note,
            "target_p95_ms": self.target_ms,
            "met": None if p95 is None else p95 <= self.target_ms,
            **self.timing.summary(),
            "baseline": self.baseline_what,
            "baseline_figures": self.baseline.summary() if self.baseline else None,
            "ratio_baseline_p50": round(base / mine, 1) if base and mine else None,
            "load_average_1m": self.load_average,
        }


def run_store(
    store: Store,
    backend: str,
    cases: Sequence[Case],
    args: argparse.Namespace,
    server: psutil.Process | None,
) -> list[Result]:
    """Time every case on one store, then its baseline."""
    results: list[Result] = []
    for case in cases:
        load = round(os.getloadavg()[0], 2)
        log(f"{backend}: {case.label}, load {load}")
        timing = measure(
            lambda p, name=case.query: run_query(store, name, p),
            case.params,
            args.warmup,
            args.budget,
            server,
        )
        log(
            f"  p50 {_fmt(timing.pct(0.5))} ms, p95 {_fmt(timing.pct(0.95))} ms, "
            f"rows {timing.summary()['rows_mean']}, {timing.status}"
        )
        baseline: Timing | None = None
        what = "skipped (--no-baseline)"
        if args.baseline and "sanctioned" in case.params[0]:
            what = f"none: no anchor before {BEFORE}"
        elif args.baseline:
            call, what = baseline_call(case.query, store, args.budget)
            if call is not None:
                warmup = min(1, args.warmup)
                runs = warmup + args.baseline_runs
                baseline = measure(call, case.params[:runs], warmup, args.budget, server)
                log(f"  baseline ({what}): p50 {_fmt(baseline.pct(0.5))} ms, {baseline.status}")
        target = TARGET_MS[(backend, case.kind)]
        results.append(
            Result(
                case.query, case.label, backend, case.kind, case.note, target, timing, baseline, what, load
            )
        )
    return results


def check_parity(memory: Store, neo4j: Store, cases: Sequence[Case]) -> dict[str, str]:
    """Compare both stores' rows for the first timed parameters of each case."""
    verdicts: dict[str, str] = {}
    for case in cases:
        params = case.params[-1]
        mine, theirs = run_query(memory, case.query, params), run_query(neo4j, case.query, params)
        verdicts[case.label] = "same" if mine == theirs else f"DIFFERENT ({len(mine)} vs {len(theirs)} rows)"
        log(f"parity {case.label}: {verdicts[case.label]}")
    return verdicts


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def report(results: Sequence[Result], out: Console) -> None:
    """The table of figures."""
    table = Table(title="Canned queries: wall time per call (ms)", show_lines=False)
    for column in ("query", "store", "runs", "p50", "p95", "max", "rows", "target p95", "met", "baseline p50",
                   "ratio", "cpu client/server s", "load"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("query", "store") else "right")
    for r in results:
        d = r.as_dict()
        base = d["baseline_figures"]
        server_cpu = d["server_cpu_s_per_run"]
        table.add_row(
            r.label,
            r.store,
            str(d["runs"]),
            _fmt(d["p50_ms"]),
            _fmt(d["p95_ms"]),
            _fmt(d["max_ms"]),
            "-" if d["rows_mean"] is None else f"{d['rows_mean']:,.0f}",
            f"{r.target_ms:,.0f}",
            {True: "yes", False: "NO", None: "-"}[d["met"]],
            "-" if not base else _fmt(base["p50_ms"]),
            "-" if d["ratio_baseline_p50"] is None else f"{d['ratio_baseline_p50']}x",
            f"{d['client_cpu_s_per_run']:.3f}/" + ("-" if server_cpu is None else f"{server_cpu:.3f}"),
            str(r.load_average),
        )
    out.print(table)
    for r in results:
        if r.timing.status != "ok" or (r.baseline and r.baseline.status != "ok"):
            base = r.baseline.status if r.baseline else "-"
            out.print(f"  {r.store} / {r.label}: {r.timing.status}; baseline: {base}")
    kinds: dict[str, list[str]] = {}
    for r in results:
        kinds.setdefault(f"{r.store}: {r.baseline_what}", []).append(r.label)
    for what, queries in sorted(kinds.items()):
        out.print(f"  baseline {what} ({', '.join(queries)})")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.bench_queries", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--store", choices=("memory", "neo4j", "both"), default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--vessels", type=int, default=100_000)
    parser.add_argument("--companies", type=int, help="default: 2 per vessel")
    parser.add_argument("--persons", type=int, help="default: the generator's (0.5 per vessel)")
    parser.add_argument("--events", type=int, help="default: 10 per vessel")
    parser.add_argument("--queries", help="comma-separated subset of the canned queries (default all)")
    parser.add_argument("--runs", type=int, default=20, help="timed calls per query and store")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls first")
    parser.add_argument("--baseline-runs", type=int, default=5, help="timed calls of each baseline")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument(
        "--budget", type=float, default=60.0, help="seconds per case and store at most (and per baseline)"
    )
    parser.add_argument("--check", action="store_true", help="with --store both: compare the stores' rows")
    parser.add_argument("--cache", default=".shadowfleet/bench-queries", help="cache of the embedded world")
    parser.add_argument("--neo4j-home", default=".shadowfleet/bench-neo4j", help="the private server's home")
    parser.add_argument("--bolt-port", type=int, default=17687)
    parser.add_argument("--http-port", type=int, default=17474)
    parser.add_argument("--heap", default="2g", help="the private server's JVM heap")
    parser.add_argument("--pagecache", default="3g", help="the private server's page cache")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached world in both stores")
    parser.add_argument("--keep-server", action="store_true", help="leave the private server running")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON ('-' for stdout)")
    args = parser.parse_args(argv)
    if args.bolt_port == 7687 or args.http_port == 7474:
        parser.error("use a private server, not the shared one on 7687/7474")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("neo4j").setLevel(logging.ERROR)  # notifications about unused labels
    spec = WorldSpec(
        args.seed,
        args.vessels,
        args.companies if args.companies is not None else 2 * args.vessels,
        args.persons,
        args.events if args.events is not None else 10 * args.vessels,
    )
    names = sorted(registry()) if not args.queries else [q.strip() for q in args.queries.split(",")]
    cases: list[Case] = []
    facts = machine_facts()
    log(
        f"machine: {facts['cpu']}, {facts['logical_cpus']} CPUs, {facts['ram_gib']} GiB; load average "
        f"{facts['load_average_at_start']}; world {spec.ident}"
    )
    results: list[Result] = []
    info: dict[str, Any] = {}
    neo: Neo4jStore | None = None
    memory: MemoryStore | None = None
    server_obj = None
    if args.store in ("neo4j", "both"):
        home = Path(args.neo4j_home).absolute()
        server_obj, neo, info["neo4j"] = open_neo4j(
            spec, home, args.bolt_port, args.http_port, args.heap, args.pagecache, log, args.rebuild
        )
        counts = neo.counts()
        info["world"] = {**counts.as_dict(), "events": event_count(counts)}
        cases = build_cases(spec, names, args.warmup + args.runs, args.seed, neo)
        pid = server_obj.status().get("pid")
        server = psutil.Process(pid) if pid else None
        results += run_store(neo, "neo4j", cases, args, server)
        info["neo4j"]["server_peak_rss_bytes"] = peak_rss(pid)
    if args.store in ("memory", "both"):
        memory, info["memory"] = open_memory(spec, Path(args.cache).absolute(), log, args.rebuild)
        counts = memory.counts()
        info["world"] = {**counts.as_dict(), "events": event_count(counts)}
        cases = cases or build_cases(spec, names, args.warmup + args.runs, args.seed, memory)
        results += run_store(memory, "memory", cases, args, None)
    if args.check and memory is not None and neo is not None:
        info["parity"] = check_parity(memory, neo, cases)
    if neo is not None:
        neo.close()
    if server_obj is not None and not args.keep_server:
        server_obj.stop()
    facts["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    facts["client_peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    out = Console(highlight=False, width=220)
    report(results, out)
    world = info.get("world", {})
    out.print(
        f"world {spec.ident}: {world.get('total_nodes', 0):,} nodes, {world.get('total_relationships', 0):,} "
        f"relationships; {world.get('nodes', {}).get('Vessel', 0):,} vessels, "
        f"{world.get('nodes', {}).get('Company', 0):,} companies, {world.get('events', 0):,} events "
        "(StsTransfer + PortCall + AisGap + Loitering nodes)"
    )
    server_peak = info.get("neo4j", {}).get("server_peak_rss_bytes")
    out.print(
        f"machine: {facts['logical_cpus']} CPUs ({facts['cpu']}), {facts['ram_gib']} GiB; load average "
        f"{facts['load_average_at_start']} -> {facts['load_average_at_end']}; client peak RSS "
        f"{facts['client_peak_rss_bytes'] / GIB:.2f} GiB"
        + (f"; Neo4j server peak RSS {server_peak / GIB:.2f} GiB" if server_peak else "")
        + (f" (heap {args.heap}, page cache {args.pagecache})" if neo is not None else "")
    )
    if args.json:
        doc = {"machine": facts, "info": info, "results": [r.as_dict() for r in results], "args": vars(args)}
        text = json.dumps(doc, indent=2, default=str)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
