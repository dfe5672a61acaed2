"""Port points: the bundled list of ports of interest, World Port Index CSVs, and nearest-port lookup.

Lookup is a uniform 0.1° grid holding, for every cell, the ports within the index radius of it, so a
point finds its candidates by array indexing instead of comparing against every port.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from loaders.ais.geo import haversine_km
from loaders.base import LoadError

BUNDLED_PORTS = Path(__file__).resolve().parents[1] / "data" / "ports.csv"
_CELL_DEG = 0.1
_NAME_COLS = ("main port name", "port_name", "port name", "name")
_LAT_COLS = ("latitude", "lat", "y")
_LON_COLS = ("longitude", "lon", "lng", "x")
_LOCODE_COLS = ("un/locode", "locode", "unlocode")
_COUNTRY_COLS = ("country code", "country", "iso2")


@dataclass(frozen=True)
class Port:
    """A port or anchorage point."""

    key: str
    name: str
    lat: float
    lon: float
    country: str | None = None
    locode: str | None = None


def _pick(row: dict[str, str], names: Sequence[str]) -> str | None:
    for name in names:
        value = row.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def load_ports(path: Path) -> list[Port]:
    """Read a port CSV: the bundled layout, NGA's World Port Index CSV, or any CSV with name/lat/lon."""
    from loaders.countries import lookup_country

    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    ports: list[Port] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, raw in enumerate(csv.DictReader(handle), start=2):
            row = {(k or "").strip().lower(): (v or "") for k, v in raw.items()}
            name, lat, lon = _pick(row, _NAME_COLS), _pick(row, _LAT_COLS), _pick(row, _LON_COLS)
            if name is None or lat is None or lon is None:
                raise LoadError(f"{path}:{number}: a port needs a name, a latitude and a longitude")
            try:
                flat, flon = float(lat), float(lon)
            except ValueError:
                raise LoadError(f"{path}:{number}: bad coordinates {lat!r}, {lon!r}") from None
            locode = (_pick(row, _LOCODE_COLS) or "").replace(" ", "").upper() or None
            country_raw = _pick(row, _COUNTRY_COLS)
            country = lookup_country(country_raw) if country_raw else None
            key = row.get("key", "").strip() or locode or f"port:{name.upper()}:{flat:.3f}:{flon:.3f}"
            ports.append(Port(key, name, flat, flon, country.code if country else None, locode))
    return ports


def bundled_ports() -> list[Port]:
    """The ports shipped with shadowfleet (loaders/data/ports.csv, see SOURCE-ports.md)."""
    return load_ports(BUNDLED_PORTS)


def port_list(extra: Iterable[Path] = ()) -> list[Port]:
    """The bundled ports plus those in the given CSV files (a repeated key keeps the first)."""
    seen: dict[str, Port] = {}
    for port in [*bundled_ports(), *(p for path in extra for p in load_ports(path))]:
        seen.setdefault(port.key, port)
    return list(seen.values())


class PortIndex:
    """Nearest port within ``radius_km`` of many points at once."""

    def __init__(self, ports: Sequence[Port], radius_km: float) -> None:
        self.ports = list(ports)
        self.radius_km = radius_km
        self.lat = np.array([p.lat for p in self.ports], dtype=np.float64)
        self.lon = np.array([p.lon for p in self.ports], dtype=np.float64)
        self._rows, self._cols = round(180 / _CELL_DEG), round(360 / _CELL_DEG)
        cells: list[int] = []
        owners: list[int] = []
        for i, port in enumerate(self.ports):
            dlat = radius_km / 111.0 + _CELL_DEG
            coslat = max(math.cos(math.radians(min(abs(port.lat) + dlat, 89.9))), 1e-3)
            dlon = min(radius_km / (111.0 * coslat) + _CELL_DEG, 180.0)
            r0, r1 = self._row(port.lat - dlat), self._row(port.lat + dlat)
            c0 = math.floor((port.lon - dlon + 180.0) / _CELL_DEG)
            c1 = math.floor((port.lon + dlon + 180.0) / _CELL_DEG)
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    cells.append(r * self._cols + c % self._cols)
                    owners.append(i)
        cell_ids = np.array(cells, dtype=np.int64)
        order = np.argsort(cell_ids, kind="stable")
        self._owners = np.array(owners, dtype=np.int32)[order]
        uniq, start, count = np.unique(cell_ids[order], return_index=True, return_counts=True)
        # A dense table over the rows that hold any port: one array lookup per point, no search.
        self._row0 = int(uniq[0] // self._cols) if uniq.size else 0
        n_rows = int(uniq[-1] // self._cols) - self._row0 + 1 if uniq.size else 0
        self._first = np.zeros(n_rows * self._cols, dtype=np.int32)
        self._count = np.zeros(n_rows * self._cols, dtype=np.int32)
        self._first[uniq - self._row0 * self._cols] = start
        self._count[uniq - self._row0 * self._cols] = count

    def _row(self, lat: float) -> int:
        return min(max(math.floor((lat + 90.0) / _CELL_DEG), 0), self._rows - 1)

    def nearest(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(port index or -1, distance in km or inf) of the nearest port within the radius of each point."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        best = np.full(lat.shape, -1, dtype=np.int32)
        dist = np.full(lat.shape, np.inf, dtype=np.float64)
        if not self.ports or lat.size == 0 or self._count.size == 0:
            return best, dist
        rows = np.floor((lat + 90.0) / _CELL_DEG).astype(np.int64) - self._row0
        inside = np.flatnonzero((rows >= 0) & (rows < self._count.size // self._cols))
        cell = (
            rows[inside] * self._cols
            + np.floor((lon[inside] + 180.0) / _CELL_DEG).astype(np.int64) % self._cols
        )
        counts = self._count[cell]
        hit = np.flatnonzero(counts)
        if hit.size == 0:
            return best, dist
        idx, counts, starts = inside[hit], counts[hit], self._first[cell[hit]]
        for k in range(int(counts.max())):
            sel = counts > k
            pts = idx[sel]
            owner = self._owners[starts[sel] + k]
            d = haversine_km(lat[pts], lon[pts], self.lat[owner], self.lon[owner])
            better = (d <= self.radius_km) & (d < dist[pts])
            dist[pts[better]] = d[better]
            best[pts[better]] = owner[better]
        return best, dist
