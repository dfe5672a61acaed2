"""Run every detector over a batch of AIS and collect the events, with stage timings."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from loaders.ais import detectors as det
from loaders.ais.decode import AisBatch
from loaders.ais.ports import Port, PortIndex
from loaders.ais.tracks import Draughts, Tracks, build_draughts, build_tracks, resample

DETECTORS = ("encounters", "loitering", "gaps", "port_calls", "identity")


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


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    start, cpu = time.perf_counter(), time.process_time()
    yield
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
    timings[f"{name}_cpu"] = timings.get(f"{name}_cpu", 0.0) + time.process_time() - cpu


def run_detectors(
    batch: AisBatch,
    ports: list[Port],
    params: dict[str, Any],
    only: tuple[str, ...] = DETECTORS,
    evidence: bool = True,
) -> Detection:
    """Build tracks, resample, run the chosen detectors and attach the evidence of each event."""
    timings: dict[str, float] = {}
    with _timed(timings, "tracks"):
        tracks = build_tracks(batch.positions, params["clone_max_speed_knots"], params["clone_min_jump_km"])
        draughts = build_draughts(batch.statics, tracks)
    events: list[det.Event] = []
    counts = {
        "positions": batch.positions.height,
        "positions_in_tracks": tracks.size,
        "duplicates_dropped": tracks.duplicates,
        "same_time_conflicts": tracks.same_time_conflicts,
        "vessels": int(tracks.mmsis.size),
    }
    if {"encounters", "loitering"} & set(only):
        with _timed(timings, "resample"):
            res = resample(
                tracks, int(params["resample_minutes"] * 60), int(params["max_interp_gap_minutes"] * 60)
            )
            counts["resampled_positions"] = res.size
        with _timed(timings, "port_distance"):
            radius = max(params["encounter_min_port_distance_km"], params["loiter_min_port_distance_km"])
            _, port_km = PortIndex(ports, radius).nearest(res.lat, res.lon)
        if "encounters" in only:
            with _timed(timings, "encounters"):
                events += det.encounters(res, port_km, tracks, draughts, params)
        if "loitering" in only:
            with _timed(timings, "loitering"):
                events += det.loitering(res, port_km, tracks, params)
        del res, port_km
    if "gaps" in only:
        with _timed(timings, "gaps"):
            events += det.gaps(tracks, ports, params)
    if "port_calls" in only:
        with _timed(timings, "port_calls"):
            events += det.port_calls(tracks, ports, draughts, params)
    runs = pl.DataFrame()
    if "identity" in only:
        with _timed(timings, "identity"):
            events += det.cloning(tracks, params)
            changes, runs = det.identity_changes(batch.statics)
            events += changes
    if evidence:
        with _timed(timings, "evidence"):
            det.attach_evidence(events, tracks, [str(p) for p in batch.files])
    for event in events:
        counts[f"events_{event.kind}"] = counts.get(f"events_{event.kind}", 0) + 1
    return Detection(events, tracks, draughts, runs, params, counts, timings)


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
