"""Detected AIS events written to both stores, with evidence, identity history and idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from graph.records import NodeRecord, Provenance
from graph.store import Store
from loaders.ais.params import resolve
from loaders.ais.ports import bundled_ports
from loaders.ais.synth import Leg, offset, track
from shadowfleet.cli import main
from shadowfleet.commands.detect import detect_into

T0 = 1_725_148_800
SEA = (40.0, 135.0)


def _case(tmp_path: Path) -> Path:
    """A giver and a receiver meet at sea; the receiver then calls at Nampo; all in one Parquet file."""
    giver = track(
        273200001, T0, *offset(*SEA, -46.3, 0), [Leg(2.5, 10, 0, 12.0), Leg(4, 0.2, 90, 12.0),
                                                Leg(0.05, 0.2, 90, 6.0), Leg(4, 10, 180, 6.0)], 120
    )  # fmt: skip
    receiver = track(
        445200002, T0, *offset(*SEA, 0.2, 46.3), [Leg(2.5, 10, 270, 5.0), Leg(4, 0.2, 90, 5.0),
                                                 Leg(0.05, 0.2, 90, 11.0), Leg(3, 10, 0, 11.0)], 180
    )  # fmt: skip
    nampo = next(p for p in bundled_ports() if p.key == "KPNAM")
    call = track(
        445200002, T0 + 86400, *offset(nampo.lat, nampo.lon, -10, 0),
        [Leg(10 / 18.52, 10, 0, 11.0), Leg(30, 0, 0, 11.0), Leg(0.05, 0, 0, 4.0), Leg(1, 10, 180, 4.0)], 120,
    )  # fmt: skip
    frame = pl.concat([giver, receiver, call]).with_columns(
        pl.when(pl.col("mmsi") == 445200002)
        .then(pl.lit("SEA SPARROW"))
        .otherwise(pl.lit("NORTHERN STAR"))
        .alias("name")
    )
    path = tmp_path / "case.parquet"
    frame.rename({"t": "timestamp"}).drop("src", "line").write_parquet(path)
    return path


def test_detect_writes_events_with_evidence(store: Store, tmp_path: Path) -> None:
    path = _case(tmp_path)
    prov = Provenance("registry", "r.csv#1", "2024-01-01T00:00:00Z")
    store.write([NodeRecord("Vessel", "imo:9289518", {"mmsi": "445200002", "deadweight": 6000.0}, prov)])
    _, _, stats, _ = detect_into(store, [path], resolve(), options=None)
    assert stats is not None
    counts = store.counts()
    assert counts.nodes.get("StsTransfer") == 1 and counts.relationships.get("PARTICIPATED_IN") == 2
    assert counts.nodes.get("PortCall") == 1 and counts.relationships.get("AT_PORT") == 1
    (sts,) = next(store.scan_nodes("StsTransfer"))
    assert sts.props["detector"] == "ais.encounters"
    assert json.loads(sts.props["parameters"])["encounter_max_distance_m"] == 500.0
    evidence = [json.loads(e) for e in sts.props["evidence"]]
    assert {e["mmsi"] for e in evidence} == {"273200001", "445200002"}
    assert all(e["file"] == "case.parquet" and e["points"] > 50 for e in evidence)
    assert sts.sources()[0].source == "ais" and sts.sources()[0].record.startswith("case.parquet#L")
    edges = {e.src: e for e in store.edges("StsTransfer", [sts.key], ["PARTICIPATED_IN"], "in")}
    # the receiver resolves to the registry vessel holding its MMSI; the giver gets an MMSI key
    assert set(edges) == {"imo:9289518", "mmsi:273200001"}
    receiver = edges["imo:9289518"].props
    assert (receiver["role"], receiver["draught_before"], receiver["draught_after"]) == (
        "receiver",
        5.0,
        11.0,
    )
    assert receiver["implied_cargo_t"] == pytest.approx(6000 * 6 / 7, abs=1)  # draught range 4-11 m
    assert edges["mmsi:273200001"].props["role"] == "giver"
    (call,) = next(store.scan_nodes("PortCall"))
    assert call.props["activity"] == "discharging" and call.props["draught_change_m"] == -7.0
    port = store.get_node("Port", "KPNAM")
    assert port is not None and port.props["country"] == "KP"
    # identity history from AIS: observed name and MMSI periods
    named = store.edges("Vessel", ["imo:9289518"], ["NAMED", "HAS_MMSI"], "out")
    assert {(e.type, e.dst) for e in named} == {("NAMED", "SEA SPARROW"), ("HAS_MMSI", "445200002")}
    assert all(e.props["first_seen"] == "2024-09-01" and e.props["last_seen"] == "2024-09-03" for e in named)
    before = store.counts().as_dict()
    detect_into(store, [path], resolve())
    assert store.counts().as_dict() == before  # idempotent


def test_cli_detect_dry_run_and_params(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _case(tmp_path)
    code = main(["detect", str(path), "--dry-run", "--format", "json", "--param", "gap_min_hours=6"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["written"] is False and out["parameters"]["gap_min_hours"] == 6.0
    assert out["events_encounter"] == 1 and out["events_port_call"] == 1
    assert main(["detect", str(path), "--param", "bogus=1", "--dry-run"]) == 2
    assert main(["detect", "--list-params", "--preset", "starboard", "--format", "json"]) == 0
