"""Refresh benchmark: first load vs an unchanged refresh vs a refresh with 1% of the vessels changed.

Run from the repository root (a script, not a pytest test; nothing asserts on timings)::

    .venv/bin/python -m tests.benchmarks.bench_refresh --vessels 100000 --neo4j-uri bolt://127.0.0.1:7687

It writes a generated ship registry snapshot (fictional names; valid IMO ship and company check
digits; flags, MMSIs with matching MIDs, call signs, registered owners and ship managers) as CSV in the
``registry-generic`` layout, then times three ``shadowfleet refresh`` runs of one source on it:

1. the first load (an empty graph, no refresh state): loader, bundles, the whole graph write, state;
2. an unchanged refresh: the same file again (it is rewritten byte for byte, so only the content hash
   tells that nothing changed);
3. a refresh where 1% of the vessels changed (``--changed``): re-flags, renames, new owners, new
   managers, new MMSIs and call signs, in equal parts.

Targets (issue 6): unchanged <= 10% of the first load, 1% changed <= 20%. Each refresh is timed end to
end in-process (``Refresher.run``), with the per-stage split the refresh reports. The store is
**cleared** before and after (``store.clear()``): point this only at a development server, e.g. one of
your own started with ``shadowfleet neo4j start`` (or ``graph.neo4j_server.Neo4jServer`` on other
ports).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from graph.store import Store
from loaders.world import imo_check_digit, imo_company_check_digit
from shadowfleet.refresh import Refresher, SourceReport, load_config, run_lock

console = Console(stderr=True, highlight=False)
TARGET_UNCHANGED = 0.10
TARGET_CHANGED = 0.20
# Flag (name as registries write it, ISO code, one MID of that flag).
FLAGS = (
    ("Panama", "351"),
    ("Liberia", "636"),
    ("Marshall Islands", "538"),
    ("Malta", "215"),
    ("Bahamas", "311"),
    ("Cyprus", "209"),
    ("Singapore", "563"),
    ("Hong Kong", "477"),
    ("Greece", "237"),
    ("Comoros", "616"),
    ("Togo", "671"),
    ("Cameroon", "613"),
    ("Sierra Leone", "667"),
    ("Palau", "511"),
    ("Tanzania", "677"),
)
TYPES = ("Crude Oil Tanker", "Product Tanker", "Chemical Tanker", "Bulk Carrier", "General Cargo")
WORDS = (
    "AURORA", "BOREAL", "CASTOR", "DELTA", "EMBER", "FJORD", "GALE", "HALCYON", "IONIAN", "JUNO", "KESTREL",
    "LYRA", "MERIDIAN", "NEREID", "ORION", "PELAGIC", "QUILL", "RIGEL", "SIRIUS", "TETHYS", "UMBRA",
    "VESPER", "WAKE", "XANTHE", "ZEPHYR",
)  # fmt: skip
COLUMNS = (
    "imo", "name", "flag", "mmsi", "call_sign", "vessel_type", "build_year", "deadweight", "gross_tonnage",
    "registered_owner", "registered_owner_imo", "ship_manager", "ship_manager_imo",
)  # fmt: skip


def log(message: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}")


def _imo(i: int) -> str:
    six = f"{100000 + i:06d}"
    return six + imo_check_digit(six)


def _company(c: int) -> tuple[str, str]:
    six = f"{200000 + c:06d}"
    return f"{WORDS[c % len(WORDS)]} {WORDS[(c // len(WORDS)) % len(WORDS)]} {c} SHIPPING LTD", (
        six + imo_company_check_digit(six)
    )


def vessel_rows(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` fictional vessels, one registry row each (deterministic for a seed)."""
    rng = random.Random(seed)
    companies = max(1, n // 3)
    rows = []
    for i in range(n):
        flag, mid = FLAGS[rng.randrange(len(FLAGS))]
        owner, owner_imo = _company(rng.randrange(companies))
        manager, manager_imo = _company(companies + rng.randrange(companies))
        rows.append(
            {
                "imo": _imo(i),
                "name": f"{WORDS[i % len(WORDS)]} {WORDS[(i // 7) % len(WORDS)]} {i}",
                "flag": flag,
                "mmsi": f"{mid}{i % 1_000_000:06d}",
                "call_sign": f"C{i:07d}",
                "vessel_type": TYPES[i % len(TYPES)],
                "build_year": 1990 + i % 34,
                "deadweight": 20000 + (i * 37) % 280000,
                "gross_tonnage": 12000 + (i * 23) % 150000,
                "registered_owner": owner,
                "registered_owner_imo": owner_imo,
                "ship_manager": manager,
                "ship_manager_imo": manager_imo,
            }
        )
    return rows


def change_rows(rows: list[dict[str, Any]], share: float, seed: int) -> tuple[list[dict[str, Any]], int]:
    """A copy of ``rows`` with ``share`` of the vessels changed in one way each; returns it and the count."""
    rng = random.Random(seed + 1)
    out = [dict(r) for r in rows]
    picked = rng.sample(range(len(rows)), max(1, round(len(rows) * share)))
    companies = max(1, len(rows) // 3)
    for n, i in enumerate(picked):
        row = out[i]
        kind = n % 5
        if kind == 0:  # re-flag (keeping a consistent MID would be a new MMSI too: leave the MMSI)
            row["flag"] = next(f for f, _ in FLAGS[1:] if f != row["flag"])
        elif kind == 1:
            row["name"] = f"{row['name']} II"
        elif kind == 2:
            row["registered_owner"], row["registered_owner_imo"] = _company(rng.randrange(companies))
        elif kind == 3:
            row["ship_manager"], row["ship_manager_imo"] = _company(companies + rng.randrange(companies))
        else:
            row["mmsi"] = row["mmsi"][:3] + f"{(int(row['mmsi'][3:]) + 500_000) % 1_000_000:06d}"
            row["call_sign"] = "D" + row["call_sign"][1:]
    return out, len(picked)


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def open_store(kind: str, uri: str | None, home: Path) -> Store:
    if kind == "memory":
        from graph.memory_store import MemoryStore

        return MemoryStore(home)
    from graph.neo4j_store import Neo4jStore

    return Neo4jStore(uri=uri)


def timed_refresh(store: Store, config: Path, root: Path, as_of: str) -> tuple[float, SourceReport]:
    started = time.perf_counter()
    with run_lock(root):
        report = Refresher(store, load_config(config), root, as_of=as_of).run()
    seconds = time.perf_counter() - started
    [src] = report.sources
    if src.failed:
        raise SystemExit(f"refresh failed: {src.message}")
    return seconds, src


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vessels", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share of vessels changed (default 0.01)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", choices=("neo4j", "memory"), default="neo4j")
    parser.add_argument("--neo4j-uri", default=os.environ.get("NEO4J_URI") or "bolt://127.0.0.1:7687")
    parser.add_argument("--workdir", type=Path, help="keep the CSV and state here (default: a temp folder)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sf-bench-refresh-"))
    workdir.mkdir(parents=True, exist_ok=True)
    root = workdir / "state"
    shutil.rmtree(root, ignore_errors=True)
    snapshot = workdir / "registry.csv"
    config = workdir / "refresh.yaml"
    config.write_text(
        "sources:\n  - name: bench-registry\n    format: registry\n    path: registry.csv\n", encoding="utf-8"
    )
    load_start = os.getloadavg()
    log(f"generating {args.vessels:,} vessels (seed {args.seed}) in {workdir}")
    rows = vessel_rows(args.vessels, args.seed)
    changed_rows, n_changed = change_rows(rows, args.changed, args.seed)
    write_csv(rows, snapshot)
    log(f"snapshot: {snapshot.stat().st_size / 1e6:.1f} MB")

    store = open_store(args.store, args.neo4j_uri, workdir / "memory-home")
    log(f"store: {store.location}; clearing it")
    store.clear()
    store.ensure_schema()
    figures: list[dict[str, Any]] = []
    try:
        for step, as_of, data in (
            ("first load", "2024-01-01", None),
            ("unchanged refresh", "2024-02-01", rows),
            (f"{args.changed:.0%} changed refresh", "2024-03-01", changed_rows),
        ):
            if data is not None:
                write_csv(data, snapshot)
            log(f"{step} ...")
            seconds, src = timed_refresh(store, config, root, as_of)
            figures.append(
                {
                    "step": step,
                    "seconds": round(seconds, 2),
                    "status": src.status,
                    "records": src.records,
                    "records_written": src.records_written,
                    "entities": src.bundles,
                    "changed_entities": src.added + src.changed + src.removed,
                    "changes": len(src.changes),
                    "stages": {k: round(v, 2) for k, v in src.timings.items()},
                }
            )
            log(f"  {seconds:.1f}s ({src.status}, {len(src.changes):,} changes) {figures[-1]['stages']}")
        counts = store.counts().as_dict()
    finally:
        store.clear()
        store.close()
    first = figures[0]["seconds"]
    for fig, target in zip(figures[1:], (TARGET_UNCHANGED, TARGET_CHANGED), strict=True):
        fig["ratio"] = round(fig["seconds"] / first, 4)
        fig["target"] = f"<= {target:.0%} of the first load"
        fig["ok"] = fig["ratio"] <= target
    table = Table(title=f"refresh benchmark: {args.vessels:,} vessels on {args.store}")
    for col in ("step", "seconds", "of first load", "target", "changes"):
        table.add_column(col)
    for fig in figures:
        verdict = (" ok" if fig["ok"] else " MISSED") if "ok" in fig else ""
        table.add_row(
            fig["step"],
            f"{fig['seconds']:.1f}",
            f"{fig['ratio']:.1%}" if "ratio" in fig else "",
            fig.get("target", "") + verdict,
            f"{fig['changes']:,}",
        )
    Console().print(table)
    for fig in figures:
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in fig["stages"].items())
        Console().print(
            f"{fig['step']}: {fig['records_written']:,} records written; {stages}", highlight=False
        )
    result = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in load_start],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "vessels": args.vessels,
        "vessels_changed": n_changed,
        "store": args.store,
        "graph": counts,
        "figures": figures,
        "command": " ".join(["python -m tests.benchmarks.bench_refresh", *sys.argv[1:]]),
    }
    console.print(f"load average: start {load_start[0]:.2f}, end {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
