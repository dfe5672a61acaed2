"""Distance from shore (km) for many points at once, from the bundled Natural Earth 1:50m coastline.

The coastline (``graph.coastline``) is densified to a vertex at least every ``DENSIFY_KM`` and put in a
KD-tree over unit vectors (chord length orders points like great-circle distance, with no trouble at the
antimeridian or the poles). A point's distance is the great-circle distance to the nearest of the two
coast segments at its nearest vertex; a point on land is 0 km from shore. Which side of the coast a
point lies on comes from the same two segments: the rings follow the TopoJSON convention that land lies
to the right of the direction of travel, for outer rings and holes alike.

Limits: the 1:50m coastline is generalised (about 1 km) and leaves out the smallest islands, so a
point near a small island reads as farther from shore than it is; within about a kilometre of the
coast, land and sea are not told apart reliably, so such points read as their (small) distance.
"""

from __future__ import annotations

import os
import threading
from functools import cache

import numpy as np
from scipy.spatial import cKDTree

from graph.coastline import land_polygons, unit_vectors

EARTH_RADIUS_KM = 6371.0088
DENSIFY_KM = 1.0
_PARALLEL_FROM = 200_000  # query points; below this one thread is faster than starting workers


def _chord_to_km(chord: np.ndarray) -> np.ndarray:
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


def _rings() -> list[np.ndarray]:
    """Every ring as an (n, 2) lon/lat array, consecutive repeated vertices removed."""
    rings = []
    for polygon in land_polygons():
        for ring in polygon:
            r = np.asarray(ring, dtype=np.float64)
            keep = np.r_[True, np.any(r[1:] != r[:-1], axis=1)]
            r = r[keep]
            if len(r) >= 3:
                rings.append(r)
    return rings


class ShoreIndex:
    """Nearest coastline point and land/sea side for arrays of positions."""

    def __init__(self, rings: list[np.ndarray], densify_km: float = DENSIFY_KM) -> None:
        a_parts, b_parts, succ_parts = [], [], []
        offset = 0
        for r in rings:
            closed = r if np.array_equal(r[0], r[-1]) else np.vstack([r, r[:1]])
            a_parts.append(closed[:-1])
            b_parts.append(closed[1:])
            m = len(closed) - 1
            succ_parts.append(offset + (np.arange(m) + 1) % m)
            offset += m
        a_ll, b_ll = np.concatenate(a_parts), np.concatenate(b_parts)
        succ = np.concatenate(succ_parts)
        # Edges along the antimeridian cut or round the pole are artefacts of the projection, not coast.
        cut = (np.abs(a_ll[:, 0]) == 180.0) & (np.abs(b_ll[:, 0]) == 180.0)
        pole = (a_ll[:, 1] < -89.9) & (b_ll[:, 1] < -89.9)
        kept = ~(cut | pole)
        a = unit_vectors(a_ll[:, 0], a_ll[:, 1])
        b = unit_vectors(b_ll[:, 0], b_ll[:, 1])
        length = _chord_to_km(np.linalg.norm(b - a, axis=1))
        pieces = np.maximum(np.ceil(length / densify_km), 1).astype(np.int64)
        # each kept edge emits its start and the points between; a run's last edge also emits its end
        ends_run = kept & ~kept[succ]
        count = np.where(kept, pieces + ends_run, 0)
        first = np.cumsum(count) - count
        edge = np.repeat(np.arange(count.size), count)
        k = np.arange(edge.size) - first[edge]
        frac = (k / pieces[edge])[:, None]
        xyz = a[edge] + frac * (b[edge] - a[edge])
        xyz /= np.linalg.norm(xyz, axis=1)[:, None]
        nxt = np.arange(1, edge.size + 1, dtype=np.int64)
        last = first + count - 1
        ke = np.flatnonzero(kept)
        nxt[last[ke]] = np.where(kept[succ[ke]], first[succ[ke]], -1)
        prv = np.full(edge.size, -1, dtype=np.int64)
        linked = np.flatnonzero(nxt >= 0)
        prv[nxt[linked]] = linked
        self.xyz = xyz
        self.next = nxt
        self.prev = prv
        # sliding-midpoint splits without node compaction: 3-4x faster queries on clustered coast points
        self.tree = cKDTree(xyz, balanced_tree=False, compact_nodes=False)

    @property
    def size(self) -> int:
        """Number of coastline vertices after densifying."""
        return int(self.xyz.shape[0])

    def locate(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(km to the nearest coastline point, on land?) for each point; NaN positions give (nan, False)."""
        lat = np.asarray(lat, dtype=np.float64).ravel()
        lon = np.asarray(lon, dtype=np.float64).ravel()
        km = np.full(lat.shape, np.nan)
        land = np.zeros(lat.shape, dtype=bool)
        ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        if ok.size == 0:
            return km, land
        p = unit_vectors(lon[ok], lat[ok])
        workers = min(os.cpu_count() or 1, 2) if ok.size >= _PARALLEL_FROM else 1
        chord, v = self.tree.query(p, workers=workers)
        best = chord
        side = np.zeros(ok.size, dtype=np.int8)  # +1 land, -1 sea, 0: the nearest point is the vertex
        right = []
        for start, end in ((self.prev[v], v), (v, self.next[v])):
            has = start >= 0
            a, b = self.xyz[np.where(has, start, v)], self.xyz[np.where(has, end, v)]
            ab = b - a
            denom = np.einsum("ij,ij->i", ab, ab)
            t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.where(denom > 0, denom, 1.0), 0.0, 1.0)
            d = np.linalg.norm(p - (a + t[:, None] * ab), axis=1)
            r = np.einsum("ij,ij->i", np.cross(a, b), p) < 0
            closer = has & (d < best)
            side = np.where(closer & (t > 0.0) & (t < 1.0), np.where(r, 1, -1), side).astype(np.int8)
            best = np.where(closer, d, best)
            right.append((has, r))
        (has1, r1), (has2, r2) = right
        r1, r2 = np.where(has1, r1, r2), np.where(has2, r2, r1)
        # The nearest point is the vertex: inside a right turn (a land corner) a point is on land only
        # if right of both segments, inside a left turn if right of either.
        x = self.xyz[v]
        pv = self.xyz[np.where(has1, self.prev[v], v)]
        nv = self.xyz[np.where(has2, self.next[v], v)]
        turn = np.einsum("ij,ij->i", np.cross(x - pv, nv - x), x)
        corner_land = np.where(turn < 0, r1 & r2, r1 | r2)
        on_land = np.where(side == 0, corner_land, side > 0)
        km[ok] = _chord_to_km(best)
        land[ok] = on_land
        return km, land

    def distance_km(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Great-circle km from each point to the coast, 0 for points on land (NaN for NaN positions)."""
        km, land = self.locate(lat, lon)
        return np.where(land, 0.0, km)


_BUILD = threading.Lock()


@cache
def _index() -> ShoreIndex:
    return ShoreIndex(_rings())


def shore_index() -> ShoreIndex:
    """The index over the bundled coastline (built once per process, in about half a second)."""
    with _BUILD:  # two threads asking at once wait for one build
        return _index()


def distance_from_shore_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Km from the bundled coastline for each point; 0 on land."""
    return shore_index().distance_km(lat, lon)
