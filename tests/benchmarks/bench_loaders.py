"""Loader throughput: rows/s and peak memory of each loader's read-and-transform (no store involved).

Run: ``.venv/bin/python -m tests.benchmarks.bench_loaders [--copies N]``. OFAC and UN use the real
published samples in ../shared/realdata as they are. Registry, ownership, events, FtM and ICIJ have no
large public sample here, so their inputs are the demo case's and the test suite's own files with the
data rows repeated ``--copies`` times (the same work per row as distinct rows; duplicates only merge
later, in the store). Each loader runs in a fresh process so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo"
DATA = ROOT / "tests" / "data" / "loaders"
MAPPINGS = ROOT / "loaders" / "mappings"


def _realdata() -> Path:
    for candidate in (ROOT.parent / "shared" / "realdata", Path("/work/shared/realdata")):
        if candidate.is_dir():
            return candidate
    raise SystemExit("real data samples not found")


def _repeat_lines(source: Path, target: Path, copies: int, header: bool) -> None:
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    head, body = (lines[:1], lines[1:]) if header else ([], lines)
    with target.open("w", encoding="utf-8") as out:
        out.writelines(head)
        for _ in range(copies):
            out.writelines(body)


def cases(work: Path, copies: int) -> list[dict[str, object]]:
    """The loader runs: format, files, options."""
    real = _realdata()
    ofac = real / "ofac-sdn-2019"
    registry = work / "registry.csv"
    _repeat_lines(DEMO / "registry" / "snapshot-2024-01-15.csv", registry, copies, header=True)
    ownership = work / "ownership.csv"
    _repeat_lines(DEMO / "ownership" / "corporate-records.csv", ownership, copies, header=True)
    events = work / "port-calls.csv"
    _repeat_lines(DEMO / "events" / "port-calls.csv", events, max(1, copies // 10), header=True)
    ftm = work / "entities.ftm.jsonl"
    _repeat_lines(DATA / "ftm" / "entities.ftm.jsonl", ftm, copies, header=False)
    return [
        {"format": "ofac", "files": [ofac / "sdn.csv", ofac / "add.csv", ofac / "alt.csv"], "options": {}},
        {"format": "un", "files": [real / "un-consolidated-2026" / "UN_consolidated.xml"], "options": {}},
        {"format": "registry", "files": [registry],
         "options": {"mapping": MAPPINGS / "registry-generic.yaml", "as_of": "2024-01-15"}},
        {"format": "ownership", "files": [ownership],
         "options": {"mapping": MAPPINGS / "ownership-generic.yaml"}},
        {"format": "events", "files": [events], "options": {"mapping": MAPPINGS / "events-generic.yaml"}},
        {"format": "ftm", "files": [ftm], "options": {}},
        {"format": "icij", "files": [DATA / "icij"], "options": {}},
    ]  # fmt: skip


def run_one(fmt: str, files: list[str], options: dict[str, str]) -> dict[str, object]:
    """Load once in this process and report rows, records, rejects, seconds and peak RSS."""
    from loaders.base import LoadOptions, get_loader

    opts = LoadOptions(
        mapping=Path(options["mapping"]) if options.get("mapping") else None,
        as_of=options.get("as_of"),
        retrieved_at="2026-01-01T00:00:00Z",
    )
    loader = get_loader(fmt)
    started = time.perf_counter()
    out = loader([Path(f) for f in files], opts)
    seconds = time.perf_counter() - started
    return {
        "format": fmt,
        "rows": out.rows_read,
        "records": len(out.records),
        "rejects": len(out.rejects),
        "seconds": round(seconds, 3),
        "rows_per_s": round(out.rows_read / seconds) if seconds else None,
        "records_per_s": round(len(out.records) / seconds) if seconds else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=200, help="repeat the small inputs this many times")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        spec = json.loads(args.one)
        print(json.dumps(run_one(spec["format"], spec["files"], spec["options"])))
        return
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for case in cases(Path(tmp), args.copies):
            spec = {
                "format": case["format"],
                "files": [str(f) for f in case["files"]],  # type: ignore[attr-defined]
                "options": {k: str(v) for k, v in case["options"].items()},  # type: ignore[attr-defined]
            }
            done = subprocess.run(
                [sys.executable, "-m", "tests.benchmarks.bench_loaders", "--one", json.dumps(spec)],
                cwd=ROOT, capture_output=True, text=True, check=True,
            )  # fmt: skip
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    heads = ("rows", "records", "rejects", "s", "rows/s", "records/s", "MiB")
    print(f"{'format':<10} " + " ".join(f"{h:>9}" for h in heads))
    for r in results:
        print(
            f"{r['format']:<10} {r['rows']:>9} {r['records']:>9} {r['rejects']:>9} {r['seconds']:>9} "
            f"{r['rows_per_s']:>9} {r['records_per_s']:>9} {r['peak_rss_mib']:>9}"
        )


if __name__ == "__main__":
    main()
