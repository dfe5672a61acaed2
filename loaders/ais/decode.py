"""Reading AIS into two columnar tables: positions and static (identity/voyage) reports.

Inputs: raw NMEA 0183 (``!AIVDM``/``!AIVDO``, decoded with pyais), the Danish Maritime Authority CSV
(``# Timestamp`` header, DD/MM/YYYY times, padded cells, 'Unknown'), the NOAA Marine Cadastre CSV,
and Parquet with either CSV layout's columns or the native ones below. Every table is normalised to:

- positions: ``mmsi`` (Int32), ``t`` (Int64, Unix seconds UTC), ``lat``, ``lon`` (Float64),
  ``sog``, ``cog`` (Float32, knots/degrees, NaN when not available), ``draught`` (Float32, from the
  same row in the CSV layouts), ``src`` (UInt16 input file number), ``line`` (Int64 line/row);
- statics: ``mmsi``, ``t``, ``imo``, ``name``, ``call_sign``, ``ship_type`` (Utf8), ``draught``,
  ``src``, ``line``.

A line or row that cannot be read becomes a Reject naming the file, line and reason; the rest goes on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path
from typing import Any

import polars as pl

from loaders.base import LoadError, Reject

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
EMPTY_CELLS = ("", "Unknown", "unknown", "Undefined", "N/A", "NA", "-", "None")

_SENTENCE = re.compile(r"[!$][A-Z]{2}VD[MO],")
_TAG_BLOCK = re.compile(r"^\\([^\\]*)\\")


@dataclass
class AisBatch:
    """What reading one or more AIS files produced."""

    positions: pl.DataFrame
    statics: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


def empty_positions() -> pl.DataFrame:
    return pl.DataFrame(schema=POSITION_SCHEMA)


def empty_statics() -> pl.DataFrame:
    return pl.DataFrame(schema=STATIC_SCHEMA)


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
    if _SENTENCE.search(text):
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


# ---- NMEA ---------------------------------------------------------------------------------------


def _checksum_ok(sentence: str) -> bool:
    body, _, check = sentence[1:].partition("*")
    if len(check) < 2:
        return False
    try:
        expected = int(check[:2], 16)
    except ValueError:
        return False
    return reduce(lambda acc, ch: acc ^ ord(ch), body, 0) == expected


def _parse_time(text: str) -> int | None:
    """Unix seconds from an epoch number (s or ms) or an ISO-8601 timestamp; None if neither."""
    text = text.strip().strip(",;")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        try:
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00").replace("/", "-"))
        except ValueError:
            return None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return int(stamp.timestamp())
    if value > 1e11:
        value /= 1000.0
    return int(value) if 0 < value < 4e9 else None


def _split_line(line: str) -> tuple[str | None, int | None, str | None]:
    """(sentence, receiver time, error) from one line: tag block, leading or trailing timestamp."""
    when: int | None = None
    tag = _TAG_BLOCK.match(line)
    if tag:
        for part in tag.group(1).split("*")[0].split(","):
            if part.startswith("c:"):
                when = _parse_time(part[2:])
        line = line[tag.end() :]
    start = line.find("!")
    if start < 0:
        return None, None, None
    prefix = line[:start].strip()
    if prefix:
        when = _parse_time(prefix)
        if when is None:
            return None, None, f"unrecognised text before the sentence: {prefix[:40]!r}"
    sentence = line[start:]
    star = sentence.find("*")
    if star >= 0 and len(sentence) > star + 3:
        trailer = sentence[star + 3 :]
        sentence = sentence[: star + 3]
        if trailer.strip(" ,;\t"):
            stamp = _parse_time(trailer)
            if stamp is None:
                return None, None, f"unrecognised text after the checksum: {trailer[:40]!r}"
            when = stamp
    return sentence, when, None


def _float(value: Any, missing: float) -> float:
    if value is None:
        return float("nan")
    number = float(value)
    return float("nan") if number == missing else number


def read_nmea(path: Path, src: int) -> AisBatch:
    """Decode raw NMEA 0183 AIS sentences (single and multi-sentence) with pyais."""
    import pyais

    batch = AisBatch(empty_positions(), empty_statics(), files=[path])
    raw = path.read_bytes().decode("utf-8", errors="replace")
    pos_rows: list[tuple[Any, ...]] = []
    static_rows: list[tuple[Any, ...]] = []
    pending: dict[tuple[str, str, str], tuple[int, int | None, list[str]]] = {}
    name = str(path)

    def reject(number: int, reason: str, text: str) -> None:
        batch.rejects.append(Reject(name, number, reason, text[:500]))

    def emit(number: int, when: int | None, sentences: list[str]) -> None:
        try:
            msg = pyais.decode(*sentences)
        except Exception as exc:  # pyais raises several exception types for bad payloads
            reject(number, f"undecodable AIS payload: {exc}", " ".join(sentences))
            return
        kind = int(msg.msg_type)
        batch.count("messages_decoded")
        data = msg.asdict()
        mmsi = int(data.get("mmsi") or 0)
        if kind in POSITION_TYPES:
            lat, lon = data.get("lat"), data.get("lon")
            if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
                batch.count("positions_unavailable")
            elif when is None:
                batch.count("positions_without_time")
                pos_rows.append((mmsi, None, lat, lon, _speed(data), _course(data), None, src, number))
            else:
                pos_rows.append((mmsi, when, lat, lon, _speed(data), _course(data), None, src, number))
        if kind in STATIC_TYPES:
            draught = data.get("draught") if kind == 5 else None
            imo = data.get("imo") if kind == 5 else None
            static_rows.append(
                (
                    mmsi,
                    when,
                    str(imo) if imo else None,
                    _text(data.get("shipname")),
                    _text(data.get("callsign")),
                    str(int(data["ship_type"])) if data.get("ship_type") is not None else None,
                    float(draught) if draught else None,
                    src,
                    number,
                )
            )
        if kind not in POSITION_TYPES and kind not in STATIC_TYPES:
            batch.count("messages_other_types")

    for number, line in enumerate(raw.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        batch.count("lines")
        sentence, when, error = _split_line(line)
        if error:
            reject(number, error, line)
            continue
        if sentence is None or not _SENTENCE.match(sentence):
            batch.count("sentences_other")  # proprietary ($P...) or non-AIS NMEA sentences
            continue
        if not _checksum_ok(sentence):
            reject(number, "checksum mismatch or missing", line)
            continue
        fields = sentence.split("*")[0].split(",")
        if len(fields) != 7 or not fields[1].isdigit() or not fields[2].isdigit():
            reject(number, "malformed AIVDM sentence (expected 7 fields)", line)
            continue
        total, part, seq, channel, payload = int(fields[1]), int(fields[2]), fields[3], fields[4], fields[5]
        if not payload:
            batch.count("empty_payloads")
            continue
        if total <= 1:
            emit(number, when, [sentence])
            continue
        key = (sentence[1:3], seq, channel)
        if part == 1:
            if key in pending:
                first, _, parts = pending.pop(key)
                reject(first, f"incomplete multi-sentence message ({len(parts)} of {total} parts)", parts[0])
            pending[key] = (number, when, [sentence])
            continue
        if key not in pending or len(pending[key][2]) != part - 1:
            reject(number, f"fragment {part} of {total} without its predecessors", line)
            pending.pop(key, None)
            continue
        first, first_when, parts = pending[key]
        parts.append(sentence)
        if part == total:
            del pending[key]
            batch.count("multi_sentence_messages")
            emit(first, first_when if first_when is not None else when, parts)
    for first, _, parts in pending.values():
        reject(first, f"incomplete multi-sentence message ({len(parts)} part(s) received)", parts[0])
    batch.positions = pl.DataFrame(pos_rows, schema=POSITION_SCHEMA, orient="row")
    batch.statics = pl.DataFrame(static_rows, schema=STATIC_SCHEMA, orient="row")
    return batch


def _speed(data: dict[str, Any]) -> float:
    return _float(data.get("speed"), 102.3)


def _course(data: dict[str, Any]) -> float:
    return _float(data.get("course"), 360.0)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).replace("@", " ").split())
    return text or None


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
        pl.col("imo").is_not_null() | pl.col("name").is_not_null() | pl.col("call_sign").is_not_null()
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
            _clean_text(pl.col("imo")).str.replace(r"^IMO", "").alias("imo"),
            _clean_text(pl.col("name")).alias("name"),
            _clean_text(pl.col("call_sign")).alias("call_sign"),
            _clean_text(pl.col("ship_type")).alias("ship_type"),
            pl.lit(src, dtype=pl.UInt16).alias("src"),
            (pl.col("_row") + 1 + header_lines).alias("line"),
            pl.col("_row"),
        )
        .with_columns(
            pl.col("_mmsi").cast(pl.Int32, strict=False).alias("mmsi"),
            (valid_mmsi & valid_t).fill_null(False).alias("_ok"),
            (pl.col("lat").is_between(-90, 90) & pl.col("lon").is_between(-180, 180))
            .fill_null(False)
            .alias("_pos"),
            has_static.alias("_static"),
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
        for row in bad.select("line", "_row", "_mmsi").iter_rows(named=True):
            reason = (
                "no valid MMSI"
                if row["_mmsi"] is None or not 0 < row["_mmsi"] <= 999_999_999
                else "bad timestamp"
            )
            batch.rejects.append(Reject(str(path), int(row["line"]), reason, raws.get(row["_row"], "")))
        table = table.filter(pl.col("_ok"))
    n_pos = int(table["_pos"].sum())
    positions = table if n_pos == table.height else table.filter(pl.col("_pos"))
    batch.count("positions_unavailable", table.height - n_pos)
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
