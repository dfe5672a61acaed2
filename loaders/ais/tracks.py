"""Per-vessel tracks as sorted numpy arrays, and the 10-minute resampling the detectors share.

Points are sorted by (MMSI, time), so every vessel is one contiguous slice and "the previous point of
the same vessel" is simply the previous index. Exact duplicates are dropped; of two different reports
at the same second the first is kept for the track (both still count for cloning).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from loaders.ais.geo import haversine_km, interpolate_lon, knots

_T_BITS = 34  # vessel index in the high bits of a combined (vessel, time) key; times < 2**34 s


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
    speed: np.ndarray  # reported SOG where available, else implied by the neighbouring points
    src: np.ndarray
    line: np.ndarray
    starts: np.ndarray
    ends: np.ndarray  # exclusive
    duplicates: int = 0
    same_time_conflicts: int = 0
    jumps: dict[str, np.ndarray] | None = None  # impossible moves between consecutive reports
    sorted_keys: np.ndarray | None = None

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

    def spans(self, vid: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index ranges [i, j) of each vessel's points with t0 <= t <= t1."""
        if self.sorted_keys is None:
            self.sorted_keys = self.keys
        return (
            np.searchsorted(self.sorted_keys, self.key(vid, t0), "left"),
            np.searchsorted(self.sorted_keys, self.key(vid, t1), "right"),
        )


def build_tracks(positions: pl.DataFrame, clone_speed_knots: float, clone_min_km: float) -> Tracks:
    """Sort, de-duplicate and index position reports; note impossible jumps for the cloning detector."""
    frame = positions.filter(pl.col("t").is_not_null()) if positions["t"].null_count() else positions
    # Sort by (MMSI, time) with two keys: an MMSI (up to 999,999,999) shifted left by 34 bits overflows int64.
    order = np.lexsort((frame["t"].to_numpy(), frame["mmsi"].to_numpy()))
    mmsi = frame["mmsi"].to_numpy()[order]
    t = frame["t"].to_numpy()[order]
    lat = frame["lat"].to_numpy()[order]
    lon = frame["lon"].to_numpy()[order]
    n = t.size
    same_vessel = np.zeros(n, dtype=bool)
    same_time = np.zeros(n, dtype=bool)
    if n:
        same_vessel[1:] = mmsi[1:] == mmsi[:-1]
        same_time[1:] = same_vessel[1:] & (t[1:] == t[:-1])
    dup = same_time & np.r_[False, (lat[1:] == lat[:-1]) & (lon[1:] == lon[:-1])]
    n_dup = int(dup.sum())
    # cloning looks at every distinct report; the track keeps one report per vessel and second
    view = np.flatnonzero(~dup) if n_dup else np.arange(n)
    jumps = None
    if view.size > 1:
        va, vb = view[:-1], view[1:]
        reach = clone_min_km / 111.3 / 2  # a move beyond clone_min_km shifts lat or lon at least this much
        dlon = np.abs(lon[vb] - lon[va])
        far = (np.abs(lat[vb] - lat[va]) > reach) | ((dlon > reach) & (dlon < 360 - reach))
        cand = np.flatnonzero(far & (mmsi[vb] == mmsi[va]))
        i0, i1 = va[cand], vb[cand]
        d = haversine_km(lat[i0], lon[i0], lat[i1], lon[i1])
        v = knots(d, np.maximum(t[i1] - t[i0], 1))
        bad = (d > clone_min_km) & (v > clone_speed_knots)
        i0, i1 = i0[bad], i1[bad]
        jumps = {
            "mmsi": mmsi[i0],
            "t0": t[i0],
            "lat0": lat[i0],
            "lon0": lon[i0],
            "t1": t[i1],
            "lat1": lat[i1],
            "lon1": lon[i1],
            "knots": v[bad],
            "km": d[bad],
        }
    n_conflict = int(same_time.sum()) - n_dup
    if same_time.any():
        keep = ~same_time
        mmsi, t, lat, lon = mmsi[keep], t[keep], lat[keep], lon[keep]
        order = order[keep]
    sog = frame["sog"].to_numpy()[order].astype(np.float32)
    draught = frame["draught"].to_numpy()[order].astype(np.float32)
    src = frame["src"].to_numpy()[order]
    line = frame["line"].to_numpy()[order]
    starts = np.flatnonzero(np.r_[True, mmsi[1:] != mmsi[:-1]]) if mmsi.size else np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], mmsi.size] if mmsi.size else np.zeros(0, dtype=np.int64)
    mmsis = mmsi[starts]
    vid = np.repeat(np.arange(starts.size, dtype=np.int32), ends - starts)
    speed = sog.astype(np.float64)
    if t.size > 1 and not np.isfinite(speed).all():
        implied = knots(haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:]), t[1:] - t[:-1])
        same = vid[1:] == vid[:-1]
        after = np.full(t.size, np.nan)
        after[1:][same] = implied[same]
        before = np.full(t.size, np.nan)
        before[:-1][same] = implied[same]
        fill = np.where(np.isnan(after), before, after)
        speed = np.where(np.isfinite(speed), speed, fill)
    return Tracks(
        mmsis=mmsis.astype(np.int64),
        vid=vid,
        t=t.astype(np.int64),
        lat=lat,
        lon=lon,
        sog=sog,
        draught=draught,
        speed=speed,
        src=src,
        line=line,
        starts=starts,
        ends=ends,
        duplicates=n_dup,
        same_time_conflicts=n_conflict,
        jumps=jumps,
    )


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
    i0 = np.flatnonzero(vid[1:] == vid[:-1])
    t0, t1 = t[i0], t[i0 + 1]
    s0, s1 = t0 // step_s, t1 // step_s
    interp = (t1 - t0) <= max_gap_s
    aligned_end = (t1 % step_s) == 0
    n = np.where(interp, s1 - s0, aligned_end.astype(np.int64))
    rep = np.repeat(np.arange(i0.size), n)
    offs = np.arange(rep.size) - np.repeat(np.cumsum(n) - n, n)
    slot = np.where(interp[rep], s0[rep] + 1 + offs, s1[rep])
    left = i0[rep]
    right = left + 1
    frac = (slot * step_s - t[left]) / (t[right] - t[left])
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
