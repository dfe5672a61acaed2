"""The AIS detectors on synthetic tracks with known events (all vessels fictional)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from loaders.ais.decode import AisBatch
from loaders.ais.geo import haversine_km
from loaders.ais.params import ParameterError, resolve
from loaders.ais.pipeline import Detection, run_detectors
from loaders.ais.ports import bundled_ports, port_list
from loaders.ais.synth import Leg, draught_statics, offset, statics, track

T0 = 1_725_148_800  # 2024-09-01T00:00:00Z
SEA = (40.0, 135.0)  # Sea of Japan, far from every bundled port and 330 km from shore
OCEAN = (38.0, 150.0)  # the open Pacific, 690 km from shore
COAST = (37.5, 129.6)  # 30 km off the east coast of Korea, 240 km from the nearest bundled port
SPEED = 12.0
APPROACH_KM = 2.5 * SPEED * 1.852


def _run(frames: list[pl.DataFrame], static_rows: pl.DataFrame | None = None, **params: object) -> Detection:
    positions = pl.concat(frames)
    extra = static_rows if static_rows is not None else draught_statics(positions)
    batch = AisBatch(positions, extra, files=[Path("synthetic.parquet")])
    return run_detectors(batch, port_list(), resolve("gfw", params))


def _meeting(mmsi: int, north_km: float, east_km: float, heading_in: float, hours: float = 4.0,
             start: int = T0, centre: tuple[float, float] = SEA, interval: int = 120,
             draughts: tuple[float, float] = (8.0, 8.0), drift: float = 0.3) -> pl.DataFrame:  # fmt: skip
    """Steam 2.5 h at 12 kn to a point near ``centre``, drift ``hours`` at ``drift`` kn, steam away."""
    back = heading_in + 180
    lat, lon = offset(*centre, north_km, east_km)
    import math

    lat0, lon0 = offset(
        lat, lon, APPROACH_KM * math.cos(math.radians(back)), APPROACH_KM * math.sin(math.radians(back))
    )
    legs = [
        Leg(2.5, SPEED, heading_in, draughts[0]),
        Leg(hours, drift, 90, draughts[0]),
        Leg(0.02, drift, 90, draughts[1]),
        Leg(4, SPEED, heading_in, draughts[1]),
    ]
    return track(mmsi, start, lat0, lon0, legs, interval)


def test_known_encounter_with_draughts_and_evidence() -> None:
    a = _meeting(273100001, 0, 0, 0, draughts=(12.0, 6.0))
    b = _meeting(445100002, 0.2, 0, 270, interval=180, draughts=(5.0, 11.0))
    found = _run([a, b])
    (enc,) = found.of("encounter")
    assert enc.mmsis == (273100001, 445100002)
    assert enc.start == T0 + 9000 and enc.end == T0 + 9000 + 4 * 3600
    assert enc.props["min_distance_m"] == pytest.approx(200, abs=5)
    assert enc.props["median_speed_knots"] < 2
    assert enc.props["draughts"] == [(12.0, 6.0), (5.0, 11.0)]
    assert [ev["mmsi"] for ev in enc.evidence] == ["273100001", "445100002"]
    assert enc.evidence[0]["points"] == 4 * 30 + 1 and enc.evidence[0]["first"]["t"] == enc.start
    assert len(found.of("loitering")) == 2


def test_encounter_across_midnight_and_chunk_boundaries_is_one_event() -> None:
    start = T0 + 86400 - 5 * 3600  # drifting from 21:30 to 02:30
    a = _meeting(273100003, 0, 0, 0, start=start, hours=5)
    b = _meeting(445100004, 0.1, 0, 180, start=start, hours=5)
    for chunk in (24, 1):
        (enc,) = _run([a, b], chunk_hours=chunk).of("encounter")
        assert enc.end - enc.start == 5 * 3600


def test_three_vessels_together_give_three_pairs() -> None:
    frames = [
        _meeting(273100010, 0, 0, 0),
        _meeting(273100011, 0.15, 0, 120),
        _meeting(273100012, 0, 0.15, 240),
    ]
    pairs = {e.mmsis for e in _run(frames).of("encounter")}
    assert pairs == {(273100010, 273100011), (273100010, 273100012), (273100011, 273100012)}


def test_moored_in_same_port_is_a_port_call_not_an_sts() -> None:
    vostochny = next(p for p in bundled_ports() if p.key == "RUVYP")
    centre = (vostochny.lat, vostochny.lon)
    a = _meeting(273100020, 0, 0, 0, centre=centre, hours=20, draughts=(5.5, 11.5), drift=0.0)
    b = _meeting(273100021, 0.1, 0, 0, centre=centre, hours=20, draughts=(11.0, 11.0), drift=0.0)
    found = _run([a, b])
    assert found.of("encounter") == [] and found.of("loitering") == []
    calls = {e.mmsis[0]: e for e in found.of("port_call")}
    assert set(calls) == {273100020, 273100021}
    call = calls[273100020]
    assert call.props["port"].key == "RUVYP"
    assert (call.props["draught_in"], call.props["draught_out"]) == (5.5, 11.5)
    # inside 3 km on the way in, beyond 4 km on the way out: 20 h moored plus about 0.4 h of steaming
    assert call.props["hours"] == pytest.approx(20 + (3 + 4) / (SPEED * 1.852), abs=0.1)


def test_fast_pass_by_is_not_an_encounter() -> None:
    lat, lon = offset(*SEA, 0, -40)
    a = track(273100030, T0, lat, lon, [Leg(6, 15, 90)], 60)
    lat, lon = offset(*SEA, 0.1, 40)
    b = track(273100031, T0, lat, lon, [Leg(6, 15, 270)], 60)
    found = _run([a, b], encounter_min_duration_minutes=0)
    assert found.of("encounter") == []


def test_single_position_vessel_and_empty_input() -> None:
    lone = track(273100040, T0, *SEA, [Leg(0.0)])
    assert lone.height == 1
    found = _run([lone])
    assert found.events == [] and found.counts["vessels"] == 1
    empty = _run([lone.head(0)])
    assert empty.events == []


def test_antimeridian_crossing_track_and_encounter() -> None:
    centre = (52.0, 179.99)
    a = _meeting(273100050, 0, 0, 90)
    a = _meeting(273100050, 0, 0, 90, centre=centre)
    b = _meeting(273100051, 0.2, 0, 270, centre=centre)
    found = _run([a, b])
    (enc,) = found.of("encounter")
    assert abs(enc.props["lon"]) > 179.9
    assert found.of("gap") == [] and not [e for e in found.events if e.props.get("kind") == "mmsi_cloning"]
    crossing = track(273100052, T0, 52.0, 179.5, [Leg(6, 12, 90)], 60)
    assert crossing["lon"].min() < 0 < crossing["lon"].max()
    assert _run([crossing]).events == []


def test_duplicate_and_out_of_order_messages_change_nothing() -> None:
    a = _meeting(273100060, 0, 0, 0)
    b = _meeting(445100061, 0.2, 0, 270)
    clean = _run([a, b])
    messy = pl.concat([a, b, a.sample(fraction=0.3, seed=1)]).sample(fraction=1.0, shuffle=True, seed=2)
    found = _run([messy])
    assert found.counts["duplicates_dropped"] == int(a.height * 0.3)
    key = [(e.kind, e.mmsis, e.start, e.end) for e in clean.events]
    assert [(e.kind, e.mmsis, e.start, e.end) for e in found.events] == key


def test_ais_gap_and_suspected_disabling() -> None:
    lat, lon = offset(*OCEAN, 0, -50)
    before = track(273100070, T0, lat, lon, [Leg(60, 10, 90)], 60)
    cut_start, cut_end = T0 + 36 * 3600, T0 + 36 * 3600 + 14 * 3600
    dark = before.filter((pl.col("t") < cut_start) | (pl.col("t") > cut_end))
    (gap,) = _run([dark]).of("gap")
    assert gap.props["hours"] == pytest.approx(14, abs=0.05)
    assert gap.props["implied_speed_knots"] == pytest.approx(10, abs=0.3)
    assert gap.props["suspected_disabling"] is True
    assert min(gap.props["start_shore_km"], gap.props["end_shore_km"]) > 50 * 1.852
    assert gap.props["positions_before"] == 36 * 60  # the track starts 36 h before the gap
    sparse = dark.gather_every(30)  # a position every 30 min: poor reception before the gap
    (gap2,) = _run([sparse]).of("gap")
    assert gap2.props["suspected_disabling"] is False
    assert _run([dark], gap_min_hours=20).of("gap") == []


def test_gap_near_the_coast_is_not_suspected_disabling() -> None:
    """Far from every port but within 50 nm of the shore: GFW's rule measures from the shore."""
    drift = track(273100072, T0, *COAST, [Leg(60, 1, 180)], 60)
    dark = drift.filter((pl.col("t") < T0 + 36 * 3600) | (pl.col("t") > T0 + 50 * 3600))
    (gap,) = _run([dark]).of("gap")
    assert 5 < gap.props["start_shore_km"] < 50 * 1.852 and 5 < gap.props["end_shore_km"] < 50 * 1.852
    ends = [(gap.props["start_lat"], gap.props["start_lon"]), (gap.props["end_lat"], gap.props["end_lon"])]
    nearest_port = min(haversine_km(la, lo, p.lat, p.lon) for la, lo in ends for p in bundled_ports())
    assert nearest_port > 50 * 1.852  # a rule measured from port points would have flagged it
    assert gap.props["suspected_disabling"] is False
    assert _run([dark], gap_disabling_min_offshore_nm=5).of("gap")[0].props["suspected_disabling"] is True


def test_loitering_needs_to_be_far_from_shore() -> None:
    """GFW: slow for >= 4 h, on average >= 20 nm from shore; near the coast it is not loitering."""
    at_sea = track(273100073, T0, *SEA, [Leg(8, 0.5, 0)], 120)
    (loiter,) = _run([at_sea]).of("loitering")
    assert loiter.props["hours"] >= 7.5 and loiter.props["shore_km"] > 300
    coastal = track(273100074, T0, *offset(*COAST, -40, -10), [Leg(8, 0.5, 0)], 120)
    assert _run([coastal]).of("loitering") == []
    (near,) = _run([coastal], loiter_min_shore_distance_nm=5).of("loitering")
    assert 9.26 < near.props["shore_km"] < 20 * 1.852


def test_encounter_distance_from_shore() -> None:
    """GFW excludes encounters near port points only; Starboard also within ~10 km of the shore."""
    centre = offset(*COAST, -77, -10)  # 4 km off the Korean coast, far from every bundled port
    a = _meeting(273100075, 0, 0, 0, centre=centre)
    b = _meeting(445100076, 0.2, 0, 270, centre=centre)
    (enc,) = _run([a, b]).of("encounter")
    assert enc.props["shore_km"] < 10
    assert _run([a, b], encounter_min_shore_distance_km=10).of("encounter") == []
    assert resolve("starboard")["encounter_min_shore_distance_km"] == 10


def test_port_call_hysteresis_needs_a_stop() -> None:
    nakhodka = next(p for p in bundled_ports() if p.key == "RUNJK")
    lat, lon = offset(nakhodka.lat, nakhodka.lon, -20, 0)
    through = track(273100080, T0, lat, lon, [Leg(4, 12, 0)], 60)  # passes by the port point at 12 kn
    assert _run([through]).of("port_call") == []
    assert len(_run([through], port_require_stop=False).of("port_call")) == 1


def test_cloned_mmsi_and_identity_changes() -> None:
    here = track(273100090, T0, *SEA, [Leg(6, 10, 0)], 300)
    far = track(273100090, T0 + 150, *offset(*SEA, 0, 500), [Leg(6, 10, 180)], 300)
    found = _run([here, far])
    (clone,) = [e for e in found.events if e.props.get("kind") == "mmsi_cloning"]
    assert clone.props["jumps"] > 10
    rows = statics(
        [
            {"mmsi": 273100091, "t": T0, "name": "NORTHERN STAR", "call_sign": "UBCD1", "imo": "9289518"},
            {"mmsi": 273100091, "t": T0 + 3600, "name": "NORTHERN STAR", "call_sign": "UBCD1"},
            {
                "mmsi": 273100091,
                "t": T0 + 7200,
                "name": "STAR OF ASIA",
                "call_sign": "UBCD1",
                "imo": "9000003",
            },
        ]
    )
    pos = track(273100091, T0, *SEA, [Leg(3, 10, 0)], 300)
    kinds = sorted(e.props["kind"] for e in _run([pos], rows).events if e.kind == "anomaly")
    assert kinds == ["imo_change", "name_change"]


def test_presets_and_parameter_overrides() -> None:
    assert resolve("starboard")["encounter_max_distance_m"] == 200
    assert resolve("gfw", ["gap_min_hours=6", "port_require_stop=no"])["port_require_stop"] is False
    with pytest.raises(ParameterError, match="unknown parameter"):
        resolve("gfw", ["nonsense=1"])
    with pytest.raises(ParameterError, match="not a float"):
        resolve("gfw", ["gap_min_hours=soon"])
    with pytest.raises(ParameterError, match="unknown preset"):
        resolve("nope")
    a = _meeting(273100100, 0, 0, 0)
    b = _meeting(445100101, 0.3, 0, 270)  # 300 m apart: an encounter for GFW, not for Starboard
    assert len(_run([a, b]).of("encounter")) == 1
    assert _run([a, b], encounter_max_distance_m=200).of("encounter") == []


def test_blocks_and_threads_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-vessel blocks and worker threads are an execution detail: the events are the same."""
    from loaders.ais import pipeline

    vostochny = next(p for p in bundled_ports() if p.key == "RUVYP")
    frames = [
        _meeting(273100110, 0, 0, 0, draughts=(12.0, 6.0)),
        _meeting(445100111, 0.2, 0, 270, interval=180, draughts=(5.0, 11.0)),
        _meeting(273100112, 0, 0, 0, start=T0 + 86400 - 5 * 3600, hours=5),
        _meeting(273100113, 0.1, 0, 180, start=T0 + 86400 - 5 * 3600, hours=5),
        _meeting(273100114, 0, 0, 0, centre=(vostochny.lat, vostochny.lon), hours=20, drift=0.0),
        track(273100115, T0, *OCEAN, [Leg(60, 10, 90)], 60).filter(
            (pl.col("t") < T0 + 36 * 3600) | (pl.col("t") > T0 + 50 * 3600)
        ),
    ]

    def key(found: Detection) -> list[tuple]:
        return [(e.kind, e.mmsis, e.start, e.end, sorted(e.props.items(), key=str)) for e in found.events]

    whole = _run(frames)
    assert {e.kind for e in whole.events} >= {"encounter", "loitering", "gap", "port_call"}
    monkeypatch.setattr(pipeline, "BLOCK_POINTS", 200)  # about one vessel per block
    for workers in (1, 2):
        positions = pl.concat(frames)
        batch = AisBatch(positions, draught_statics(positions), files=[Path("synthetic.parquet")])
        split = run_detectors(batch, port_list(), resolve("gfw", {"chunk_hours": 1}), workers=workers)
        assert key(split) == key(whole)


def test_mmsis_above_2_to_the_29_keep_their_evidence_and_draughts() -> None:
    """MMSIs up to 999,999,999 and times share one 64-bit key without overflow: vessels stay sorted by
    MMSI, so every lookup by MMSI (evidence, draughts) finds them."""
    a = _meeting(273100120, 0, 0, 0, draughts=(12.0, 6.0))
    b = _meeting(667100121, 0.2, 0, 270, interval=180, draughts=(5.0, 11.0))  # Sierra Leone, > 2**29
    c = _meeting(999999999, 40, 40, 0)
    found = _run([c, b, a])
    assert list(found.tracks.mmsis) == [273100120, 667100121, 999999999]
    (enc,) = found.of("encounter")
    assert enc.mmsis == (273100120, 667100121)
    assert [ev["mmsi"] for ev in enc.evidence] == ["273100120", "667100121"]
    assert enc.props["draughts"] == [(12.0, 6.0), (5.0, 11.0)]
