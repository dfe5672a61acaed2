"""The two columnar tables every AIS reader produces, and the rules every reader applies to them.

- positions: ``mmsi`` (Int32), ``t`` (Int64, Unix seconds UTC), ``lat``, ``lon`` (Float64),
  ``sog``, ``cog`` (Float32, knots/degrees, NaN when not available), ``draught`` (Float32, from the
  same row in the CSV layouts), ``src`` (UInt16 input file number), ``line`` (Int64 line/row);
- statics: ``mmsi``, ``t``, ``imo``, ``name``, ``call_sign``, ``ship_type`` (Utf8), ``draught``,
  ``src``, ``line``.

Positions follow ITU-R M.1371: latitude 91 and longitude 181 mean "not available", which is no
position (counted, not an anomaly); any other value outside ±90/±180, and 0,0 (the value a receiver
or GPS writes when it has no fix), is an impossible position and its report a reject with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from loaders.base import Reject

POSITION_SCHEMA: dict[str, Any] = {
    "mmsi": pl.Int32,
    "t": pl.Int64,
    "lat": pl.Float64,
    "lon": pl.Float64,
    "sog": pl.Float32,
    "cog": pl.Float32,
    "draught": pl.Float32,
    "src": pl.UInt16,
    "line": pl.Int64,
}
STATIC_SCHEMA: dict[str, Any] = {
    "mmsi": pl.Int32,
    "t": pl.Int64,
    "imo": pl.Utf8,
    "name": pl.Utf8,
    "call_sign": pl.Utf8,
    "ship_type": pl.Utf8,
    "draught": pl.Float32,
    "src": pl.UInt16,
    "line": pl.Int64,
}
POSITION_TYPES = frozenset({1, 2, 3, 18, 19, 27})
STATIC_TYPES = frozenset({5, 19, 24})

LAT_NOT_AVAILABLE = 91.0  # ITU-R M.1371 "not available" values
LON_NOT_AVAILABLE = 181.0


@dataclass
class AisBatch:
    """What reading one or more AIS files produced."""

    positions: pl.DataFrame
    statics: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the named counter."""
        self.counts[name] = self.counts.get(name, 0) + n


def empty_positions() -> pl.DataFrame:
    """A positions table with no rows."""
    return pl.DataFrame(schema=POSITION_SCHEMA)


def empty_statics() -> pl.DataFrame:
    """A statics table with no rows."""
    return pl.DataFrame(schema=STATIC_SCHEMA)


def position_problem(lat: float | None, lon: float | None) -> str | None:
    """None for a usable position, "unavailable" for M.1371's not-available values (or a missing
    coordinate), else the reason the position is impossible."""
    if lat is None or lon is None or lat == LAT_NOT_AVAILABLE or lon == LON_NOT_AVAILABLE:
        return "unavailable"
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return f"position out of range (lat {lat:g}, lon {lon:g})"
    if lat == 0.0 and lon == 0.0:
        return "position 0,0 (no fix)"
    return None


def position_flags(lat: pl.Expr, lon: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(unavailable, impossible) as Polars expressions, with the rules of ``position_problem``."""
    unavailable = lat.is_null() | lon.is_null() | (lat == LAT_NOT_AVAILABLE) | (lon == LON_NOT_AVAILABLE)
    impossible = ~unavailable & (
        ~lat.is_between(-90, 90) | ~lon.is_between(-180, 180) | ((lat == 0) & (lon == 0))
    )
    return unavailable.fill_null(True), impossible.fill_null(False)
