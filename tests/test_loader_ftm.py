"""FollowTheMoney entities: current identity observed, former flags and names kept undated, links resolved."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.records import NodeRecord, Provenance
from graph.store import Store
from loaders import ftm, registry
from loaders.base import LoadOptions

DATA = Path(__file__).parent / "data" / "loaders" / "ftm"
FILE = DATA / "entities.ftm.jsonl"
OPTIONS = LoadOptions(retrieved_at="2024-04-01T00:00:00Z")
PROV = Provenance("test", "row#1", "2024-04-01T00:00:00Z")


def flags(store: Store, key: str) -> list[tuple]:
    return sorted(
        (
            e.dst,
            e.key,
            e.props.get("status"),
            e.props.get("valid_from"),
            e.props.get("valid_to"),
            e.props.get("last_seen"),
        )
        for e in store.edges("Vessel", [key], ["FLAGGED"], "out")
    )


def test_vessel_identity_current_and_former(store: Store) -> None:
    store.write(ftm.load([FILE], OPTIONS).records)
    vessel = store.get_node("Vessel", "imo:1000019")
    assert vessel is not None
    assert vessel.props["flag"] == "CM" and vessel.props["name"] == "CORAL MERIDIAN"
    assert flags(store, "imo:1000019") == [
        ("CK", "former", "former", None, None, None),
        ("CM", "2024-03-01", None, None, None, "2024-03-01"),
        ("PA", "former", "former", None, None, None),
    ]
    names = sorted(
        (e.dst, e.props.get("status")) for e in store.edges("Vessel", ["imo:1000019"], ["NAMED"], "out")
    )
    assert names == [("CORAL MERIDIAN", None), ("MERIDIAN CORAL", "former"), ("SEA LARK", "former")]
    pine = store.get_node("Vessel", "imo:1000045")
    assert pine is not None and pine.props["claimed_imos"] == ["1234568"]
    owner = store.edges("Vessel", ["imo:1000019"], ["REGISTERED_OWNER_OF"], "in")
    assert [(e.src, e.props["first_seen"]) for e in owner] == [("imoco:6000038", "2024-03-01")]


def test_links_resolve_within_the_file(store: Store) -> None:
    store.write(ftm.load([FILE], OPTIONS).records)
    harrow = {
        (e.type, e.src_label, e.key): e.props for e in store.edges("Company", ["imoco:6000038"], None, "in")
    }
    assert harrow == {
        ("SHAREHOLDER_OF", "Company", "2021-06-01"): {"valid_from": "2021-06-01", "share_pct": 51.0},
        ("DIRECTOR_OF", "Person", "2020-02-01"): {
            "valid_from": "2020-02-01",
            "valid_to": "2022-05-31",
            "role": "Director",
        },
    }
    bo = store.edges("Vessel", ["imo:1000019"], ["BENEFICIAL_OWNER_OF"], "in")
    assert [e.src_label for e in bo] == ["Person"]
    sanction = store.get_node("Sanction", "ftm:sanc-1")
    assert sanction is not None and sanction.props["list_reference"] == "FT-001"
    listed = store.edges("Sanction", ["ftm:sanc-1"], ["SANCTIONED_AS"], "in")
    assert [(e.src, e.props) for e in listed] == [("imo:1000045", {"listed_name": "PINE LANTERN"})]
    addresses = store.edges("Company", ["imoco:6000038"], ["REGISTERED_AT"], "out")
    assert len(addresses) == 1


def test_rejects() -> None:
    out = ftm.load([FILE], OPTIONS)
    assert out.rows_read == 16
    assert sorted((r.line, r.reason) for r in out.rejects) == [
        (11, "Ownership: owner 'co-missing' is not in the file"),
        (14, "Sanction: entity 'nobody' is not in the file"),
        (15, "unsupported schema 'Airplane'"),
        (16, "not an FtM entity (needs id and schema)"),
    ]


def test_loading_twice_changes_nothing(store: Store) -> None:
    store.write(ftm.load([FILE], OPTIONS).records)
    before = store.counts()
    edges = sorted(store.edges("Vessel", ["imo:1000019", "imo:1000045"], None, "out"), key=repr)
    stats = store.write(ftm.load([FILE], OPTIONS).records)
    assert stats.nodes_created == 0 and stats.edges_created == 0
    assert store.counts() == before
    assert sorted(store.edges("Vessel", ["imo:1000019", "imo:1000045"], None, "out"), key=repr) == edges


def test_later_registry_snapshot_closes_the_ftm_flag(store: Store, tmp_path: Path) -> None:
    store.write(ftm.load([FILE], OPTIONS).records)
    snapshot = tmp_path / "later.csv"
    snapshot.write_text("imo,name,flag\n1000019,CORAL MERIDIAN,Togo\n", encoding="utf-8")
    store.write(registry.load([snapshot], LoadOptions(as_of="2024-06-01")).records)
    assert flags(store, "imo:1000019") == [
        ("CK", "former", "former", None, None, None),
        ("CM", "2024-03-01", None, None, "2024-06-01", "2024-03-01"),
        ("PA", "former", "former", None, None, None),
        ("TG", "2024-06-01", None, "2024-06-01", None, "2024-06-01"),
    ]


def test_snapshot_after_former_flags_only_leaves_them_alone(store: Store, tmp_path: Path) -> None:
    props = {"name": ["SEA LARK"], "imoNumber": ["1000021"], "pastFlags": ["pa"]}
    listing = tmp_path / "list.jsonl"
    listing.write_text(
        json.dumps({"id": "v", "schema": "Vessel", "properties": props}) + "\n", encoding="utf-8"
    )
    store.write(ftm.load([listing], OPTIONS).records)
    snapshot = tmp_path / "snap.csv"
    snapshot.write_text("imo,name,flag\n1000021,SEA LARK,Togo\n", encoding="utf-8")
    store.write(registry.load([snapshot], LoadOptions(as_of="2024-06-01")).records)
    assert flags(store, "imo:1000021") == [
        ("PA", "former", "former", None, None, None),
        ("TG", "2024-06-01", None, None, None, "2024-06-01"),
    ]


def test_entity_records_pure() -> None:
    person = ftm.entity_records(
        {"id": "p", "schema": "Person", "properties": {"name": ["Ada Pinnock"], "citizenship": ["mt"]}},
        PROV,
        "2024-01-01",
    )
    assert isinstance(person[0], NodeRecord) and person[0].props["nationality"] == "MT"
    assert [r.type for r in person if not isinstance(r, NodeRecord)] == ["NATIONAL_OF"]
    with pytest.raises(ValueError, match="unsupported schema 'Event'"):
        ftm.entity_records({"id": "e", "schema": "Event", "properties": {}}, PROV, "2024-01-01")
    assert ftm.ftm_date("2021-03-12T10:00:00") == "2021-03-12" and ftm.ftm_date("2021") == "2021"
    assert ftm.ftm_date("n/a") is None
