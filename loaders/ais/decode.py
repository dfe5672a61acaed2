"""Reading AIS into two columnar tables: positions and static (identity/voyage) reports.

Inputs: raw NMEA 0183 (``!AIVDM``/``!AIVDO``, decoded with pyais), the Danish Maritime Authority CSV
(``# Timestamp`` header, DD/MM/YYYY times, padded cells, 'Unknown'), the NOAA Marine Cadastre CSV,
and Parquet with either CSV layout's columns or the native ones. Every table is normalised to the
positions and statics tables of ``loaders.ais.frames``; NMEA is read by ``loaders.ais.nmea``.

A line or row that cannot be read becomes a Reject naming the file, line and reason; the rest goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from loaders.ais.frames import (
    POSITION_SCHEMA,
    POSITION_TYPES,
    STATIC_SCHEMA,
    STATIC_TYPES,
    AisBatch,
    empty_positions,
    empty_statics,
    position_flags,
    position_problem,
)
from loaders.ais.nmea import SENTENCE, read_nmea
from loaders.base import LoadError, Reject

__all__ = [
    "POSITION_SCHEMA",
    "POSITION_TYPES",
    "STATIC_SCHEMA",
    "STATIC_TYPES",
    "AisBatch",
    "empty_positions",
    "empty_statics",
    "read_ais",
    "read_dma",
    "read_nmea",
    "read_noaa",
    "read_parquet",
    "sniff",
]
EMPTY_CELLS = ("", "Unknown", "unknown", "Undefined", "N/A", "NA", "-", "None")


# ---- format detection --------------------------------------------------------------------------


def sniff(path: Path) -> str:
    """The AIS layout of a file: nmea, dma, noaa or parquet; LoadError when it is none of them."""
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = text.splitlines()[0].strip() if text.strip() else ""
    if first.startswith("#") and "timestamp" in first.lower():
        return "dma"
    lowered = first.lower().replace(" ", "")
    if "basedatetime" in lowered and "mmsi" in lowered:
        return "noaa"
    if SENTENCE.search(text):
        return "nmea"
    raise LoadError(f"{path}: not AIS (expected NMEA !AIVDM sentences, a DMA or NOAA CSV, or Parquet)")


def read_ais(paths: Sequence[Path], fmt: str = "auto") -> AisBatch:
    """Read AIS files of any supported layout into one batch (file numbers follow ``paths``)."""
    batch = AisBatch(empty_positions(), empty_statics(), files=list(paths))
    pos_parts, static_parts = [], []
    for src, path in enumerate(paths):
        kind = sniff(path) if fmt == "auto" else fmt
        reader = {"nmea": read_nmea, "dma": read_dma, "noaa": read_noaa, "parquet": read_parquet}.get(kind)
        if reader is None:
            raise LoadError(f"unknown AIS format {kind!r}; choose nmea, dma, noaa or parquet")
        part = reader(path, src)
        pos_parts.append(part.positions)
        static_parts.append(part.statics)
        batch.rejects.extend(part.rejects)
        for name, n in part.counts.items():
            batch.count(name, n)
        batch.count(f"files_{kind}")
    if pos_parts:
        batch.positions = pl.concat(pos_parts, how="vertical_relaxed")
        batch.statics = pl.concat(static_parts, how="vertical_relaxed")
    return batch


# ---- CSV and Parquet ------------------------------------------------------------------------------

# Column names of each layout (matched after stripping and lower-casing) → our names.
DMA_COLUMNS = {
    "# timestamp": "time",
    "timestamp": "time",
    "mmsi": "mmsi",
    "latitude": "lat",
    "longitude": "lon",
    "sog": "sog",
    "cog": "cog",
    "imo": "imo",
    "callsign": "call_sign",
    "name": "name",
    "ship type": "ship_type",
    "draught": "draught",
}
NOAA_COLUMNS = {
    "mmsi": "mmsi",
    "basedatetime": "time",
    "lat": "lat",
    "lon": "lon",
    "sog": "sog",
    "cog": "cog",
    "vesselname": "name",
    "imo": "imo",
    "callsign": "call_sign",
    "vesseltype": "ship_type",
    "draft": "draught",
}
NATIVE_COLUMNS = {
    "mmsi": "mmsi",
    "t": "time",
    "time": "time",
    "timestamp": "time",
    "lat": "lat",
    "latitude": "lat",
    "lon": "lon",
    "longitude": "lon",
    "sog": "sog",
    "speed": "sog",
    "cog": "cog",
    "course": "cog",
    "draught": "draught",
    "draft": "draught",
    "imo": "imo",
    "name": "name",
    "shipname": "name",
    "call_sign": "call_sign",
    "callsign": "call_sign",
    "ship_type": "ship_type",
}


def _rename(frame: pl.DataFrame, mapping: dict[str, str]) -> pl.DataFrame:
    renamed: dict[str, str] = {}
    for column in frame.columns:
        target = mapping.get(column.strip().lower())
        if target and target not in renamed.values():
            renamed[column] = target
    return frame.select([pl.col(c).alias(n) for c, n in renamed.items()])


def _clean_text(expr: pl.Expr) -> pl.Expr:
    stripped = expr.cast(pl.Utf8).str.strip_chars()
    return pl.when(stripped.is_in(EMPTY_CELLS)).then(None).otherwise(stripped)


def _normalise(frame: pl.DataFrame, path: Path, src: int, time_format: str | None) -> AisBatch:
    """Turn a renamed frame (time, mmsi, lat, lon, ... as strings or numbers) into the two tables."""
    batch = AisBatch(empty_positions(), empty_statics(), files=[path])
    n = frame.height
    batch.count("rows", n)
    for column in ("imo", "name", "call_sign", "ship_type", "sog", "cog", "draught", "lat", "lon"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(column))
    if "time" not in frame.columns or "mmsi" not in frame.columns:
        raise LoadError(f"{path}: no timestamp or MMSI column")
    header_lines = 1 if time_format is not None or path.suffix.lower() != ".parquet" else 0
    frame = frame.with_columns(pl.int_range(0, n, dtype=pl.Int64).alias("_row"))

    time_col = frame["time"]
    if time_col.dtype == pl.Utf8 or time_col.dtype == pl.String:
        text = _clean_text(pl.col("time"))
        if time_format:
            t_expr = text.str.strptime(pl.Datetime("us"), time_format, strict=False)
        else:
            t_expr = text.str.replace("Z$", "").str.to_datetime(time_unit="us", strict=False)
        t_expr = t_expr.dt.epoch("s")
    elif time_col.dtype.is_temporal():
        t_expr = pl.col("time").cast(pl.Datetime("us")).dt.epoch("s")
    else:
        t_expr = pl.col("time").cast(pl.Int64)

    def num(name: str, dtype: Any) -> pl.Expr:
        column = pl.col(name)
        if frame[name].dtype in (pl.Utf8, pl.String):
            column = _clean_text(column)
        return column.cast(pl.Float64, strict=False).cast(dtype)

    mmsi_expr = pl.col("mmsi")
    if frame["mmsi"].dtype in (pl.Utf8, pl.String):
        mmsi_expr = _clean_text(mmsi_expr)
    valid_mmsi = pl.col("_mmsi").is_between(1, 999_999_999)
    # Unix seconds from 1970 to 2514: the range a track key holds (loaders/ais/tracks.py)
    valid_t = pl.col("t").is_between(0, (1 << 34) - 1)
    has_static = (
        (pl.col("_imo").is_not_null() & ~pl.col("_imo").str.contains(r"^0+$"))
        | pl.col("name").is_not_null()
        | pl.col("call_sign").is_not_null()
    )
    unavailable, impossible = position_flags(pl.col("lat"), pl.col("lon"))
    # "IMO9289518", " 9289518 ", "9289518.0" -> "9289518"; anything else is kept as claimed (records.py)
    imo_text = (
        _clean_text(pl.col("imo"))
        .str.to_uppercase()
        .str.replace(r"^IMO[\s:#]*", "")
        .str.replace(r"\.0$", "")
        .str.strip_chars()
    )
    # One pass: every output column in its final type, plus the flags the filters below need.
    table = (
        frame.lazy()
        .select(
            mmsi_expr.cast(pl.Int64, strict=False).alias("_mmsi"),
            t_expr.alias("t"),
            num("lat", pl.Float64).alias("lat"),
            num("lon", pl.Float64).alias("lon"),
            num("sog", pl.Float32).fill_null(float("nan")).alias("sog"),
            num("cog", pl.Float32).fill_null(float("nan")).alias("cog"),
            num("draught", pl.Float32).alias("draught"),
            imo_text.alias("_imo"),
            _clean_text(pl.col("name")).alias("name"),
            _clean_text(pl.col("call_sign")).alias("call_sign"),
            _clean_text(pl.col("ship_type")).alias("ship_type"),
            pl.lit(src, dtype=pl.UInt16).alias("src"),
            (pl.col("_row") + 1 + header_lines).alias("line"),
            pl.col("_row"),
        )
        .with_columns(
            pl.col("_mmsi").cast(pl.Int32, strict=False).alias("mmsi"),
            # all zeros is M.1371's "not available" (and identifies nothing): no IMO, counted
            pl.col("_imo").str.contains(r"^0+$").fill_null(False).alias("_imo0"),
            unavailable.alias("_na"),
            impossible.alias("_bad"),
            has_static.alias("_static"),
        )
        .with_columns(
            (valid_mmsi & valid_t & ~pl.col("_bad")).fill_null(False).alias("_ok"),
            pl.when(pl.col("_imo0")).then(None).otherwise(pl.col("_imo")).alias("imo"),
        )
        .collect()
    )
    n_ok = int(table["_ok"].sum())
    if n_ok < table.height:
        bad = table.filter(~pl.col("_ok"))
        sample = frame.filter(pl.col("_row").is_in(bad["_row"].head(10_000).implode()))
        raws = {
            row["_row"]: str({k: v for k, v in row.items() if k != "_row"})[:500] for row in sample.to_dicts()
        }
        batch.count("positions_impossible", int(bad["_bad"].sum()))
        for row in bad.select("line", "_row", "_mmsi", "t", "lat", "lon").iter_rows(named=True):
            if row["_mmsi"] is None or not 0 < row["_mmsi"] <= 999_999_999:
                reason = "no valid MMSI"
            elif row["t"] is None or not 0 <= row["t"] < 1 << 34:
                reason = "bad timestamp"
            else:  # the row's position is impossible: the whole row is the reject
                reason = str(position_problem(row["lat"], row["lon"]))
            batch.rejects.append(Reject(str(path), int(row["line"]), reason, raws.get(row["_row"], "")))
        table = table.filter(pl.col("_ok"))
    if n_zero := int(table["_imo0"].sum()):
        batch.count("imo_not_available", n_zero)
    n_na = int(table["_na"].sum())
    positions = table.filter(~pl.col("_na")) if n_na else table
    batch.count("positions_unavailable", n_na)
    batch.positions = positions.select(list(POSITION_SCHEMA))
    statics = table.filter(pl.col("_static")) if table["_static"].any() else table.clear()
    batch.statics = compress_statics(statics.select(list(STATIC_SCHEMA)))
    return batch


def compress_statics(frame: pl.DataFrame) -> pl.DataFrame:
    """Keep the first and last report of each run of identical static values per vessel.

    CSV layouts repeat the name, IMO and call sign on every row; the runs are all the identity
    history needs. Draught lives with the positions (see ``tracks``).
    """
    if frame.height == 0:
        return frame
    frame = frame.sort("mmsi", "t")
    cols = ["mmsi", "imo", "name", "call_sign"]
    same_prev = pl.all_horizontal([pl.col(c).eq_missing(pl.col(c).shift(1)) for c in cols])
    same_next = pl.all_horizontal([pl.col(c).eq_missing(pl.col(c).shift(-1)) for c in cols])
    return frame.filter(~(same_prev & same_next))


def _read_csv(path: Path) -> pl.DataFrame:
    try:
        return pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True, encoding="utf8-lossy")
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise LoadError(f"{path}: cannot read CSV: {exc}") from None


def read_dma(path: Path, src: int) -> AisBatch:
    """Danish Maritime Authority CSV: ``# Timestamp`` header, DD/MM/YYYY HH:MM:SS, padded cells."""
    return _normalise(_rename(_read_csv(path), DMA_COLUMNS), path, src, "%d/%m/%Y %H:%M:%S")


def read_noaa(path: Path, src: int) -> AisBatch:
    """NOAA Marine Cadastre CSV (``MMSI,BaseDateTime,LAT,LON,SOG,COG,...,Draft,...``)."""
    frame = _rename(_read_csv(path), NOAA_COLUMNS)
    return _normalise(frame, path, src, "%Y-%m-%dT%H:%M:%S")


def read_parquet(path: Path, src: int) -> AisBatch:
    """Parquet with the native, NOAA or DMA column names (time as datetime, Unix seconds or text)."""
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise LoadError(f"{path}: cannot read Parquet: {exc}") from None
    lowered = {c.strip().lower() for c in frame.columns}
    mapping = (
        NOAA_COLUMNS
        if "basedatetime" in lowered
        else DMA_COLUMNS
        if "# timestamp" in lowered
        else NATIVE_COLUMNS
    )
    fmt = "%d/%m/%Y %H:%M:%S" if mapping is DMA_COLUMNS else None
    return _normalise(_rename(frame, mapping), path, src, fmt)
