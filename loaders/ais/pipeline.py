"""Run every detector over a batch of AIS and collect the events, with stage timings.

After one sort (``build_tracks``) the per-vessel work runs block by block (``BLOCK_POINTS`` reports of
whole vessels each): resampling, port distances, loitering, gaps and port calls never look across
vessels, and blocks this size keep every temporary array small enough to stay in cache and be reused
instead of freshly mapped (on a 20M-point input, that alone cut the CPU time of these stages by about
three). Blocks, and then the encounter join's time chunks, go to a pool of ``workers`` threads: numpy
and Polars release the GIL inside their loops, so two threads use both cores without copying data.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from loaders.ais import detectors as det
from loaders.ais.decode import AisBatch
from loaders.ais.ports import Port, PortIndex
from loaders.ais.shore import shore_index
from loaders.ais.tracks import Draughts, Tracks, build_draughts, build_tracks, resample

DETECTORS = ("encounters", "loitering", "gaps", "port_calls", "identity")
BLOCK_POINTS = 1 << 19


@dataclass
class Detection:
    """Events found, plus what the run saw and how long each stage took."""

    events: list[det.Event]
    tracks: Tracks
    draughts: Draughts
    identity_runs: pl.DataFrame
    params: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def of(self, kind: str) -> list[det.Event]:
        return [e for e in self.events if e.kind == kind]


class _Timings:
    """Wall and CPU seconds per stage, summed over the threads that ran it.

    CPU is the calling thread's own time for stages run in the pool, the process's for the others
    (which may use Polars' threads); ``blocks_wall`` is the elapsed time of the whole block phase.
    """

    def __init__(self) -> None:
        self.values: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self, name: str, per_thread: bool = False) -> Iterator[None]:
        clock = time.thread_time if per_thread else time.process_time
        start, cpu = time.perf_counter(), clock()
        yield
        wall, used = time.perf_counter() - start, clock() - cpu
        with self._lock:
            self.values[name] = self.values.get(name, 0.0) + wall
            self.values[f"{name}_cpu"] = self.values.get(f"{name}_cpu", 0.0) + used


@dataclass
class _BlockResult:
    encounter_points: det.EncounterPoints = field(default_factory=dict)
    loitering: list[det.Event] = field(default_factory=list)
    gaps: list[det.Event] = field(default_factory=list)
    port_calls: list[det.Event] = field(default_factory=list)
    resampled: int = 0


def default_workers() -> int:
    """Threads for the block and chunk phases: the machine's cores, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


def run_detectors(
    batch: AisBatch,
    ports: list[Port],
    params: dict[str, Any],
    only: tuple[str, ...] = DETECTORS,
    evidence: bool = True,
    workers: int | None = None,
) -> Detection:
    """Build tracks, resample, run the chosen detectors and attach the evidence of each event."""
    timed = _Timings()
    if {"encounters", "loitering", "gaps"} & set(only):
        # the coastline index is needed only once blocks run: build it on the other core meanwhile
        threading.Thread(target=shore_index, daemon=True).start()
    with timed("tracks"):
        tracks = build_tracks(
            batch.positions,
            params["clone_max_speed_knots"],
            params["clone_min_jump_km"],
            params["spike_max_speed_knots"],
            params["spike_min_km"],
        )
        draughts = build_draughts(batch.statics, tracks)
    events: list[det.Event] = []
    counts = {
        "positions": batch.positions.height,
        "positions_in_tracks": tracks.size,
        "duplicates_dropped": tracks.duplicates,
        "same_time_conflicts": tracks.same_time_conflicts,
        "position_spikes_excluded": 0 if tracks.spikes is None else int(tracks.spikes["mmsi"].size),
        "vessels": int(tracks.mmsis.size),
    }
    step, max_gap = int(params["resample_minutes"] * 60), int(params["max_interp_gap_minutes"] * 60)
    want_enc, want_loiter = "encounters" in only, "loitering" in only
    enc_index = PortIndex(ports, params["encounter_min_port_distance_km"]) if want_enc else None
    call_index = PortIndex(ports, params["port_exit_km"]) if "port_calls" in only else None

    def per_block(span: tuple[int, int]) -> _BlockResult:
        block = tracks.block(*span)
        out = _BlockResult()
        if want_enc or want_loiter:
            with timed("resample", True):
                res = resample(block, step, max_gap)
                out.resampled = res.size
            if want_loiter:
                with timed("loitering", True):
                    out.loitering = det.loitering(res, block, params)
            if enc_index is not None:
                with timed("port_distance", True):
                    _, port_km = enc_index.nearest(res.lat, res.lon)
                with timed("encounter_points", True):
                    out.encounter_points = det.encounter_points(res, port_km, params)
        if "gaps" in only:
            with timed("gaps", True):
                out.gaps = det.gaps(block, params)
        if call_index is not None:
            with timed("port_calls", True):
                out.port_calls = det.port_calls(block, ports, draughts, params, call_index)
        return out

    n_workers = workers or default_workers()
    with ThreadPoolExecutor(n_workers) as pool:
        mapper = pool.map if n_workers > 1 else map
        start = time.perf_counter()
        results = list(mapper(per_block, tracks.blocks(BLOCK_POINTS)))
        timed.values["blocks_wall"] = time.perf_counter() - start
        if want_enc or want_loiter:
            counts["resampled_positions"] = sum(r.resampled for r in results)
        if want_enc:
            with timed("encounters"):
                parts = [r.encounter_points for r in results]
                events += det.encounters(parts, tracks, draughts, params, mapper)
                del parts
    for r in results:
        events += r.loitering
    for r in results:
        events += r.gaps
    for r in results:
        events += r.port_calls
    del results
    runs = pl.DataFrame()
    if "identity" in only:
        with timed("identity"):
            events += det.cloning(tracks, params)
            changes, runs = det.identity_changes(batch.statics)
            events += changes
    if evidence:
        with timed("evidence"):
            det.attach_evidence(events, tracks, [str(p) for p in batch.files])
    # whatever detectors run, a fix left out of the tracks is always reported
    events += det.position_spikes(tracks, params, [str(p) for p in batch.files])
    for event in events:
        counts[f"events_{event.kind}"] = counts.get(f"events_{event.kind}", 0) + 1
    return Detection(events, tracks, draughts, runs, params, counts, timed.values)


def draught_range(detection: Detection, mmsi: int) -> tuple[float | None, float | None]:
    """The lightest and deepest draught a vessel reported in this input."""
    vid = detection.tracks.vessel_of(np.array([mmsi], dtype=np.int64))[0]
    draughts = detection.draughts
    if vid < 0 or draughts.vid.size == 0:
        return None, None
    values = draughts.draught[draughts.vid == vid]
    if values.size == 0:
        return None, None
    return float(values.min()), float(values.max())
