"""Distance from shore against brute force: point-in-polygon over every land ring, and the exact nearest
coast vertex; plus known places on land and at sea."""

from __future__ import annotations

import numpy as np
import pytest

from loaders.ais.geo import haversine_km
from loaders.ais.shore import _rings, distance_from_shore_km, shore_index


def _on_land_brute(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Even-odd ray casting over every ring (longitudes unwrapped; Antarctica's pole ring skipped)."""
    inside = np.zeros(lat.size, dtype=bool)
    for ring in _rings():
        if ring[:, 1].min() < -85:
            continue
        x = np.degrees(np.unwrap(np.radians(ring[:, 0])))
        y = ring[:, 1]
        x0, y0, x1, y1 = x, y, np.roll(x, -1), np.roll(y, -1)
        for shift in (-360.0, 0.0, 360.0):
            px = lon + shift
            sel = np.flatnonzero((px >= x.min()) & (px <= x.max()) & (lat >= y.min()) & (lat <= y.max()))
            if sel.size == 0:
                continue
            p, q = px[sel][:, None], lat[sel][:, None]
            spans = (y0 > q) != (y1 > q)
            cross_x = x0 + (q - y0) * (x1 - x0) / np.where(y1 != y0, y1 - y0, 1.0)
            inside[sel] ^= (spans & (p < cross_x)).sum(axis=1) % 2 == 1
    return inside


def test_land_and_sea_agree_with_point_in_polygon() -> None:
    rng = np.random.default_rng(11)
    lat = np.r_[rng.uniform(-60, 80, 1000), rng.uniform(33, 50, 1000)]  # the world, and around Korea
    lon = np.r_[rng.uniform(-180, 180, 1000), rng.uniform(124, 145, 1000)]
    km, land = shore_index().locate(lat, lon)
    truth = _on_land_brute(lat, lon)
    assert 0.2 < truth.mean() < 0.6  # both sides are well represented
    # within a kilometre of the coastline the side is not resolved; elsewhere it must match
    assert np.array_equal(land[km > 1.0], truth[km > 1.0])


def test_distance_matches_the_nearest_coast_vertex() -> None:
    index = shore_index()
    xyz = index.xyz
    v_lat = np.degrees(np.arcsin(xyz[:, 2]))
    v_lon = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0]))
    # every query point below lies within 500 km of a coast, so vertices 10° around them suffice
    near = (v_lat > 23) & (v_lat < 57) & (v_lon > 116) & (v_lon < 155)
    v_lat, v_lon = v_lat[near], v_lon[near]
    rng = np.random.default_rng(5)
    lat, lon = rng.uniform(33, 47, 150), rng.uniform(126, 145, 150)
    km, _ = index.locate(lat, lon)
    brute = np.array([haversine_km(a, b, v_lat, v_lon).min() for a, b in zip(lat, lon, strict=True)])
    # a segment is at most as far as its vertices, and vertices are at most 1 km apart
    assert np.all(km <= brute + 1e-6)
    assert np.all(brute - km <= 0.5)


@pytest.mark.parametrize(
    ("name", "lat", "lon", "low", "high"),
    [
        ("Nanjing, inland on the Yangtze", 32.06, 118.80, 0.0, 0.0),
        ("Pyongyang", 39.03, 125.75, 0.0, 0.0),
        ("Sea of Japan", 40.0, 135.0, 250.0, 450.0),
        ("open North Pacific", 38.0, 150.0, 500.0, 900.0),
        ("Bering Sea across 180°", 60.0, 180.0, 150.0, 400.0),
        ("Chukotka across 180°", 66.0, -175.0, 0.0, 0.0),
    ],
)
def test_known_places(name: str, lat: float, lon: float, low: float, high: float) -> None:
    (km,) = distance_from_shore_km(np.array([lat]), np.array([lon]))
    assert low <= km <= high, name


def test_antimeridian_is_seamless_and_nan_is_nan() -> None:
    km = distance_from_shore_km(np.array([55.0, 55.0, np.nan]), np.array([179.9999, -179.9999, 10.0]))
    assert km[0] == pytest.approx(km[1], abs=0.05)
    assert np.isnan(km[2])
    assert distance_from_shore_km(np.zeros(0), np.zeros(0)).size == 0
