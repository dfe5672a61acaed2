"""Impossible fixes (spikes) are left out of the track and flagged with their detector and threshold;
a cloned MMSI (two transmitters) is still cloning, not spikes. All vessels fictional."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from graph.store import Store
from loaders.ais.decode import AisBatch
from loaders.ais.params import resolve
from loaders.ais.pipeline import Detection, run_detectors
from loaders.ais.ports import port_list
from loaders.ais.synth import Leg, draught_statics, offset, track
from shadowfleet.commands.detect import detect_into

T0 = 1_725_148_800  # 2024-09-01T00:00:00Z
RIVER = (45.3, 28.8)  # a river tanker's reach in Europe
SPIKE_ROW = 40  # 02:00 on the track below; its fix is moved to a longitude in Asia


def _river(mmsi: int = 211000701) -> pl.DataFrame:
    """Six hours at 8 kn, a report every 3 minutes, with one fix that puts the tanker in Asia."""
    frame = track(mmsi, T0, *RIVER, [Leg(6, 8, 90)], 180)
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == SPIKE_ROW).then(120.5).otherwise(pl.col("lon")).alias("lon")
    )


def _run(frames: list[pl.DataFrame], **params: object) -> Detection:
    positions = pl.concat(frames)
    batch = AisBatch(positions, draught_statics(positions), files=[Path("river.parquet")])
    return run_detectors(batch, port_list(), resolve("gfw", params))


def test_a_spike_is_left_out_and_flagged_not_called_cloning() -> None:
    frame = _river()
    bad = frame.row(SPIKE_ROW, named=True)
    found = _run([frame])
    assert found.counts["position_spikes_excluded"] == 1
    assert found.counts["positions_in_tracks"] == frame.height - 1
    assert 120.5 not in found.tracks.lon.tolist()
    anomalies = [e for e in found.events if e.kind == "anomaly"]
    assert [e.props["kind"] for e in anomalies] == ["position_spike"]  # not mmsi_cloning
    (spike,) = anomalies
    assert spike.start == bad["t"] == T0 + SPIKE_ROW * 180
    assert "threshold 50.0 kn over more than 10.0 km" in spike.props["detail"]
    (evidence,) = spike.evidence
    assert evidence["first"]["line"] == bad["line"] and evidence["first"]["lon"] == 120.5
    assert found.of("gap") == []


def test_the_threshold_is_a_parameter() -> None:
    # a threshold no move reaches keeps the fix: it is then two impossible moves, i.e. cloning
    found = _run([_river()], spike_max_speed_knots=1e6)
    assert found.counts["position_spikes_excluded"] == 0
    assert [e.props["kind"] for e in found.events if e.kind == "anomaly"] == ["mmsi_cloning"]


def test_two_transmitters_are_cloning_not_spikes() -> None:
    here = track(211000702, T0, *RIVER, [Leg(6, 8, 0)], 120)
    # every report of one ship sits between two of the other: none is an isolated spike
    far = track(211000702, T0 + 60, *offset(*RIVER, 0, 600), [Leg(6, 8, 180)], 120)
    # a second ship reporting only once an hour: each report is isolated, but they agree with each other
    rare = track(211000702, T0 + 30, *offset(*RIVER, 300, 0), [Leg(6, 8, 180)], 3600)
    for frames in ([here, far], [here, rare]):
        found = _run(frames)
        assert found.counts["position_spikes_excluded"] == 0
        assert [e.props["kind"] for e in found.events if e.kind == "anomaly"] == ["mmsi_cloning"]


def test_spike_anomaly_in_the_graph(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "river.parquet"
    _river().rename({"t": "timestamp"}).drop("src", "line").write_parquet(path)
    detect_into(store, [path], resolve())
    (node,) = [n for b in store.scan_nodes("Anomaly") for n in b]
    assert node.props["kind"] == "position_spike" and node.props["detector"] == "ais.position_spikes"
    assert json.loads(node.props["parameters"]) == {"spike_max_speed_knots": 50.0, "spike_min_km": 10.0}
    line = SPIKE_ROW + 1  # Parquet rows count from 1
    assert node.sources()[0].record == f"river.parquet#L{line}-L{line}"
    edges = store.edges("Anomaly", [node.key], ["HAS_ANOMALY"], "in")
    assert [e.src for e in edges] == ["mmsi:211000701"]
    _, _, stats, _ = detect_into(store, [path], resolve())
    assert stats is not None and stats.nodes_created == 0 and stats.edges_created == 0
