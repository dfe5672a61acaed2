"""Vectorised great-circle helpers (numpy): distances, longitude wrapping, speeds."""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088
KM_PER_NM = 1.852


def wrap_lon(lon: np.ndarray | float) -> np.ndarray | float:
    """Longitude folded into [-180, 180)."""
    return (np.asarray(lon) + 180.0) % 360.0 - 180.0


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km; correct across the antimeridian."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi * 0.5) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb * 0.5) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def knots(distance_km: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Speed in knots over a distance and a duration (a zero duration gives inf, or 0 for no move)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = distance_km / KM_PER_NM / (np.asarray(seconds, dtype=np.float64) / 3600.0)
    return np.where(np.asarray(distance_km) == 0, 0.0, speed)


def interpolate_lon(lon0: np.ndarray, lon1: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Interpolate longitude along the short way round (so a track across 180° stays at sea)."""
    delta = wrap_lon(np.asarray(lon1) - np.asarray(lon0))
    return wrap_lon(np.asarray(lon0) + frac * delta)
