"""Per-vessel tracks as sorted numpy arrays, and the 10-minute resampling the detectors share.

Points are sorted by (MMSI, time), so every vessel is one contiguous slice and "the previous point of
the same vessel" is simply the previous index. Exact duplicates are dropped; of two different reports
at the same second the first is kept for the track (both still count for cloning).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from loaders.ais.geo import haversine_km, interpolate_lon, knots

_T_BITS = 34  # vessel index in the high bits of a combined (vessel, time) key; times < 2**34 s
_T_MASK = (1 << _T_BITS) - 1
_SHIFT, _MASK = np.uint64(_T_BITS), np.uint64(_T_MASK)  # MMSIs (< 2**30) and times share a uint64 key
_BLOCK = 1 << 20  # elementwise passes run over blocks this long, which stay in cache and reuse memory


@dataclass
class Tracks:
    """Position reports sorted by vessel then time (one row per vessel and second)."""

    mmsis: np.ndarray  # unique MMSIs, sorted; a vessel's index is its position here
    vid: np.ndarray
    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    sog: np.ndarray
    draught: np.ndarray  # reported with the position (CSV layouts), NaN otherwise
    speed: np.ndarray  # reported SOG where available, else implied by the neighbouring points (float32)
    src: RowColumn  # input file number of each report
    line: RowColumn  # line or row of each report in its file
    starts: np.ndarray
    ends: np.ndarray  # exclusive
    duplicates: int = 0
    same_time_conflicts: int = 0
    jumps: dict[str, np.ndarray] | None = None  # impossible moves between consecutive reports
    spikes: dict[str, np.ndarray] | None = None  # isolated impossible fixes, left out of the track
    sorted_keys: np.ndarray | None = None
    vid0: int = 0  # vessel index of the first vessel (non-zero in a block of a larger track set)

    @property
    def size(self) -> int:
        return int(self.t.size)

    def key(self, vid: np.ndarray, t: np.ndarray) -> np.ndarray:
        return (np.asarray(vid, dtype=np.int64) << _T_BITS) + np.asarray(t, dtype=np.int64)

    @property
    def keys(self) -> np.ndarray:
        return self.key(self.vid, self.t)

    def vessel_of(self, mmsi: np.ndarray) -> np.ndarray:
        """Vessel index of each MMSI, -1 for MMSIs without positions."""
        pos = np.searchsorted(self.mmsis, mmsi)
        pos_c = np.minimum(pos, max(len(self.mmsis) - 1, 0))
        found = (self.mmsis[pos_c] == mmsi) if len(self.mmsis) else np.zeros(len(mmsi), dtype=bool)
        return np.where(found, pos_c, -1)

    def block(self, first: int, stop: int) -> Tracks:
        """Vessels ``first`` to ``stop - 1`` as a Tracks of array views (vessel indexes stay global)."""
        lo, hi = int(self.starts[first]), int(self.ends[stop - 1])
        return Tracks(
            mmsis=self.mmsis,
            vid=self.vid[lo:hi],
            t=self.t[lo:hi],
            lat=self.lat[lo:hi],
            lon=self.lon[lo:hi],
            sog=self.sog[lo:hi],
            draught=self.draught[lo:hi],
            speed=self.speed[lo:hi],
            src=self.src[lo:hi],
            line=self.line[lo:hi],
            starts=self.starts[first:stop] - lo,
            ends=self.ends[first:stop] - lo,
            vid0=first,
        )

    def blocks(self, points: int) -> list[tuple[int, int]]:
        """Vessel ranges [first, stop) of about ``points`` reports each (a vessel is never split)."""
        n_vessels = int(self.starts.size)
        if n_vessels == 0:
            return []
        cuts = np.searchsorted(self.starts, np.arange(points, self.size, points))
        edges = np.unique(np.r_[0, cuts[(cuts > 0) & (cuts < n_vessels)], n_vessels])
        return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]

    def spans(self, vid: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index ranges [i, j) of each vessel's points with t0 <= t <= t1."""
        if self.sorted_keys is None and np.size(vid) * 64 < self.size:
            # few spans (event evidence): search each vessel's own times, no key for every point
            local = np.asarray(vid) - self.vid0
            lo, hi = np.empty(np.size(vid), dtype=np.int64), np.empty(np.size(vid), dtype=np.int64)
            for k, (v, a, b) in enumerate(zip(local, np.asarray(t0), np.asarray(t1), strict=True)):
                first, stop = int(self.starts[v]), int(self.ends[v])
                times = self.t[first:stop]
                lo[k] = first + np.searchsorted(times, a, "left")
                hi[k] = first + np.searchsorted(times, b, "right")
            return lo, hi
        if self.sorted_keys is None:
            self.sorted_keys = self.keys
        return (
            np.searchsorted(self.sorted_keys, self.key(vid, t0), "left"),
            np.searchsorted(self.sorted_keys, self.key(vid, t1), "right"),
        )


class RowColumn:
    """An input column read through the sort order on demand: the file number and line of a report are
    looked up for evidence only, so they are never gathered for every point."""

    def __init__(self, base: np.ndarray, order: np.ndarray | None) -> None:
        self.base = base
        self.order = order

    def __len__(self) -> int:
        return len(self.base) if self.order is None else len(self.order)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            if self.order is None:
                return RowColumn(self.base[index], None)
            return RowColumn(self.base, self.order[index])
        return self.base[index] if self.order is None else self.base[self.order[index]]


def _sorted(frame: pl.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray | None]:
    """The (MMSI, time) key of every row in order, the columns the tracks need in the same order, and
    the input row of each (None when the input was already in order)."""
    mmsi, t = frame["mmsi"].to_numpy(), frame["t"].to_numpy()
    key = np.empty(t.size, dtype=np.uint64)
    for a in range(0, t.size, _BLOCK):
        part = key[a : a + _BLOCK]
        part[:] = mmsi[a : a + _BLOCK]
        part <<= _SHIFT
        part |= t[a : a + _BLOCK].astype(np.uint64)
    names = ["lat", "lon", "sog"] + (["draught"] if frame["draught"].null_count() < frame.height else [])
    if key.size < 2 or not np.any(key[1:] < key[:-1]):
        return key, {name: frame[name].to_numpy() for name in names}, None
    # Polars sorts and gathers the columns on all cores, and faster than numpy's argsort and fancy
    # indexing even on one (about 3.5 against 6.5 CPU-seconds for 20M time-ordered reports).
    row_type = pl.UInt32 if frame.height < 2**32 else pl.UInt64
    table = (
        frame.select(*names, pl.int_range(0, frame.height, dtype=row_type).alias("_row"))
        .with_columns(pl.Series("_key", key))
        .sort("_key", maintain_order=True)
    )
    del key
    columns = {name: table[name].to_numpy() for name in names}
    return table["_key"].to_numpy(), columns, table["_row"].to_numpy()


def build_tracks(
    positions: pl.DataFrame,
    clone_speed_knots: float,
    clone_min_km: float,
    spike_speed_knots: float | None = None,
    spike_min_km: float = 10.0,
) -> Tracks:
    """Sort, de-duplicate and index position reports; note impossible jumps for the cloning detector.

    With ``spike_speed_knots``, an isolated fix that implies more than that speed (over more than
    ``spike_min_km``) both from the vessel's previous fix and to its next one, while those two agree
    with each other, is left out of the track and kept in ``Tracks.spikes`` (see ``_spikes``).
    """
    frame = positions
    t_col = frame["t"]
    if t_col.null_count() or (t_col.len() and (t_col.min() < 0 or t_col.max() > _T_MASK)):  # type: ignore[operator]
        # untimed reports cannot be placed on a track (decode counts them); nor can times before 1970
        frame = frame.filter(pl.col("t").is_between(0, _T_MASK))
    key, columns, order = _sorted(frame)
    lat, lon = columns["lat"], columns["lon"]
    n = key.size
    same_time = np.zeros(n, dtype=bool)
    if n:
        np.equal(key[1:], key[:-1], out=same_time[1:])
    conflicts = np.flatnonzero(same_time)
    dup_at = conflicts[(lat[conflicts] == lat[conflicts - 1]) & (lon[conflicts] == lon[conflicts - 1])]
    n_dup = int(dup_at.size)
    kept = np.flatnonzero(~same_time) if conflicts.size else None  # one report per vessel and second
    spike_at = np.zeros(0, dtype=np.int64)
    spikes = None
    if spike_speed_knots is not None and key.size > 2:
        k_key, k_lat, k_lon = (key, lat, lon) if kept is None else (key[kept], lat[kept], lon[kept])
        local = _spikes(k_key, k_lat, k_lon, spike_speed_knots, spike_min_km)
        spike_at = local if kept is None else kept[local]
        rows = spike_at if order is None else order[spike_at]
        spikes = _spike_details(k_key, k_lat, k_lon, local)
        spikes["src"] = frame["src"].to_numpy()[rows]
        spikes["line"] = frame["line"].to_numpy()[rows]
    # cloning looks at every distinct report but the spikes; the track keeps one report per second
    skip = np.union1d(dup_at, spike_at) if spike_at.size else dup_at
    jumps = _jumps(key, lat, lon, skip, clone_speed_knots, clone_min_km)
    n_conflict = int(conflicts.size) - n_dup
    keep = ~same_time if conflicts.size or spike_at.size else None
    if keep is not None:
        keep[spike_at] = False
    if keep is not None:
        key, lat, lon = key[keep], lat[keep], lon[keep]
        order = np.flatnonzero(keep) if order is None else order[keep]
    del same_time
    n = key.size
    t = np.empty(n, dtype=np.int64)
    changes = [np.zeros(min(n, 1), dtype=np.int64)]
    for a in range(0, n, _BLOCK):
        t[a : a + _BLOCK] = key[a : a + _BLOCK] & _MASK
        b = min(a + _BLOCK, n - 1)
        if a < b:
            changes.append(np.flatnonzero((key[a + 1 : b + 1] >> _SHIFT) != (key[a:b] >> _SHIFT)) + a + 1)
    starts = np.concatenate(changes)
    ends = np.r_[starts[1:], n].astype(np.int64) if n else np.zeros(0, dtype=np.int64)
    mmsis = (key[starts] >> _SHIFT).astype(np.int64)
    del key
    vid = np.repeat(np.arange(starts.size, dtype=np.int32), ends - starts)
    sog = columns["sog"].astype(np.float32, copy=False)
    draught = columns["draught"].astype(np.float32, copy=False) if "draught" in columns else None
    if keep is not None:
        sog = sog[keep]
        draught = draught[keep] if draught is not None else None
    if draught is None:
        draught = np.full(n, np.nan, dtype=np.float32)
    return Tracks(
        mmsis=mmsis,
        vid=vid,
        t=t,
        lat=lat,
        lon=lon,
        sog=sog,
        draught=draught,
        speed=_speed(vid, t, lat, lon, sog),
        src=RowColumn(frame["src"].to_numpy(), order),  # type: ignore[arg-type]
        line=RowColumn(frame["line"].to_numpy(), order),  # type: ignore[arg-type]
        starts=starts,
        ends=ends,
        duplicates=n_dup,
        same_time_conflicts=n_conflict,
        jumps=jumps,
        spikes=spikes,
    )


def _speed(vid: np.ndarray, t: np.ndarray, lat: np.ndarray, lon: np.ndarray, sog: np.ndarray) -> np.ndarray:
    """Reported SOG, or where it is missing the speed implied by the next (else previous) point."""
    missing = np.flatnonzero(~np.isfinite(sog))
    if missing.size == 0 or t.size < 2:
        return sog
    speed = sog.copy()
    fill = np.full(missing.size, np.nan)
    for step in (1, -1):  # after, then before
        other = missing + step
        ok = (other >= 0) & (other < t.size) & np.isnan(fill)
        ok[ok] = vid[other[ok]] == vid[missing[ok]]
        a, b = missing[ok], other[ok]
        fill[ok] = knots(haversine_km(lat[a], lon[a], lat[b], lon[b]), np.abs(t[b] - t[a]))
    speed[missing] = fill
    return speed


def _moves(
    key: np.ndarray, lat: np.ndarray, lon: np.ndarray, skip: np.ndarray, max_knots: float, min_km: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(i0, i1, km, knots) of the moves between consecutive reports of one MMSI, leaving out the
    indexes in ``skip``, that are farther than ``min_km`` and faster than ``max_knots``."""
    empty = np.zeros(0, dtype=np.int64)
    if key.size < 2:
        return empty, empty, np.zeros(0), np.zeros(0)
    reach = min_km / 111.3 / 2  # a move beyond min_km shifts lat or lon at least this much
    view = np.delete(np.arange(key.size), skip) if skip.size else None
    m = key.size if view is None else view.size
    hits = [empty]
    for a in range(0, m - 1, _BLOCK):
        b = min(a + _BLOCK, m - 1)
        ia: slice | np.ndarray = slice(a, b) if view is None else view[a:b]
        ib: slice | np.ndarray = slice(a + 1, b + 1) if view is None else view[a + 1 : b + 1]
        dlon = np.abs(lon[ib] - lon[ia])
        far = (np.abs(lat[ib] - lat[ia]) > reach) | ((dlon > reach) & (dlon < 360 - reach))
        far &= (key[ib] >> _SHIFT) == (key[ia] >> _SHIFT)
        hits.append(np.flatnonzero(far) + a)
    pos = np.concatenate(hits)
    i0, i1 = (pos, pos + 1) if view is None else (view[pos], view[pos + 1])
    t0, t1 = (key[i0] & _MASK).astype(np.int64), (key[i1] & _MASK).astype(np.int64)
    d = haversine_km(lat[i0], lon[i0], lat[i1], lon[i1])
    v = knots(d, np.maximum(t1 - t0, 1))
    bad = (d > min_km) & (v > max_knots)
    return i0[bad], i1[bad], d[bad], v[bad]


def _jumps(
    key: np.ndarray, lat: np.ndarray, lon: np.ndarray, skip: np.ndarray, max_knots: float, min_km: float
) -> dict[str, np.ndarray] | None:
    """Moves between consecutive distinct reports of one MMSI that are too far too fast for one ship."""
    if key.size < 2:
        return None
    i0, i1, d, v = _moves(key, lat, lon, skip, max_knots, min_km)
    return {
        "mmsi": (key[i0] >> _SHIFT).astype(np.int64),
        "t0": (key[i0] & _MASK).astype(np.int64),
        "lat0": lat[i0],
        "lon0": lon[i0],
        "t1": (key[i1] & _MASK).astype(np.int64),
        "lat1": lat[i1],
        "lon1": lon[i1],
        "knots": v,
        "km": d,
    }


def _possible(
    key: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    max_knots: float,
    min_km: float,
) -> np.ndarray:
    """Whether one ship could have gone from report ``a`` to report ``b`` (same rule as ``_moves``)."""
    d = haversine_km(lat[a], lon[a], lat[b], lon[b])
    dt = np.maximum(np.abs((key[b] & _MASK).astype(np.int64) - (key[a] & _MASK).astype(np.int64)), 1)
    return (d <= min_km) | (knots(d, dt) <= max_knots)


def _spikes(key: np.ndarray, lat: np.ndarray, lon: np.ndarray, max_knots: float, min_km: float) -> np.ndarray:
    """Indexes of isolated impossible fixes in reports sorted by (MMSI, time), one per second.

    A fix i is a spike when the moves into it and out of it are both impossible, the fixes before and
    after it are possible for one ship, and neither neighbour is itself such a fix. In a cloned MMSI
    (two transmitters, reports interleaved) every report sits between two of the other ship, so none
    is isolated; consecutive spikes of one MMSI that are possible for one ship from each other are a
    second ship reporting rarely, not bad fixes, and stay too. Both are the cloning detector's.
    """
    i0, _, _, _ = _moves(key, lat, lon, np.zeros(0, dtype=np.int64), max_knots, min_km)
    if i0.size < 2:
        return np.zeros(0, dtype=np.int64)
    raw = i0[1:][np.diff(i0) == 1]  # the moves raw-1 -> raw and raw -> raw+1 are both impossible
    cand = raw[~(np.isin(raw - 1, raw) | np.isin(raw + 1, raw))]
    cand = cand[_possible(key, lat, lon, cand - 1, cand + 1, max_knots, min_km)]
    if cand.size > 1:
        p, q = cand[:-1], cand[1:]
        linked = ((key[p] >> _SHIFT) == (key[q] >> _SHIFT)) & _possible(
            key, lat, lon, p, q, max_knots, min_km
        )
        cand = cand[~(np.r_[linked, False] | np.r_[False, linked])]
    return cand


def _spike_details(
    key: np.ndarray, lat: np.ndarray, lon: np.ndarray, at: np.ndarray
) -> dict[str, np.ndarray]:
    """Each spike with the fixes before and after it and the speeds it implies."""
    t = (key & _MASK).astype(np.int64)
    out: dict[str, np.ndarray] = {"mmsi": (key[at] >> _SHIFT).astype(np.int64)}
    for name, idx in (("", at), ("prev_", at - 1), ("next_", at + 1)):
        out[f"{name}t"], out[f"{name}lat"], out[f"{name}lon"] = t[idx], lat[idx], lon[idx]
    for name, other in (("in", at - 1), ("out", at + 1)):
        d = haversine_km(lat[other], lon[other], lat[at], lon[at])
        out[f"knots_{name}"] = knots(d, np.maximum(np.abs(t[at] - t[other]), 1))
        out[f"km_{name}"] = d
    return out


@dataclass
class Resampled:
    """Tracks on a regular time grid: one row per vessel and slot where a position is known."""

    vid: np.ndarray
    slot: np.ndarray  # time // step
    lat: np.ndarray
    lon: np.ndarray
    speed: np.ndarray
    step: int

    @property
    def size(self) -> int:
        return int(self.slot.size)


def resample(tracks: Tracks, step_s: int, max_gap_s: int) -> Resampled:
    """Positions at every multiple of ``step_s``, interpolated only across gaps of at most ``max_gap_s``.

    A grid time that coincides with a report takes it as is, whatever the gaps around it.
    """
    vid, t, lat, lon, speed = tracks.vid, tracks.t, tracks.lat, tracks.lon, tracks.speed
    if t.size == 0:
        empty = np.zeros(0)
        return Resampled(np.zeros(0, np.int32), np.zeros(0, np.int64), empty, empty, empty, step_s)
    s0, s1 = t[:-1] // step_s, t[1:] // step_s
    interp = (t[1:] - t[:-1]) <= max_gap_s
    n = np.where(interp, s1 - s0, (t[1:] % step_s) == 0)
    n[vid[1:] != vid[:-1]] = 0
    left = np.repeat(np.arange(n.size), n)
    offs = np.arange(left.size) - np.repeat(np.cumsum(n) - n, n)
    slot = np.where(interp[left], s0[left] + 1 + offs, s1[left])
    del s0, s1, interp, n, offs
    right = left + 1
    t_left = t[left]
    frac = (slot * step_s - t_left) / (t[right] - t_left)
    r_lat = lat[left] + frac * (lat[right] - lat[left])
    r_lon = interpolate_lon(lon[left], lon[right], frac)
    sa, sb = speed[left], speed[right]
    r_speed = np.where(
        np.isfinite(sa) & np.isfinite(sb), sa + frac * (sb - sa), np.where(np.isfinite(sa), sa, sb)
    )
    r_vid = vid[left]
    firsts = tracks.starts[(t[tracks.starts] % step_s) == 0]
    if firsts.size:
        at = np.searchsorted(r_vid, vid[firsts], "left")
        r_vid = np.insert(r_vid, at, vid[firsts])
        slot = np.insert(slot, at, t[firsts] // step_s)
        r_lat = np.insert(r_lat, at, lat[firsts])
        r_lon = np.insert(r_lon, at, lon[firsts])
        r_speed = np.insert(r_speed, at, speed[firsts])
    return Resampled(r_vid.astype(np.int32), slot.astype(np.int64), r_lat, r_lon, r_speed, step_s)


@dataclass
class Draughts:
    """Reported draught over time per vessel (static reports and CSV rows), for as-of lookups."""

    keys: np.ndarray
    draught: np.ndarray
    vid: np.ndarray

    def asof(self, tracks: Tracks, vid: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The last draught reported by each vessel at or before each time (NaN when none)."""
        out = np.full(np.shape(vid), np.nan)
        if self.keys.size == 0 or np.size(vid) == 0:
            return out
        pos = np.searchsorted(self.keys, tracks.key(vid, t), "right") - 1
        ok = pos >= 0
        ok[ok] = self.vid[pos[ok]] == np.asarray(vid)[ok]
        out[ok] = self.draught[pos[ok]]
        return out

    def first_after(self, tracks: Tracks, vid: np.ndarray, t: np.ndarray, limit: np.ndarray) -> np.ndarray:
        """The first draught reported at or after ``t`` and no later than ``limit`` (NaN when none)."""
        out = np.full(np.shape(vid), np.nan)
        if self.keys.size == 0 or np.size(vid) == 0:
            return out
        pos = np.searchsorted(self.keys, tracks.key(vid, t), "left")
        ok = pos < self.keys.size
        ok[ok] = self.keys[pos[ok]] <= tracks.key(np.asarray(vid)[ok], np.asarray(limit)[ok])
        out[ok] = self.draught[pos[ok]]
        return out

    def range(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-vessel (min, max) draught arrays indexed by vessel, NaN where none was reported."""
        if self.vid.size == 0:
            return np.zeros(0), np.zeros(0)
        size = int(self.vid.max()) + 1
        lo = np.full(size, np.inf)
        hi = np.full(size, -np.inf)
        np.minimum.at(lo, self.vid, self.draught)
        np.maximum.at(hi, self.vid, self.draught)
        lo[~np.isfinite(lo)] = np.nan
        hi[~np.isfinite(hi)] = np.nan
        return lo, hi


def build_draughts(statics: pl.DataFrame, tracks: Tracks) -> Draughts:
    """Draught reports from static messages and from position rows (only where the value changes)."""
    frame = statics.filter(
        pl.col("draught").is_not_null() & pl.col("t").is_not_null() & (pl.col("draught") > 0)
    )
    vid = tracks.vessel_of(frame["mmsi"].to_numpy().astype(np.int64))
    ok = vid >= 0
    s_vid, s_t = vid[ok], frame["t"].to_numpy()[ok]
    s_dr = frame["draught"].to_numpy()[ok].astype(np.float64)
    d = tracks.draught
    has = np.isfinite(d) & (d > 0)
    if has.any():
        idx = np.flatnonzero(has)
        prev_same = np.r_[False, (tracks.vid[idx[1:]] == tracks.vid[idx[:-1]]) & (d[idx[1:]] == d[idx[:-1]])]
        idx = idx[~prev_same]
        s_vid = np.r_[s_vid, tracks.vid[idx]]
        s_t = np.r_[s_t, tracks.t[idx]]
        s_dr = np.r_[s_dr, d[idx].astype(np.float64)]
    if s_vid.size == 0:
        return Draughts(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
    keys = tracks.key(s_vid, s_t)
    order = np.argsort(keys, kind="stable")
    return Draughts(keys[order], s_dr[order], s_vid[order].astype(np.int64))
