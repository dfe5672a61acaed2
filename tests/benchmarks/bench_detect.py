"""Benchmark: AIS event detection end to end on generated tracks with planted events.

Run ``python -m tests.benchmarks.bench_detect [--points 20000000] [--workers 2] [--order time]``. The
data is generated in a child process (cached under --workdir) so the peak RSS reported is the
detection's own; by default the file is in time order, as a receiver network delivers it (``--order
vessel`` writes each vessel's reports together, which sorts faster). Timed end to end: read Parquet →
tracks → per-vessel blocks (resample, port distance, loitering, gaps, port calls) → encounter join →
evidence → graph records → write to an embedded store, with wall and CPU seconds per stage. In the same
run the naive per-time-step all-pairs encounter join runs on a sample, against the grid join on the same
sample, for the ratio. Recall and false positives are measured against the planted events.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def _paths(points: int, seed: int, order: str, workdir: Path) -> tuple[Path, Path]:
    stem = f"ais-{points}-{seed}" + ("" if order == "vessel" else f"-{order}")
    return workdir / f"{stem}.parquet", workdir / f"ais-{points}-{seed}.truth.json"


def _generate(points: int, seed: int, order: str, workdir: Path) -> tuple[Path, Path]:
    from loaders.ais.ports import bundled_ports
    from loaders.ais.synth import generate

    data, truth_path = _paths(points, seed, order, workdir)
    if data.exists() and truth_path.exists():
        return data, truth_path
    frame, _, truth = generate(points, seed=seed, ports=bundled_ports())
    frame = frame.sort("t", maintain_order=True) if order == "time" else frame
    frame.drop("src", "line", "cog").rename({"t": "timestamp"}).write_parquet(data, statistics=False)
    truth_path.write_text(json.dumps(truth.__dict__, default=int))
    return data, truth_path


def _overlap(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 <= b1 and b0 <= a1


def _score(planted: list[tuple], found: list[tuple], same: Any) -> dict[str, float]:
    """Recall of planted events and share of detections that match none."""
    index: dict[Any, list[tuple]] = {}
    for item in planted:
        index.setdefault(same(item), []).append(item)
    hit_planted = set()
    false = 0
    for item in found:
        matches = [p for p in index.get(same(item), []) if _overlap(p[-2], p[-1], item[-2], item[-1])]
        if matches:
            hit_planted.update(matches)
        else:
            false += 1
    return {
        "planted": len(planted),
        "detected": len(found),
        "recall": round(len(hit_planted) / len(planted), 4) if planted else 1.0,
        "false_positive_rate": round(false / len(found), 4) if found else 0.0,
    }


def _naive_vs_grid(
    res: Any, max_km: float, vessels: int, slots: int, focus: list[int], first: int
) -> dict[str, Any]:
    """All pairs per time step (numpy, O(n²) per step) against the grid join, on the same sample: the
    vessels of some planted encounters plus random others, over ``slots`` steps from ``first``."""
    from loaders.ais.detectors import close_pairs
    from loaders.ais.geo import haversine_km

    rng = np.random.default_rng(1)
    chosen = np.unique(np.r_[np.asarray(focus, dtype=np.int64), rng.choice(int(res.vid.max()) + 1, vessels)])
    sel = np.flatnonzero(np.isin(res.vid, chosen) & (res.slot >= first) & (res.slot < first + slots))
    vid, slot, lat, lon = res.vid[sel], res.slot[sel], res.lat[sel], res.lon[sel]
    start = time.perf_counter()
    naive_pairs = 0
    order = np.argsort(slot, kind="stable")
    bounds = np.flatnonzero(np.r_[True, slot[order][1:] != slot[order][:-1], True])
    for a, b in itertools.pairwise(bounds):
        idx = order[a:b]
        la, lo = lat[idx], lon[idx]
        for k in range(idx.size - 1):
            d = haversine_km(la[k], lo[k], la[k + 1 :], lo[k + 1 :])
            naive_pairs += int(np.count_nonzero(d <= max_km))
    naive_s = time.perf_counter() - start
    start = time.perf_counter()
    i, _, _ = close_pairs(vid, slot, lat, lon, max_km)
    grid_s = time.perf_counter() - start
    return {
        "sample_points": int(sel.size),
        "sample_vessels": vessels,
        "sample_slots": slots,
        "naive_seconds": round(naive_s, 3),
        "grid_seconds": round(grid_s, 4),
        "naive_points_per_s": round(sel.size / naive_s),
        "grid_points_per_s": round(sel.size / grid_s),
        "speedup": round(naive_s / grid_s, 1),
        "same_pairs": naive_pairs == int(i.size),
        "pairs": naive_pairs,
    }


def _cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def run(
    points: int, seed: int, order: str, workers: int, workdir: Path, sample_vessels: int, sample_slots: int
) -> dict[str, Any]:
    import polars as pl

    from graph.memory_store import MemoryStore
    from loaders.ais.decode import read_ais
    from loaders.ais.params import resolve
    from loaders.ais.pipeline import run_detectors
    from loaders.ais.ports import bundled_ports
    from loaders.ais.records import RecordBuilder, event_mmsis, resolve_vessels, static_imos
    from loaders.ais.tracks import resample

    t_gen = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.bench_detect", "--generate-only", "--points", str(points),
         "--seed", str(seed), "--order", order, "--workdir", str(workdir)],
        check=True,
    )  # fmt: skip
    generate_s = time.perf_counter() - t_gen
    data, truth_path = _paths(points, seed, order, workdir)
    truth = json.loads(truth_path.read_text())
    params = resolve("gfw")
    ports = bundled_ports()

    load_before = os.getloadavg()
    cpu_start = _cpu()
    start = time.perf_counter()
    batch = read_ais([data])
    read_s, read_cpu = time.perf_counter() - start, _cpu() - cpu_start
    t_det, cpu_det = time.perf_counter(), _cpu()
    detection = run_detectors(batch, ports, params, workers=workers)
    detect_s, detect_cpu = time.perf_counter() - t_det, _cpu() - cpu_det
    t_rec, cpu_rec = time.perf_counter(), _cpu()
    refs = resolve_vessels(event_mmsis(detection), static_imos(detection), None)
    records = RecordBuilder(detection, [data], ["2024-09-04T00:00:00Z"], "ais").build(refs)
    with tempfile.TemporaryDirectory() as home:
        store = MemoryStore(Path(home))
        stats = store.write(records)
        store.close()
    records_s, records_cpu = time.perf_counter() - t_rec, _cpu() - cpu_rec
    total_s = time.perf_counter() - start
    cpu_s = _cpu() - cpu_start
    load_after = os.getloadavg()
    n = batch.positions.height
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2

    enc = [(min(e.mmsis), max(e.mmsis), e.start, e.end) for e in detection.of("encounter")]
    gaps = [(e.mmsis[0], e.start, e.end) for e in detection.of("gap")]
    calls = [(e.mmsis[0], e.props["port"].key, e.start, e.end) for e in detection.of("port_call")]
    scores = {
        "encounters": _score([tuple(x) for x in truth["encounters"]], enc, lambda x: (x[0], x[1])),
        "gaps": _score([tuple(x) for x in truth["gaps"]], gaps, lambda x: x[0]),
        "port_calls": _score([tuple(x) for x in truth["port_calls"]], calls, lambda x: (x[0], x[1])),
    }
    decoys = {(a, b) for a, b, _, _ in truth["decoys"]}
    scores["encounters"]["decoys_planted"] = len(decoys)
    scores["encounters"]["decoys_detected"] = sum((a, b) in decoys for a, b, _, _ in enc)

    tracks = detection.tracks
    res = resample(tracks, 600, 3600)
    planted = sorted(truth["encounters"], key=lambda x: x[2])
    window = planted[len(planted) // 2][2] // 600 if planted else int(res.slot.min())
    focus = [e for e in planted if abs(e[2] // 600 - window) < sample_slots]
    focus_vids = tracks.vessel_of(np.array([m for e in focus for m in e[:2]], dtype=np.int64)).tolist()
    baseline = _naive_vs_grid(res, 0.5, sample_vessels, sample_slots, focus_vids, int(window))
    del res
    timings = detection.timings
    in_blocks = ("resample", "loitering", "port_distance", "encounter_points", "gaps", "port_calls")
    return {
        "points": n,
        "vessels": int(tracks.mmsis.size),
        "input_order": order,
        "workers": workers,
        "cpus": os.cpu_count(),
        "generate_seconds_not_timed": round(generate_s, 1),
        # wall / CPU seconds; CPU counts every thread of the process (Polars', the pool's)
        "profile": {
            "read_parquet": (round(read_s, 2), round(read_cpu, 2)),
            "detect_total": (round(detect_s, 2), round(detect_cpu, 2)),
            "sort_and_tracks": (round(timings["tracks"], 2), round(timings["tracks_cpu"], 2)),
            "blocks": (
                round(timings["blocks_wall"], 2),
                round(sum(timings[f"{k}_cpu"] for k in in_blocks), 2),
            ),
            "encounter_join": (round(timings["encounters"], 2), round(timings["encounters_cpu"], 2)),
            "identity_and_evidence": (
                round(timings["identity"] + timings["evidence"], 2),
                round(timings["identity_cpu"] + timings["evidence_cpu"], 2),
            ),
            "records_and_store": (round(records_s, 2), round(records_cpu, 2)),
        },
        # inside the blocks: CPU seconds of the pool threads, summed (wall is summed over threads too)
        "block_stage_cpu_seconds": {k: round(timings[f"{k}_cpu"], 2) for k in in_blocks},
        "total_seconds": round(total_s, 2),
        "points_per_second": round(n / total_s),
        "cpu_seconds": round(cpu_s, 2),
        "points_per_cpu_second": round(n / cpu_s),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "peak_rss_gib": round(peak_gib, 2),
        "events": {k: v for k, v in detection.counts.items() if k.startswith("events_")},
        "records": len(records),
        "nodes_created": stats.nodes_created,
        "scores": scores,
        "naive_baseline": baseline,
        "polars": pl.__version__,
        "numpy": np.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--order", choices=("time", "vessel"), default="time", help="row order of the input")
    parser.add_argument("--workers", type=int, default=0, help="threads for the detectors (0: the default)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "shadowfleet-bench")
    parser.add_argument("--sample-vessels", type=int, default=2000)
    parser.add_argument("--sample-slots", type=int, default=36)
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.generate_only:
        _generate(args.points, args.seed, args.order, args.workdir)
        return 0
    from loaders.ais.pipeline import default_workers

    workers = args.workers or default_workers()
    result = run(
        args.points, args.seed, args.order, workers, args.workdir, args.sample_vessels, args.sample_slots
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
