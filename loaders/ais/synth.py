"""Synthetic AIS tracks with known events, for tests and the benchmark (fictional vessels only).

A track is dead reckoning over legs (duration, speed, heading) from a start point, reported every
``interval`` seconds; the benchmark generator builds millions of such points at once with numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from loaders.ais.decode import POSITION_SCHEMA, STATIC_SCHEMA
from loaders.ais.geo import wrap_lon

KM_PER_DEG = 111.195
KNOT_KMS = 1.852 / 3600.0


@dataclass(frozen=True)
class Leg:
    """Steam for ``hours`` at ``knots`` on ``heading`` degrees (0 = north); knots=0 is a stop."""

    hours: float
    knots: float = 0.0
    heading: float = 0.0
    draught: float | None = None


def offset(lat: float, lon: float, km_north: float, km_east: float) -> tuple[float, float]:
    """The point ``km_north``/``km_east`` away (flat-earth, fine for short distances)."""
    lat2 = lat + km_north / KM_PER_DEG
    lon2 = lon + km_east / (KM_PER_DEG * math.cos(math.radians((lat + lat2) / 2)))
    return lat2, float(wrap_lon(lon2))


def track(
    mmsi: int, start: int, lat: float, lon: float, legs: Sequence[Leg], interval: int = 120
) -> pl.DataFrame:
    """Position reports of one vessel following ``legs`` from (lat, lon) at time ``start``."""
    rows = []
    t, la, lo = start, lat, lon
    for leg in legs:
        end = t + int(leg.hours * 3600)
        dn = math.cos(math.radians(leg.heading)) * leg.knots * KNOT_KMS
        de = math.sin(math.radians(leg.heading)) * leg.knots * KNOT_KMS
        while t < end:
            rows.append((mmsi, t, la, lo, leg.knots, leg.heading, leg.draught))
            la, lo = offset(la, lo, dn * interval, de * interval)
            t += interval
    rows.append((mmsi, t, la, lo, legs[-1].knots, legs[-1].heading, legs[-1].draught))
    frame = pl.DataFrame(rows, schema=["mmsi", "t", "lat", "lon", "sog", "cog", "draught"], orient="row")
    return positions(frame)


def positions(frame: pl.DataFrame, src: int = 0) -> pl.DataFrame:
    """A frame with at least mmsi, t, lat, lon in the positions schema (missing columns null)."""
    n = frame.height
    cols = []
    for name, dtype in POSITION_SCHEMA.items():
        if name in frame.columns:
            cols.append(pl.col(name).cast(dtype))
        elif name == "src":
            cols.append(pl.lit(src, dtype=dtype).alias(name))
        elif name == "line":
            cols.append(pl.int_range(1, n + 1, dtype=pl.Int64).alias(name))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    out = frame.select(cols)
    return out.with_columns(pl.col("sog").fill_null(float("nan")), pl.col("cog").fill_null(float("nan")))


def statics(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """A static-report frame from dicts with mmsi, t and any of imo, name, call_sign, draught."""
    full = [
        {**{k: None for k in STATIC_SCHEMA}, "src": 0, "line": i + 1, **row} for i, row in enumerate(rows)
    ]
    return pl.DataFrame(full, schema=STATIC_SCHEMA)


def draught_statics(frame: pl.DataFrame) -> pl.DataFrame:
    """Static reports at every change of the ``draught`` column of a track frame."""
    changes = (
        frame.filter(pl.col("draught").is_not_null())
        .sort("mmsi", "t")
        .filter(
            (pl.col("draught") != pl.col("draught").shift(1)).fill_null(True)
            | (pl.col("mmsi") != pl.col("mmsi").shift(1)).fill_null(True)
        )
    )
    return statics(changes.select("mmsi", "t", "draught").to_dicts())


# ---- benchmark generator ------------------------------------------------------------------------


@dataclass
class Truth:
    """What was planted: encounters (mmsi_a, mmsi_b, start, end), gaps (mmsi, start, end),
    port calls (mmsi, port key, arrival, departure)."""

    encounters: list[tuple[int, int, int, int]] = field(default_factory=list)
    gaps: list[tuple[int, int, int]] = field(default_factory=list)
    port_calls: list[tuple[int, str, int, int]] = field(default_factory=list)
    decoys: list[tuple[int, int, int, int]] = field(default_factory=list)  # too short or too fast


def generate(
    n_points: int,
    seed: int = 7,
    days: float = 3.0,
    interval_s: tuple[int, int] = (120, 360),
    share_encounter: float = 0.02,
    share_gap: float = 0.02,
    share_port: float = 0.02,
    ports: Sequence[Any] = (),
    start: int = 1_725_148_800,  # 2024-09-01T00:00:00Z
) -> tuple[pl.DataFrame, pl.DataFrame, Truth]:
    """About ``n_points`` reports of vessels crossing the seas off the Russian Far East and Korea, with
    planted encounters (some across midnight), decoy pairs, AIS gaps and port calls with draught changes."""
    rng = np.random.default_rng(seed)
    horizon = int(days * 86400)
    mean_interval = (interval_s[0] + interval_s[1]) / 2
    n_vessels = max(int(n_points / (horizon / mean_interval)), 20)
    per = int(horizon / interval_s[0]) + 2
    mmsi = 200_000_000 + rng.choice(700_000_000, size=n_vessels, replace=False).astype(np.int64)
    truth = Truth()

    # scripted behaviour per vessel: pos(t) = M + v1*(t - ts)  (t < ts), M + drift (ts..te), M + v2*(t - te)
    meet_lat = rng.uniform(33.0, 47.0, n_vessels)
    meet_lon = rng.uniform(126.0, 150.0, n_vessels)
    ts = rng.integers(int(0.2 * horizon), int(0.7 * horizon), n_vessels)
    stay = np.zeros(n_vessels, dtype=np.int64)
    speed = rng.uniform(9.0, 15.0, n_vessels)
    h1 = rng.uniform(0, 2 * np.pi, n_vessels)
    h2 = rng.uniform(0, 2 * np.pi, n_vessels)
    draught_before = np.full(n_vessels, np.nan)
    draught_after = np.full(n_vessels, np.nan)
    stay_off_km = np.zeros((n_vessels, 2))

    n_enc = int(n_vessels * share_encounter) // 2 * 2
    n_decoy = n_enc // 2 // 2 * 2
    n_port = int(n_vessels * share_port)
    n_gap = int(n_vessels * share_gap)
    order = rng.permutation(n_vessels)
    enc = order[:n_enc]
    decoy = order[n_enc : n_enc + n_decoy]
    port_v = order[n_enc + n_decoy : n_enc + n_decoy + n_port]
    gap_v = order[n_enc + n_decoy + n_port : n_enc + n_decoy + n_port + n_gap]

    day = 86400
    for k in range(0, n_enc, 2):
        a, b = enc[k], enc[k + 1]
        duration = int(rng.uniform(3, 8) * 3600)
        # every fourth pair meets across midnight, i.e. across a 24 h chunk boundary
        begin = (int(ts[a]) // day + 1) * day - duration // 2 if k % 8 == 0 else int(ts[a])
        for v in (a, b):
            ts[v] = begin
            stay[v] = duration
            meet_lat[v], meet_lon[v] = meet_lat[a], meet_lon[a]
            draught_before[v], draught_after[v] = (12.0, 6.0) if v == a else (5.0, 11.0)
        stay_off_km[b] = rng.uniform(-0.15, 0.15, 2)
        truth.encounters.append(
            (int(min(mmsi[a], mmsi[b])), int(max(mmsi[a], mmsi[b])), start + begin, start + begin + duration)
        )
    for k in range(0, n_decoy, 2):
        a, b = decoy[k], decoy[k + 1]
        begin = int(ts[a])
        duration = int(rng.uniform(0.5, 1.4) * 3600)  # shorter than 2 h
        for v in (a, b):
            ts[v], stay[v] = begin, duration
            meet_lat[v], meet_lon[v] = meet_lat[a], meet_lon[a]
        stay_off_km[b] = rng.uniform(-0.15, 0.15, 2)
        truth.decoys.append(
            (int(min(mmsi[a], mmsi[b])), int(max(mmsi[a], mmsi[b])), start + begin, start + begin + duration)
        )
    port_list = list(ports)
    for v in port_v:
        if not port_list:
            break
        p = port_list[int(rng.integers(len(port_list)))]
        meet_lat[v], meet_lon[v] = p.lat, p.lon
        stay[v] = int(rng.uniform(12, 48) * 3600)
        stay_off_km[v] = rng.uniform(-0.8, 0.8, 2)
        draught_before[v], draught_after[v] = 5.5, 11.5
        truth.port_calls.append((int(mmsi[v]), p.key, start + int(ts[v]), start + int(ts[v] + stay[v])))
    gap_start = rng.integers(int(0.1 * horizon), int(0.5 * horizon), n_vessels)
    gap_len = rng.integers(14 * 3600, 30 * 3600, n_vessels)
    for v in gap_v:
        truth.gaps.append((int(mmsi[v]), int(start + gap_start[v]), int(start + gap_start[v] + gap_len[v])))

    steps = rng.integers(interval_s[0], interval_s[1] + 1, size=(n_vessels, per), dtype=np.int64)
    offsets = np.cumsum(steps, axis=1) - steps[:, :1] + rng.integers(0, interval_s[0], (n_vessels, 1))
    valid = offsets < horizon
    gap_mask = np.zeros(n_vessels, dtype=bool)
    gap_mask[gap_v] = True
    in_gap = gap_mask[:, None] & (offsets >= gap_start[:, None]) & (offsets < (gap_start + gap_len)[:, None])
    valid &= ~in_gap
    vid = np.nonzero(valid)[0]
    rel = offsets[valid]
    dt_before = np.minimum(rel - ts[vid], 0)
    dt_after = np.maximum(rel - ts[vid] - stay[vid], 0)
    km = speed[vid] * KNOT_KMS
    north = km * (np.cos(h1[vid]) * dt_before + np.cos(h2[vid]) * dt_after) + stay_off_km[vid, 0]
    east = km * (np.sin(h1[vid]) * dt_before + np.sin(h2[vid]) * dt_after) + stay_off_km[vid, 1]
    lat = meet_lat[vid] + north / KM_PER_DEG
    lon = wrap_lon(meet_lon[vid] + east / (KM_PER_DEG * np.cos(np.radians(meet_lat[vid]))))
    staying = (rel >= ts[vid]) & (rel <= ts[vid] + stay[vid])
    sog = np.where(staying, rng.uniform(0.0, 0.4, vid.size), speed[vid] + rng.normal(0, 0.3, vid.size))
    draught = np.where(rel < ts[vid] + stay[vid], draught_before[vid], draught_after[vid])
    frame = pl.DataFrame(
        {
            "mmsi": mmsi[vid].astype(np.int32),
            "t": (start + rel).astype(np.int64),
            "lat": np.clip(lat, -89.9, 89.9),
            "lon": lon,
            "sog": sog.astype(np.float32),
            "draught": draught.astype(np.float32),
        }
    )
    return positions(frame), pl.DataFrame(schema=STATIC_SCHEMA), truth
