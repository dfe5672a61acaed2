"""The AIS event detectors: encounters (STS), loitering, AIS gaps, port calls, identity anomalies.

Every detector is vectorised over the vessels of a block (``Tracks.block``); the per-vessel detectors
never look across vessels, so blocks can run in any order or in parallel. The encounter join, the only
quadratic step, runs one time chunk at a time (``chunk_hours``) over the eligible points of all blocks;
the close pairs of all chunks are merged into runs afterwards, so an encounter across midnight or a
chunk boundary stays one event.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from loaders.ais.geo import KM_PER_NM, haversine_km, knots, wrap_lon
from loaders.ais.ports import Port, PortIndex
from loaders.ais.shore import distance_from_shore_km
from loaders.ais.tracks import Draughts, Resampled, Tracks

ENCOUNTER_PARAMS = (
    "resample_minutes",
    "max_interp_gap_minutes",
    "encounter_max_distance_m",
    "encounter_min_duration_minutes",
    "encounter_max_median_speed_knots",
    "encounter_min_port_distance_km",
    "encounter_min_shore_distance_km",
    "encounter_merge_gap_minutes",
    "draught_min_change_m",
    "draught_settle_hours",
)
LOITER_PARAMS = (
    "resample_minutes",
    "max_interp_gap_minutes",
    "loiter_max_speed_knots",
    "loiter_min_duration_hours",
    "loiter_min_shore_distance_nm",
)
GAP_PARAMS = (
    "gap_min_hours",
    "gap_disabling_min_offshore_nm",
    "gap_disabling_lookback_hours",
    "gap_disabling_min_positions_per_12h",
)
PORT_PARAMS = (
    "port_entry_km",
    "port_exit_km",
    "port_stop_speed_knots",
    "port_min_gap_hours",
    "port_require_stop",
    "draught_min_change_m",
    "draught_settle_hours",
)
CLONE_PARAMS = ("clone_max_speed_knots", "clone_min_jump_km", "clone_min_jumps")
SPIKE_PARAMS = ("spike_max_speed_knots", "spike_min_km")


@dataclass
class Event:
    """One detected event, with the AIS points behind it (per vessel: count, first and last point)."""

    kind: str  # encounter | loitering | gap | port_call | anomaly
    mmsis: tuple[int, ...]
    start: int | None
    end: int | None
    props: dict[str, Any] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)


def _mean_lon(lon: np.ndarray) -> float:
    ref = lon[0]
    return float(wrap_lon(ref + np.mean(wrap_lon(lon - ref))))


def attach_evidence(events: list[Event], tracks: Tracks, files: list[str]) -> None:
    """Fill each event's evidence with the raw points of each vessel inside its time span."""
    rows = [(i, m, e.start, e.end) for i, e in enumerate(events) for m in e.mmsis if e.start is not None]
    if not rows:
        return
    idx = np.array([r[0] for r in rows])
    vid = tracks.vessel_of(np.array([r[1] for r in rows], dtype=np.int64))
    t0 = np.array([r[2] for r in rows], dtype=np.int64)
    t1 = np.array([r[3] if r[3] is not None else r[2] for r in rows], dtype=np.int64)
    lo, hi = tracks.spans(np.maximum(vid, 0), t0, t1)
    for k in range(len(rows)):
        event = events[int(idx[k])]
        if vid[k] < 0 or hi[k] <= lo[k]:
            continue
        i, j = int(lo[k]), int(hi[k]) - 1
        event.evidence.append(
            {
                "mmsi": str(rows[k][1]),
                "file": files[int(tracks.src[i])],
                "points": j - i + 1,
                "first": _point(tracks, i),
                "last": _point(tracks, j),
            }
        )


def _point(tracks: Tracks, i: int) -> dict[str, Any]:
    return {
        "t": int(tracks.t[i]),
        "lat": round(float(tracks.lat[i]), 6),
        "lon": round(float(tracks.lon[i]), 6),
        "line": int(tracks.line[i]),
    }


# ---- encounters ---------------------------------------------------------------------------------


def close_pairs(
    vid: np.ndarray, slot: np.ndarray, lat: np.ndarray, lon: np.ndarray, max_km: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i, j) of points in the same slot within ``max_km``, via a grid of cells >= max_km.

    Each point meets the points of its own cell and of four neighbouring cells (the other four are
    covered from the other side), so every close pair is found exactly once.
    """
    empty = np.zeros(0, dtype=np.int64)
    if slot.size < 2:
        return empty, empty, np.zeros(0)
    c_lat = max_km / 111.0
    phi = min(float(np.max(np.abs(lat))) + c_lat, 89.0)
    c_lon = c_lat / math.cos(math.radians(phi))
    ncol = max(int(360.0 / c_lon), 1)
    width = 360.0 / ncol
    nrow = int(180.0 / c_lat) + 2
    s0 = int(slot.min())
    ci = np.floor((lat + 90.0) / c_lat).astype(np.int64)
    cj = np.floor((lon + 180.0) / width).astype(np.int64) % ncol
    per_slot = nrow * ncol
    key = (slot - s0) * per_slot + ci * ncol + cj
    order = np.argsort(key, kind="stable")
    ks = key[order]
    start = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    uniq = ks[start]
    count = np.diff(np.r_[start, ks.size])
    lefts, rights = [], []
    # same cell: each element pairs with the later elements of its cell
    multi = count > 1
    if multi.any():
        cell_of = np.repeat(np.arange(uniq.size), count)
        rank = np.arange(ks.size) - start[cell_of]
        n_after = count[cell_of] - 1 - rank
        left = np.repeat(np.arange(ks.size), n_after)
        offs = np.arange(left.size) - np.repeat(np.cumsum(n_after) - n_after, n_after)
        lefts.append(left)
        rights.append(left + 1 + offs)
    u_slot = uniq // per_slot
    u_ci = (uniq % per_slot) // ncol
    u_cj = uniq % ncol
    for di, dj in ((0, 1), (1, -1), (1, 0), (1, 1)):
        if ncol < 3 and dj != 0 and di == 0:
            continue
        nkey = u_slot * per_slot + (u_ci + di) * ncol + (u_cj + dj) % ncol
        pos = np.searchsorted(uniq, nkey)
        pos_c = np.minimum(pos, uniq.size - 1)
        found = np.flatnonzero(uniq[pos_c] == nkey)
        if found.size == 0:
            continue
        a_start, a_cnt = start[found], count[found]
        b_start, b_cnt = start[pos_c[found]], count[pos_c[found]]
        elem_cell = np.repeat(np.arange(found.size), a_cnt)
        elem = a_start[elem_cell] + (np.arange(elem_cell.size) - np.repeat(np.cumsum(a_cnt) - a_cnt, a_cnt))
        nb = b_cnt[elem_cell]
        left = np.repeat(elem, nb)
        offs = np.arange(left.size) - np.repeat(np.cumsum(nb) - nb, nb)
        lefts.append(left)
        rights.append(np.repeat(b_start[elem_cell], nb) + offs)
    if not lefts:
        return empty, empty, np.zeros(0)
    i = order[np.concatenate(lefts)]
    j = order[np.concatenate(rights)]
    keep = vid[i] != vid[j]
    i, j = i[keep], j[keep]
    d = haversine_km(lat[i], lon[i], lat[j], lon[j])
    close = d <= max_km
    return i[close], j[close], d[close]


EncounterPoints = dict[int, tuple[np.ndarray, ...]]  # time chunk -> (vid, slot, lat, lon, speed)


def encounter_points(res: Resampled, port_km: np.ndarray, params: dict[str, Any]) -> EncounterPoints:
    """The resampled positions far enough from port points to count, split by time chunk."""
    keep = np.flatnonzero(port_km >= params["encounter_min_port_distance_km"])
    if keep.size == 0:
        return {}
    chunk_slots = max(int(params["chunk_hours"] * 3600 // res.step), 1)
    chunk = res.slot[keep] // chunk_slots
    rel = chunk - chunk.min()
    rel = rel.astype(np.uint16) if rel.max() < 65536 else rel  # a radix sort for 16-bit keys
    order = np.argsort(rel, kind="stable")
    keep, chunk = keep[order], chunk[order]
    bounds = np.flatnonzero(np.r_[True, chunk[1:] != chunk[:-1], True])
    out: EncounterPoints = {}
    for a, b in itertools.pairwise(bounds):
        sel = keep[a:b]
        out[int(chunk[a])] = (res.vid[sel], res.slot[sel], res.lat[sel], res.lon[sel], res.speed[sel])
    return out


def _chunk_pairs(pieces: list[tuple[np.ndarray, ...]], max_km: float) -> tuple[np.ndarray, ...]:
    """Close pairs of one time chunk: vid a, vid b, slot, km, speed a, speed b, lat a, lon a, lat b, lon b."""
    vid, slot, lat, lon, speed = (np.concatenate([p[k] for p in pieces]) for k in range(5))
    i, j, d = close_pairs(vid, slot, lat, lon, max_km)
    return vid[i], vid[j], slot[i], d, speed[i], speed[j], lat[i], lon[i], lat[j], lon[j]


def encounters(
    parts: Iterable[EncounterPoints],
    tracks: Tracks,
    draughts: Draughts,
    params: dict[str, Any],
    mapper: Callable[..., Iterable[Any]] = map,
) -> list[Event]:
    """Pairs of vessels close together, slow, away from ports, for long enough (GFW definition).

    ``parts`` are the eligible points of each block (``encounter_points``); ``mapper`` runs the time
    chunks (``map``, or a pool's ``map``).
    """
    parts = list(parts)
    step = int(params["resample_minutes"] * 60)
    max_km = params["encounter_max_distance_m"] / 1000.0
    chunks = sorted({c for part in parts for c in part})
    pairs_of = lambda c: _chunk_pairs([part[c] for part in parts if c in part], max_km)  # noqa: E731
    found = [p for p in mapper(pairs_of, chunks) if p[0].size]
    if not found:
        return []
    va, vb, slot, dist, sa, sb, lat_a, lon_a, lat_b, lon_b = (
        np.concatenate([p[k] for p in found]) for k in range(10)
    )
    swap = va > vb
    va, vb = np.where(swap, vb, va).astype(np.int64), np.where(swap, va, vb).astype(np.int64)
    sa, sb = np.where(swap, sb, sa), np.where(swap, sa, sb)
    lat_a, lat_b = np.where(swap, lat_b, lat_a), np.where(swap, lat_a, lat_b)
    lon_a, lon_b = np.where(swap, lon_b, lon_a), np.where(swap, lon_a, lon_b)
    o = np.lexsort((slot, vb, va))
    va, vb, slot, dist, sa, sb, lat_a, lon_a, lat_b, lon_b = (
        x[o] for x in (va, vb, slot, dist, sa, sb, lat_a, lon_a, lat_b, lon_b)
    )
    dup = np.r_[False, (va[1:] == va[:-1]) & (vb[1:] == vb[:-1]) & (slot[1:] == slot[:-1])]
    va, vb, slot, dist, sa, sb, lat_a, lon_a, lat_b, lon_b = (
        x[~dup] for x in (va, vb, slot, dist, sa, sb, lat_a, lon_a, lat_b, lon_b)
    )
    max_skip = 1 + int(params["encounter_merge_gap_minutes"] * 60 // step)
    brk = np.r_[True, (va[1:] != va[:-1]) | (vb[1:] != vb[:-1]) | (slot[1:] - slot[:-1] > max_skip)]
    run = np.cumsum(brk) - 1
    frame = pl.DataFrame(
        {
            "run": run,
            "va": va,
            "vb": vb,
            "slot": slot,
            "dist": dist,
            "sa": sa,
            "sb": sb,
            "lat": (lat_a + lat_b) / 2,
            "lon": lon_a + wrap_lon(lon_b - lon_a) / 2,
        }
    )
    runs = frame.group_by("run").agg(
        pl.col("va").first(),
        pl.col("vb").first(),
        pl.col("slot").min().alias("s0"),
        pl.col("slot").max().alias("s1"),
        pl.len().alias("n"),
        pl.col("dist").min().alias("dmin"),
        pl.col("dist").median().alias("dmed"),
        pl.concat_list("sa", "sb").explode().median().alias("speed"),
        pl.col("lat").mean(),
        pl.col("lon"),
    )
    min_slots = params["encounter_min_duration_minutes"] * 60 / step
    runs = runs.filter(
        ((pl.col("s1") - pl.col("s0")) >= min_slots)
        & (pl.col("speed") < params["encounter_max_median_speed_knots"])
    ).sort("va", "vb", "s0")
    events = []
    settle = int(params["draught_settle_hours"] * 3600)
    for row in runs.iter_rows(named=True):
        start, end = int(row["s0"]) * step, int(row["s1"]) * step
        pair = (int(tracks.mmsis[row["va"]]), int(tracks.mmsis[row["vb"]]))
        events.append(
            Event(
                "encounter",
                pair,
                start,
                end,
                {
                    "lat": round(float(row["lat"]), 5),
                    "lon": round(_mean_lon(np.array(row["lon"])), 5),
                    "hours": round((end - start) / 3600, 2),
                    "min_distance_m": round(float(row["dmin"]) * 1000, 1),
                    "median_distance_m": round(float(row["dmed"]) * 1000, 1),
                    "median_speed_knots": round(float(row["speed"]), 2),
                    "slots": int(row["n"]),
                    "vids": (int(row["va"]), int(row["vb"])),
                },
            )
        )
    if not events:
        return events
    shore = distance_from_shore_km(
        np.array([e.props["lat"] for e in events]), np.array([e.props["lon"] for e in events])
    )
    for event, km in zip(events, shore, strict=True):
        event.props["shore_km"] = round(float(km), 1)
    events = [e for e in events if e.props["shore_km"] >= params["encounter_min_shore_distance_km"]]
    vids = np.array([v for e in events for v in e.props["vids"]], dtype=np.int64)
    t0 = np.array([e.start for e in events for _ in (0, 1)], dtype=np.int64)
    t1 = np.array([e.end for e in events for _ in (0, 1)], dtype=np.int64)
    before = draughts.asof(tracks, vids, t0)
    after = draughts.asof(tracks, vids, t1 + settle)
    for k, event in enumerate(events):
        event.props["draughts"] = [
            (_num(before[2 * k]), _num(after[2 * k])),
            (_num(before[2 * k + 1]), _num(after[2 * k + 1])),
        ]
    return events


def _num(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 2)


# ---- loitering ----------------------------------------------------------------------------------


def loitering(res: Resampled, tracks: Tracks, params: dict[str, Any]) -> list[Event]:
    """Runs of slow resampled positions lasting at least the minimum duration whose positions lie, on
    average, far enough from shore (GFW: < 2 kn for >= 4 h, on average >= 20 nm from shore)."""
    slow = res.speed < params["loiter_max_speed_knots"]
    idx = np.flatnonzero(slow)
    if idx.size == 0:
        return []
    vid, slot = res.vid[idx], res.slot[idx]
    brk = np.r_[True, (vid[1:] != vid[:-1]) | (slot[1:] - slot[:-1] != 1)]
    starts = np.flatnonzero(brk)
    ends = np.r_[starts[1:], idx.size] - 1
    dur = (slot[ends] - slot[starts]) * res.step
    ok = np.flatnonzero(dur >= params["loiter_min_duration_hours"] * 3600)
    if ok.size == 0:
        return []
    # distance from shore only for the points of long-enough runs
    length = ends[ok] - starts[ok] + 1
    run_of = np.repeat(np.arange(ok.size), length)
    members = idx[
        np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length) + starts[ok][run_of]
    ]
    shore = np.bincount(run_of, distance_from_shore_km(res.lat[members], res.lon[members])) / length
    lat_mean = np.bincount(run_of, res.lat[members]) / length
    far = shore >= params["loiter_min_shore_distance_nm"] * KM_PER_NM
    events = []
    for k in np.flatnonzero(far):
        a, b = starts[ok[k]], ends[ok[k]]
        sel = idx[a : b + 1]
        events.append(
            Event(
                "loitering",
                (int(tracks.mmsis[vid[a]]),),
                int(slot[a]) * res.step,
                int(slot[b]) * res.step,
                {
                    "lat": round(float(lat_mean[k]), 5),
                    "lon": round(_mean_lon(res.lon[sel]), 5),
                    "hours": round(float(dur[ok[k]]) / 3600, 2),
                    "median_speed_knots": round(float(np.median(res.speed[sel])), 2),
                    "shore_km": round(float(shore[k]), 1),
                },
            )
        )
    return events


# ---- AIS gaps -----------------------------------------------------------------------------------


def gaps(tracks: Tracks, params: dict[str, Any]) -> list[Event]:
    """Silences of at least ``gap_min_hours``; GFW's "suspected disabling" when both ends are more than
    ``gap_disabling_min_offshore_nm`` from shore and reception was good before the gap."""
    t, vid = tracks.t, tracks.vid
    if t.size < 2:
        return []
    dt = t[1:] - t[:-1]
    i = np.flatnonzero((vid[1:] == vid[:-1]) & (dt >= params["gap_min_hours"] * 3600))
    if i.size == 0:
        return []
    j = i + 1
    dist = haversine_km(tracks.lat[i], tracks.lon[i], tracks.lat[j], tracks.lon[j])
    speed = knots(dist, t[j] - t[i])
    offshore_km = params["gap_disabling_min_offshore_nm"] * KM_PER_NM
    shore = distance_from_shore_km(np.r_[tracks.lat[i], tracks.lat[j]], np.r_[tracks.lon[i], tracks.lon[j]])
    shore_a, shore_b = shore[: i.size], shore[i.size :]
    far = (shore_a > offshore_km) & (shore_b > offshore_km)
    lookback = int(params["gap_disabling_lookback_hours"] * 3600)
    lo, _ = tracks.spans(vid[i], t[i] - lookback, t[i])
    before = i - lo + 1
    needed = params["gap_disabling_min_positions_per_12h"] * lookback / (12 * 3600)
    disabling = far & (before >= needed)
    return [
        Event(
            "gap",
            (int(tracks.mmsis[vid[a]]),),
            int(t[a]),
            int(t[b]),
            {
                "start_lat": round(float(tracks.lat[a]), 6),
                "start_lon": round(float(tracks.lon[a]), 6),
                "end_lat": round(float(tracks.lat[b]), 6),
                "end_lon": round(float(tracks.lon[b]), 6),
                "hours": round(float(t[b] - t[a]) / 3600, 2),
                "distance_km": round(float(dist[k]), 2),
                "implied_speed_knots": round(float(speed[k]), 2),
                "positions_before": int(before[k]),
                "start_shore_km": round(float(shore_a[k]), 1),
                "end_shore_km": round(float(shore_b[k]), 1),
                "suspected_disabling": bool(disabling[k]),
            },
        )
        for k, (a, b) in enumerate(zip(i, j, strict=True))
    ]


# ---- port calls ---------------------------------------------------------------------------------


def port_calls(
    tracks: Tracks,
    ports: list[Port],
    draughts: Draughts,
    params: dict[str, Any],
    index: PortIndex | None = None,
) -> list[Event]:
    """Visits: from the first report within ``port_entry_km`` of a port to the last before a report
    beyond ``port_exit_km`` (hysteresis), keeping those with a stop or a long in-port gap.

    ``index`` is a PortIndex over ``ports`` with radius ``port_exit_km`` (built here when not given)."""
    n = tracks.size
    if n == 0 or not ports:
        return []
    index = index or PortIndex(ports, params["port_exit_km"])
    port, dist = index.nearest(tracks.lat, tracks.lon)
    near = np.flatnonzero(port >= 0)
    if near.size == 0:
        return []
    # A stretch of consecutive reports within port_exit_km of one port is one visit, from its first
    # report within port_entry_km to its last report (the next one is beyond port_exit_km).
    vid_n, port_n = tracks.vid[near], port[near]
    brk = np.r_[True, (np.diff(near) != 1) | (vid_n[1:] != vid_n[:-1]) | (port_n[1:] != port_n[:-1])]
    seq = np.cumsum(brk) - 1
    inner = np.flatnonzero(dist[near] <= params["port_entry_km"])
    first_inner = np.full(int(seq[-1]) + 1, near.size)
    np.minimum.at(first_inner, seq[inner], inner)
    seq_end = np.r_[np.flatnonzero(brk)[1:], near.size] - 1
    visits = np.flatnonzero(first_inner < near.size)
    starts, ends = near[first_inner[visits]], near[seq_end[visits]]
    port_of = port_n[first_inner[visits]]
    if starts.size == 0:
        return []
    run_len = ends - starts + 1
    rid = np.repeat(np.arange(starts.size), run_len)
    members = np.arange(run_len.sum()) - np.repeat(np.cumsum(run_len) - run_len, run_len) + starts[rid]
    min_speed = np.full(starts.size, np.inf)
    np.minimum.at(min_speed, rid, np.nan_to_num(tracks.speed[members], nan=np.inf))
    gap = np.zeros(members.size)
    same_run = np.r_[False, rid[1:] == rid[:-1]]
    gap[same_run] = tracks.t[members[same_run]] - tracks.t[members[same_run] - 1]
    max_gap = np.zeros(starts.size)
    np.maximum.at(max_gap, rid, gap)
    keep = np.ones(starts.size, dtype=bool)
    if params["port_require_stop"]:
        keep = (min_speed <= params["port_stop_speed_knots"]) | (
            max_gap >= params["port_min_gap_hours"] * 3600
        )
    starts, ends, port_of = starts[keep], ends[keep], port_of[keep]
    vid = tracks.vid[starts].astype(np.int64)
    arrival, departure = tracks.t[starts], tracks.t[ends]
    settle = int(params["draught_settle_hours"] * 3600)
    d_in = draughts.asof(tracks, vid, arrival)
    first_in = draughts.first_after(tracks, vid, arrival, departure)
    d_in = np.where(np.isnan(d_in), first_in, d_in)
    d_out = draughts.asof(tracks, vid, departure + settle)
    events = []
    for k in range(starts.size):
        p = ports[int(port_of[k])]
        a, b = int(starts[k]), int(ends[k])
        events.append(
            Event(
                "port_call",
                (int(tracks.mmsis[vid[k]]),),
                int(arrival[k]),
                int(departure[k]),
                {
                    "port": p,
                    "hours": round(float(departure[k] - arrival[k]) / 3600, 2),
                    "draught_in": _num(d_in[k]),
                    "draught_out": _num(d_out[k]),
                    "open_start": bool(a == tracks.starts[tracks.vid[a] - tracks.vid0]),
                    "open_end": bool(b == tracks.ends[tracks.vid[b] - tracks.vid0] - 1),
                    "vid": int(vid[k]),
                },
            )
        )
    return events


def draught_activity(before: float | None, after: float | None, threshold: float) -> tuple[str, float | None]:
    """("loading" | "discharging" | "none" | "unknown", change in metres) between two draughts."""
    if before is None or after is None:
        return "unknown", None
    change = round(after - before, 2)
    if change >= threshold:
        return "loading", change
    if change <= -threshold:
        return "discharging", change
    return "none", change


def implied_cargo_t(
    change: float | None, dwt: float | None, lo: float | None, hi: float | None
) -> float | None:
    """Cargo implied by a draught change: deadweight × |Δdraught| / (observed draught range).

    Assumes the lightest and deepest draughts the vessel reported span ballast to fully laden, so it
    is an upper-bound style estimate; None without a deadweight or a draught range.
    """
    if change is None or not dwt or lo is None or hi is None or hi - lo <= 0:
        return None
    return round(dwt * min(abs(change) / (hi - lo), 1.0), 0)


# ---- identity -----------------------------------------------------------------------------------


def cloning(tracks: Tracks, params: dict[str, Any]) -> list[Event]:
    """One MMSI reported from places too far apart to be one ship (repeated impossible jumps)."""
    jumps = tracks.jumps
    if not jumps or jumps["mmsi"].size == 0:
        return []
    events = []
    mmsis, first, counts = np.unique(jumps["mmsi"], return_index=True, return_counts=True)
    for m, k, c in zip(mmsis, first, counts, strict=True):
        if c < params["clone_min_jumps"]:
            continue
        events.append(
            Event(
                "anomaly",
                (int(m),),
                int(jumps["t0"][k]),
                int(jumps["t1"][k]),
                {
                    "kind": "mmsi_cloning",
                    "value": str(int(m)),
                    "detail": (
                        f"MMSI {int(m)} made {int(c)} impossible moves; e.g. {jumps['km'][k]:.0f} km in "
                        f"{int(jumps['t1'][k] - jumps['t0'][k])} s ({jumps['knots'][k]:.0f} kn) from "
                        f"{jumps['lat0'][k]:.4f},{jumps['lon0'][k]:.4f} to "
                        f"{jumps['lat1'][k]:.4f},{jumps['lon1'][k]:.4f}"
                    ),
                    "jumps": int(c),
                },
            )
        )
    return events


def position_spikes(tracks: Tracks, params: dict[str, Any], files: list[str]) -> list[Event]:
    """One anomaly per fix that ``build_tracks`` left out of a track as an impossible jump, with the
    fix itself as evidence (file, line) and the neighbouring fixes and speeds in the detail."""
    s = tracks.spikes
    if not s or s["mmsi"].size == 0:
        return []
    events = []
    for k in range(s["mmsi"].size):
        t, lat, lon = int(s["t"][k]), float(s["lat"][k]), float(s["lon"][k])
        point = {"t": t, "lat": round(lat, 6), "lon": round(lon, 6), "line": int(s["line"][k])}
        detail = (
            f"fix at {lat:.4f},{lon:.4f} implies {s['knots_in'][k]:.0f} kn ({s['km_in'][k]:.0f} km) from the "
            f"previous fix at {s['prev_lat'][k]:.4f},{s['prev_lon'][k]:.4f} and {s['knots_out'][k]:.0f} kn "
            f"({s['km_out'][k]:.0f} km) to the next at {s['next_lat'][k]:.4f},{s['next_lon'][k]:.4f}, which "
            f"agree with each other; left out of the track (threshold {params['spike_max_speed_knots']} kn "
            f"over more than {params['spike_min_km']} km)"
        )
        mmsi = int(s["mmsi"][k])
        events.append(
            Event(
                "anomaly",
                (mmsi,),
                t,
                t,
                {"kind": "position_spike", "value": f"{t}@{lat:.5f},{lon:.5f}", "detail": detail},
                [
                    {
                        "mmsi": str(mmsi),
                        "file": files[int(s["src"][k])],
                        "points": 1,
                        "first": point,
                        "last": point,
                    }
                ],
            )
        )
    return events


def identity_changes(statics: pl.DataFrame) -> tuple[list[Event], pl.DataFrame]:
    """Name, IMO or call-sign changes within one MMSI's static reports, and the value runs behind them.

    The runs (mmsi, field, value, first, last, src, line) feed the vessel's identity history.
    """
    frame = statics.filter(pl.col("t").is_not_null()).sort("mmsi", "t")
    runs_parts = []
    events: list[Event] = []
    for column in ("name", "imo", "call_sign"):
        part = frame.filter(pl.col(column).is_not_null()).select(
            "mmsi", "t", "src", "line", pl.col(column).str.to_uppercase().alias("value")
        )
        if part.height == 0:
            continue
        part = part.with_columns(
            ((pl.col("value") != pl.col("value").shift(1)) | (pl.col("mmsi") != pl.col("mmsi").shift(1)))
            .fill_null(True)
            .cum_sum()
            .alias("run")
        )
        runs = part.group_by("run", maintain_order=True).agg(
            pl.col("mmsi").first(),
            pl.col("value").first(),
            pl.col("t").min().alias("first"),
            pl.col("t").max().alias("last"),
            pl.col("src").first(),
            pl.col("line").first(),
        )
        runs = runs.with_columns(pl.lit(column).alias("field"))
        runs_parts.append(runs.drop("run"))
        changed = runs.with_columns(
            pl.col("value").shift(1).alias("previous"), pl.col("mmsi").shift(1).alias("prev_mmsi")
        ).filter(pl.col("prev_mmsi") == pl.col("mmsi"))
        for row in changed.iter_rows(named=True):
            events.append(
                Event(
                    "anomaly",
                    (int(row["mmsi"]),),
                    int(row["first"]),
                    int(row["first"]),
                    {
                        "kind": f"{column}_change",
                        "value": f"{row['previous']}->{row['value']}",
                        "detail": f"MMSI {row['mmsi']} changed {column.replace('_', ' ')} from "
                        f"{row['previous']!r} to {row['value']!r} mid-track",
                    },
                )
            )
    runs_all = (
        pl.concat(runs_parts)
        if runs_parts
        else pl.DataFrame(
            schema={
                "mmsi": pl.Int32,
                "value": pl.Utf8,
                "first": pl.Int64,
                "last": pl.Int64,
                "src": pl.UInt16,
                "line": pl.Int64,
                "field": pl.Utf8,
            }
        )
    )
    return events, runs_all
