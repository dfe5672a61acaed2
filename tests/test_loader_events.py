"""Events: STS transfers and port calls from CSV and JSON lines, deterministic keys, row validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.records import NodeRecord, Provenance
from graph.store import Store
from loaders import events
from loaders.base import LoadOptions

DATA = Path(__file__).parent / "data" / "loaders" / "events"
OPTIONS = LoadOptions(retrieved_at="2024-02-01T00:00:00Z")
PROV = Provenance("test", "row#1", "2024-02-01T00:00:00Z")
FILES = [DATA / "events.csv", DATA / "events.jsonl"]


def test_events_load_into_store(store: Store) -> None:
    out = events.load(FILES, OPTIONS)
    store.write(out.records)
    assert store.counts().nodes == {"StsTransfer": 2, "PortCall": 2, "Port": 2, "Vessel": 5, "Country": 1}
    sts_key = events.event_key("sts", ["imo:1000019", "mmsi:445000777"], "2024-03-02T21:00:00Z")
    sts = store.get_node("StsTransfer", sts_key)
    assert sts is not None
    assert sts.props == {
        "start": "2024-03-02T21:00:00Z",
        "end": "2024-03-03T04:30:00Z",
        "lat": 38.95,
        "lon": 124.2,
        # Both files' evidence references, nothing lost, whatever the order the files are read in.
        "evidence": ["SAT-IMG-0001", "https://example.org/report/17", "SAT-IMG-0002"],
        "confidence": 0.8,
        "cargo": "refined products",
    }
    assert [p.record for p in sts.sources()] == ["events.csv#2", "events.jsonl#1"]
    roles = sorted(
        (e.src, e.props["role"]) for e in store.edges("StsTransfer", [sts_key], ["PARTICIPATED_IN"], "in")
    )
    assert roles == [("imo:1000019", "giver"), ("mmsi:445000777", "receiver")]
    calls = store.edges("Vessel", ["imo:1000019"], ["MADE_CALL"], "out")
    assert len(calls) == 1  # the CSV and JSON port calls are the same event
    call = store.get_node("PortCall", calls[0].dst)
    assert call is not None and call.props["draught_in"] == 7.1 and call.props["draught_out"] == 13.4
    port = store.edges("PortCall", [calls[0].dst], ["AT_PORT"], "out")
    assert [e.dst for e in port] == ["RUVYP"]
    assert [e.dst for e in store.edges("Port", ["RUVYP"], ["LOCATED_IN"], "out")] == ["RU"]
    loading = store.edges("Vessel", ["mmsi:445000777"], ["MADE_CALL"], "out")
    node = store.get_node("PortCall", loading[0].dst)
    assert node is not None and node.props["activity"] == "loading" and node.props["arrival"] == "2024-02-12"
    three = store.edges("Vessel", ["vsl:" + "12e7fa7911fb631d"], ["PARTICIPATED_IN"], "out")
    assert len(three) == 1 and three[0].props["role"] == "unknown"


def test_invalid_rows_are_rejected() -> None:
    out = events.load(FILES, OPTIONS)
    assert out.rows_read == 14
    assert [(Path(r.file).name, r.line, r.reason) for r in out.rejects] == [
        ("events.csv", 3, "end 2024-04-03T20:00:00Z is before start 2024-04-03T22:15:00Z"),
        ("events.csv", 4, "an STS transfer needs at least two distinct vessels"),
        ("events.csv", 5, "lat: 95.0 is outside -90..90"),
        ("events.csv", 6, "confidence: '1.7' is outside 0..1"),
        ("events.csv", 9, "port: missing (give a port name or UN/LOCODE)"),
        ("events.csv", 10, "departure 2024-05-01 is before arrival 2024-05-02"),
        ("events.jsonl", 3, "an STS transfer needs at least two distinct vessels"),
        ("events.jsonl", 4, "invalid JSON: Expecting value"),
    ]


def test_loading_twice_changes_nothing(store: Store) -> None:
    store.write(events.load(FILES, OPTIONS).records)
    before = store.counts()
    stats = store.write(events.load(list(reversed(FILES)), OPTIONS).records)
    assert stats.nodes_created == 0 and stats.edges_created == 0
    assert store.counts() == before


def test_event_keys_are_deterministic() -> None:
    a = events.event_key("sts", ["imo:1000019", "mmsi:445000777"], "2024-03-02T21:00:00Z")
    b = events.event_key("sts", ["mmsi:445000777", "imo:1000019"], "2024-03-02T21:00:00Z")
    c = events.event_key("sts", ["mmsi:445000777", "imo:1000019"], "2024-03-02T21:00:01Z")
    assert a == b != c and a.startswith("sts:")
    assert events.event_key("port_call", ["imo:1000019"], "2024-01-01").startswith("pc:")


def test_sts_records_pure() -> None:
    records = events.sts_records(
        {
            "vessels": "IMO 1000019 | 445000777 | SEA LARK",
            "start": "2024-01-01",
            "evidence": ["https://example.org/a"],
            "confidence": 0.4,
        },
        PROV,
    )
    nodes = [r for r in records if isinstance(r, NodeRecord)]
    assert [n.label for n in nodes] == ["StsTransfer", "Vessel", "Vessel", "Vessel"]
    with pytest.raises(ValueError, match="at least two"):
        events.sts_records({"vessel_imo": "1000019", "start": "2024-01-01"}, PROV)
    with pytest.raises(ValueError, match="lon"):
        events.sts_records(
            {"vessels": "1000019;1000021", "start": "2024-01-01", "lat": 1.0, "lon": 200.0}, PROV
        )
    with pytest.raises(ValueError, match="unknown role"):
        events.sts_records(
            {"vessels": "1000019;1000021", "vessel_imo": "1000033", "vessel_role": "pirate"}, PROV
        )


KINDS = [("STS", "sts"), ("Ship-to-ship", "sts"), ("Port call", "port_call"), ("Discharging", "discharge")]


@pytest.mark.parametrize(("written", "kind"), [*KINDS, ("load", "loading")])
def test_event_kinds(written: str, kind: str) -> None:
    assert events.event_kind(written) == kind


def test_port_without_locode_is_keyed_by_name() -> None:
    node, extra = events.port_node("Fictional Anchorage", None, None, PROV)
    again, _ = events.port_node("FICTIONAL  anchorage", None, None, PROV)
    assert node.key == again.key and node.key.startswith("port:") and extra == []
    with pytest.raises(ValueError, match="UN/LOCODE"):
        events.port_node(None, "RU-VOSTOCHNY", None, PROV)
