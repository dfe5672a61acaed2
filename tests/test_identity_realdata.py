"""As a user would, on real AIS: the Danish Maritime Authority's CSV (static reports give IMO and MMSI),
then an encounter file that names both vessels by MMSI only: the encounter lands on the two IMO hulls
and no MMSI-keyed vessel is created (graph/identity/hulls.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shadowfleet.cli import main

ENCOUNTER = """kind,vessel_mmsi,vessel2_mmsi,start,end,lat,lon,evidence
sts,257739000,371420000,09/09/2024 02:00,09/09/2024 05:00,55.1,12.9,SAT-FICT-1
"""
MAPPING = Path(__file__).resolve().parents[1] / "loaders" / "mappings" / "events-generic.yaml"


def test_an_encounter_by_mmsi_joins_the_hulls_of_real_ais(
    realdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHADOWFLEET_HOME", str(tmp_path / "home"))
    ais = realdata / "ais-dma-csv-2024" / "aisdk-2024-09-09-mock.csv"
    assert main(["detect", str(ais), "--store", "memory"]) == 0
    events = tmp_path / "encounters.csv"
    events.write_text(ENCOUNTER, encoding="utf-8")
    assert main(["load", "events", str(events), "--mapping", str(MAPPING), "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["vessel", "9271248", "--format", "json"]) == 0  # ARCTIC PRINCESS in the DMA file
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    sts = [r for r in rows if r["fact"] == "PARTICIPATED_IN"]
    assert len(sts) == 1 and sts[0]["detail"]["counterparts"] == ["DIONE"]  # IMO 9729881, by MMSI too
    assert [s["record"] for s in sts[0]["sources"]] == ["encounters.csv#2"]
    capsys.readouterr()
    assert main(["stats", "--format", "json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["nodes"]["Vessel"] == 17  # the DMA file's vessels, and no MMSI-keyed twin
