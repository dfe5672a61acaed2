"""The world's coastline, offline: Natural Earth 1:50m land polygons bundled in ``graph/data``.

Case-file maps draw it; the AIS detectors measure distance from shore with it. The data is TopoJSON
(quantised, delta-encoded arcs); :func:`land_polygons` decodes it once into rings of (lon, lat).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

LAND_FILE = Path(__file__).resolve().parent / "data" / "land-50m.json"
EARTH_RADIUS_KM = 6371.0088

Ring = list[tuple[float, float]]
Polygon = list[Ring]  # the outer ring first, then holes


def _decode_arcs(topology: dict) -> list[Ring]:
    scale_x, scale_y = topology["transform"]["scale"]
    shift_x, shift_y = topology["transform"]["translate"]
    arcs: list[Ring] = []
    for arc in topology["arcs"]:
        x = y = 0
        ring: Ring = []
        for dx, dy in arc:
            x += dx
            y += dy
            ring.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(ring)
    return arcs


def _ring(arcs: list[Ring], indexes: list[int]) -> Ring:
    points: Ring = []
    for index in indexes:
        # A negative index ~i means arc i reversed; consecutive arcs share their joining point.
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)
    return points


@cache
def land_polygons() -> tuple[Polygon, ...]:
    """Every land polygon as rings of (longitude, latitude) in degrees."""
    topology = json.loads(LAND_FILE.read_text(encoding="utf-8"))
    arcs = _decode_arcs(topology)
    polygons: list[Polygon] = []
    for geometry in topology["objects"]["land"]["geometries"]:
        shapes = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for shape in shapes:
            polygons.append([_ring(arcs, ring) for ring in shape])
    return tuple(polygons)


def polygons_in(west: float, south: float, east: float, north: float) -> list[Polygon]:
    """Land polygons whose bounding box meets the given box (degrees; no antimeridian wrap)."""
    chosen = []
    for polygon in land_polygons():
        lons = [p[0] for p in polygon[0]]
        lats = [p[1] for p in polygon[0]]
        if min(lons) <= east and max(lons) >= west and min(lats) <= north and max(lats) >= south:
            chosen.append(polygon)
    return chosen


@cache
def coast_points() -> np.ndarray:
    """Every coastline vertex as an (n, 2) array of (longitude, latitude) degrees."""
    return np.array(
        [point for polygon in land_polygons() for ring in polygon for point in ring], dtype=np.float64
    )


def unit_vectors(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, for nearest-neighbour search by chord length."""
    lon = np.radians(np.asarray(lons, dtype=np.float64))
    lat = np.radians(np.asarray(lats, dtype=np.float64))
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))
