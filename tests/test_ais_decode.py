"""Decoding AIS: the real NMEA and DMA samples with counts checked, and the awkward cases."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pyais
import pytest

from loaders.ais.decode import read_ais, sniff
from loaders.base import LoadError

NMEA = "ais-nmea-pyais/nmea_data_sample.txt"
DMA = "ais-dma-csv-2024/aisdk-2024-09-09-mock.csv"


def _nmea_expectations(path: Path) -> dict[str, int]:
    """Counts of the sample computed line by line with pyais directly, not with our reader."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    empty = [line for line in lines if line.split(",")[5] == ""]
    fragments = [line for line in lines if line.split(",")[1] != "1" and line.split(",")[5]]
    singles = [line for line in lines if line.split(",")[1] == "1" and line.split(",")[5]]
    positions = 0
    statics = 0
    for line in singles:
        msg = pyais.decode(line)
        if msg.msg_type in (1, 2, 3, 18, 19, 27) and abs(msg.lat) <= 90 and abs(msg.lon) <= 180:
            positions += 1
        if msg.msg_type in (5, 19, 24):
            statics += 1
    return {
        "lines": len(lines),
        "empty": len(empty),
        "fragments": len(fragments),
        "singles": len(singles),
        "positions": positions,
        "statics": statics,
    }


def test_real_nmea_sample_decodes_with_counts(realdata: Path) -> None:
    path = realdata / NMEA
    expected = _nmea_expectations(path)
    assert expected["lines"] == 898 and expected["empty"] == 100 and expected["fragments"] == 20
    batch = read_ais([path])
    assert batch.counts["lines"] == expected["lines"]
    assert batch.counts["empty_payloads"] == expected["empty"]
    assert batch.counts["messages_decoded"] == expected["singles"]
    assert batch.positions.height == expected["positions"]
    assert batch.statics.height == expected["statics"]
    # the sample's 20 multi-sentence fragments never get their second part: each is a reject
    assert len(batch.rejects) == expected["fragments"]
    assert all("incomplete multi-sentence" in r.reason for r in batch.rejects)
    assert {r.line for r in batch.rejects} >= {96, 110}
    # no receiver timestamps in this sample: positions are decoded but untimed
    assert batch.counts["positions_without_time"] == expected["positions"]
    assert batch.positions["t"].null_count() == expected["positions"]


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


def _encode_type5(mmsi: int, name: str, callsign: str, imo: int, draught: float) -> list[str]:
    data = {"type": 5, "mmsi": mmsi, "shipname": name, "callsign": callsign, "imo": imo, "draught": draught}
    return pyais.encode_dict(data, radio_channel="A", seq_id=3)


def _encode_position(mmsi: int, lat: float, lon: float, speed: float = 0.5) -> str:
    return pyais.encode_dict({"type": 1, "mmsi": mmsi, "lat": lat, "lon": lon, "speed": speed})[0]


def _with_checksum(body: str) -> str:
    check = 0
    for ch in body[1:]:
        check ^= ord(ch)
    return f"{body}*{check:02X}"


def test_nmea_timestamps_multipart_proprietary_and_rejects(tmp_path: Path) -> None:
    static = _encode_type5(445123456, "SEA SPARROW", "HMAB1", 9289518, 6.4)
    assert len(static) == 2
    pos = _encode_position(445123456, 39.1, 127.5)
    lines = [
        f"\\s:station1,c:1725148800*00\\{pos}",  # tag block with receiver time
        f"2024-09-01T00:10:00Z {pos}",  # leading ISO timestamp
        f"{pos},1725150000",  # trailing epoch timestamp
        "$PGHP,1,2024,9,1,0,0,0,0,219,,2190047,1,4A*57",  # proprietary sentence: skipped
        f"1725150600 {static[0]}",
        f"1725150600 {static[1]}",
        "!AIVDM,1,1,,A,,0*26",  # empty payload
        pos[:-2] + "00",  # bad checksum
        _with_checksum("!AIVDM,1,1,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0"),  # too few fields
        "garbage !AIVDM,1,1,,A,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24",  # unreadable prefix
        static[1],  # second part without its first
    ]
    path = tmp_path / "mixed.nmea"
    path.write_bytes(
        ("\r\n".join(lines[:4]) + "\n" + "\n".join(lines[4:8]) + "\r" + "\r".join(lines[8:])).encode()
    )
    batch = read_ais([path])
    assert batch.positions["t"].to_list() == [1725148800, 1725149400, 1725150000]
    assert batch.counts["sentences_other"] == 1 and batch.counts["empty_payloads"] == 1
    assert batch.counts["multi_sentence_messages"] == 1
    row = batch.statics.row(0, named=True)
    assert (row["name"], row["call_sign"], row["imo"], row["t"]) == (
        "SEA SPARROW",
        "HMAB1",
        "9289518",
        1725150600,
    )
    assert row["draught"] == pytest.approx(6.4)
    reasons = {r.line: r.reason for r in batch.rejects}
    assert sorted(reasons) == [8, 9, 10, 11]
    assert "checksum" in reasons[8] and "7 fields" in reasons[9]
    assert "before the sentence" in reasons[10] and "without its predecessors" in reasons[11]


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
