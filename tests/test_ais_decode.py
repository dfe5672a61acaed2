"""Decoding AIS CSV and Parquet: the real DMA sample with counts checked, and the awkward cases (NMEA is
tests/test_ais_nmea.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from loaders.ais.decode import read_ais, sniff
from loaders.base import LoadError

DMA = "ais-dma-csv-2024/aisdk-2024-09-09-mock.csv"


def test_real_dma_sample_decodes_with_counts(realdata: Path) -> None:
    path = realdata / DMA
    with path.open(newline="") as handle:
        rows = [{k.strip(): v.strip() for k, v in row.items()} for row in csv.DictReader(handle)]
    assert len(rows) == 20
    located = [r for r in rows if abs(float(r["Latitude"])) <= 90 and abs(float(r["Longitude"])) <= 180]
    unknown_imo = sum(r["IMO"] == "Unknown" for r in rows)
    assert unknown_imo == 8
    batch = read_ais([path])
    assert sniff(path) == "dma"
    assert batch.counts["rows"] == 20
    assert not batch.rejects
    assert batch.positions.height == len(located)
    first = batch.positions.sort("line").row(0, named=True)
    assert first["mmsi"] == 257739000 and first["t"] == 1725840033  # 09/09/2024 00:00:33 UTC
    assert first["draught"] == pytest.approx(11.4)
    named = {r["MMSI"] for r in rows if r["Name"] or r["IMO"] != "Unknown" or r["Callsign"] != "Unknown"}
    assert set(batch.statics["mmsi"].cast(pl.Utf8).to_list()) == named
    assert "Unknown" not in batch.statics["imo"].drop_nulls().to_list()
    assert batch.statics.filter(pl.col("mmsi") == 257739000)["name"].to_list()[0] == "ARCTIC PRINCESS"


def test_noaa_csv_and_parquet(tmp_path: Path) -> None:
    path = tmp_path / "AIS_2024_09_01.csv"
    path.write_text(
        "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,"
        "Draft,Cargo,TransceiverClass\n"
        "367000001,2024-09-01T00:00:00,29.5,-94.2,0.1,90.0,511,NORTHERN LIGHT,IMO9289518,WDA1,80,1,180,30,"
        "9.5,80,A\n"
        "367000001,2024-09-01T00:05:00,29.5,-94.2,0.1,90.0,511,NORTHERN LIGHT,IMO9289518,WDA1,80,1,180,30,"
        "9.5,80,A\n"
        "bad,2024-09-01T00:05:00,29.5,-94.2,0.1,90.0,511,,,,,,,,,,A\n"
        "367000002,not a date,29.5,-94.2,0.1,90.0,511,,,,,,,,,,A\n"
    )
    batch = read_ais([path])
    assert sniff(path) == "noaa"
    assert batch.positions.height == 2
    assert [r.line for r in batch.rejects] == [4, 5]
    assert batch.statics["imo"].to_list() == ["9289518", "9289518"]  # first and last of the run
    parquet = tmp_path / "ais.parquet"
    batch.positions.drop("src", "line").rename({"t": "timestamp"}).write_parquet(parquet)
    again = read_ais([parquet])
    assert sniff(parquet) == "parquet"
    assert again.positions["t"].to_list() == batch.positions["t"].to_list()
    assert again.positions["draught"].to_list() == pytest.approx([9.5, 9.5])


def test_not_ais_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(LoadError, match="not AIS"):
        read_ais([path])
    with pytest.raises(LoadError, match="no such file"):
        sniff(tmp_path / "missing")


def test_csv_positions_not_available_are_no_position_impossible_ones_rejects(tmp_path: Path) -> None:
    path = tmp_path / "aisdk-2024-09-01.csv"
    header = "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,SOG,COG,IMO,Callsign,Name,Draught\n"
    rows = [
        "01/09/2024 00:00:00,Class A,445000101,39.1,127.5,0.1,90,Unknown,HMAB1,SEA SPARROW,6.4",
        "01/09/2024 00:01:00,Class A,445000101,91,0,,,Unknown,HMAB1,SEA SPARROW,6.4",  # not available
        "01/09/2024 00:02:00,Class A,445000101,0,0,0.1,90,Unknown,HMAB1,SEA SPARROW,6.4",  # no fix
        "01/09/2024 00:03:00,Class A,445000101,95.5,127.5,0.1,90,Unknown,HMAB1,SEA SPARROW,6.4",
        "01/09/2024 00:04:00,Class A,445000101,39.1,-200,0.1,90,Unknown,HMAB1,SEA SPARROW,6.4",
        "01/09/2024 00:05:00,Class A,445000101,39.1,181,,,Unknown,HMAB1,SEA SPARROW,6.4",  # not available
    ]
    path.write_text(header + "\n".join(rows) + "\n")
    batch = read_ais([path])
    assert batch.positions["line"].to_list() == [2]
    assert batch.counts["positions_unavailable"] == 2 and batch.counts["positions_impossible"] == 3
    reasons = {r.line: r.reason for r in batch.rejects}
    assert reasons == {
        4: "position 0,0 (no fix)",
        5: "position out of range (lat 95.5, lon 127.5)",
        6: "position out of range (lat 39.1, lon -200)",
    }
    # the rows without a position still report the vessel's identity; the rejected rows do not
    assert sorted(batch.statics["line"].to_list()) == [2, 7]
