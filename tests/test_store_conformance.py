"""One conformance suite for every store: writes, merges, idempotency, provenance, history, atomicity."""

from __future__ import annotations

import pytest

from graph.records import EdgeRecord, NodeRecord, Provenance
from graph.schema import SchemaError
from graph.store import Store, StoreError

P1 = Provenance("registry-a", "snap.csv#2", "2024-01-01T00:00:00Z")
P2 = Provenance("ofac-sdn", "sdn.csv#7", "2019-01-15T00:00:00Z")


def vessel(key: str = "imo:9289518", prov: Provenance = P1, **props: object) -> NodeRecord:
    return NodeRecord("Vessel", key, {"name": "AURORA TIDE", **props}, prov)


def country(code: str) -> NodeRecord:
    return NodeRecord("Country", code, {"name": code, "iso2": code}, P1)


def flag_obs(code: str, date: str, prov: Provenance = P1) -> EdgeRecord:
    return EdgeRecord(
        "FLAGGED", "Vessel", "imo:9289518", "Country", code, props={}, provenance=prov, observed=date
    )


def small_world() -> list:
    return [
        vessel(imo="9289518", build_year=2001, deadweight=4500.0),
        NodeRecord("Company", "co:1", {"name": "Harbour Crest Ltd", "jurisdiction": "HK"}, P1),
        NodeRecord("Address", "addr:1", {"full": "Unit 9, 1 Example Road, Hong Kong"}, P1),
        country("PA"),
        EdgeRecord(
            "REGISTERED_OWNER_OF",
            "Company",
            "co:1",
            "Vessel",
            "imo:9289518",
            "2020-01-01",
            {"valid_from": "2020-01-01"},
            P1,
        ),
        EdgeRecord("REGISTERED_AT", "Company", "co:1", "Address", "addr:1", "", {}, P1),
        EdgeRecord(
            "FLAGGED",
            "Vessel",
            "imo:9289518",
            "Country",
            "PA",
            "2019-05-01",
            {"valid_from": "2019-05-01"},
            P1,
        ),
    ]


def test_write_and_count(store: Store) -> None:
    stats = store.write(small_world())
    assert stats.nodes_created == 4
    assert stats.edges_created == 3
    counts = store.counts()
    assert counts.nodes == {"Vessel": 1, "Company": 1, "Address": 1, "Country": 1}
    assert counts.relationships == {"REGISTERED_OWNER_OF": 1, "REGISTERED_AT": 1, "FLAGGED": 1}


def test_second_load_changes_nothing(store: Store) -> None:
    store.write(small_world())
    before_counts = store.counts()
    before_node = store.get_node("Vessel", "imo:9289518")
    before_edges = store.edges("Vessel", ["imo:9289518"], None, "out")
    stats = store.write(small_world())
    assert stats.nodes_created == 0 and stats.edges_created == 0
    assert stats.nodes_merged == 4 and stats.edges_merged == 3
    assert store.counts() == before_counts
    assert store.get_node("Vessel", "imo:9289518") == before_node
    assert store.edges("Vessel", ["imo:9289518"], None, "out") == before_edges


def test_fetch_by_key_returns_props_and_provenance(store: Store) -> None:
    store.write(small_world())
    node = store.get_node("Vessel", "imo:9289518")
    assert node is not None
    assert node.props == {"name": "AURORA TIDE", "imo": "9289518", "build_year": 2001, "deadweight": 4500.0}
    assert node.sources() == [P1]
    assert store.get_node("Vessel", "imo:0000000") is None
    assert set(store.get_nodes("Country", ["PA", "XX"])) == {"PA"}


def test_fact_seen_in_two_sources_keeps_both(store: Store) -> None:
    store.write([vessel(prov=P1)])
    store.write([vessel(prov=P2, vessel_type="Oil tanker")])
    node = store.get_node("Vessel", "imo:9289518")
    assert node is not None
    assert node.sources() == [P1, P2]
    assert node.props["vessel_type"] == "Oil tanker"
    assert store.counts().nodes == {"Vessel": 1}


def test_duplicates_within_one_write_are_merged(store: Store) -> None:
    stats = store.write([vessel(prov=P1), vessel(prov=P2), vessel(prov=P1)])
    assert stats.nodes_created == 1
    node = store.get_node("Vessel", "imo:9289518")
    assert node is not None and len(node.provenance) == 2


def test_edges_frontier_in_and_out(store: Store) -> None:
    store.write(small_world())
    out = store.edges("Company", ["co:1"], ["REGISTERED_OWNER_OF", "REGISTERED_AT"], "out")
    assert sorted((e.type, e.dst_label, e.dst) for e in out) == [
        ("REGISTERED_AT", "Address", "addr:1"),
        ("REGISTERED_OWNER_OF", "Vessel", "imo:9289518"),
    ]
    incoming = store.edges("Vessel", ["imo:9289518"], ["REGISTERED_OWNER_OF"], "in")
    assert [(e.src_label, e.src, e.key, e.props) for e in incoming] == [
        ("Company", "co:1", "2020-01-01", {"valid_from": "2020-01-01"})
    ]
    assert store.edges("Vessel", ["imo:9289518"], [], "out") == []


def test_find_nodes_by_property(store: Store) -> None:
    store.write(small_world())
    found = store.find_nodes("Company", "name", ["Harbour Crest Ltd", "Nobody"])
    assert [n.key for n in found] == ["co:1"]


def test_edge_to_missing_node_fails_and_writes_nothing(store: Store) -> None:
    records = [*small_world(), EdgeRecord("FLAGGED", "Vessel", "imo:9289518", "Country", "ZZ", "x", {}, P1)]
    with pytest.raises(StoreError, match="missing node Country 'ZZ'"):
        store.write(records)
    assert store.counts().nodes == {}
    assert store.counts().relationships == {}


def test_failed_write_leaves_earlier_data(store: Store) -> None:
    store.write(small_world())
    before = store.counts()
    bad = [vessel("imo:9074729"), EdgeRecord("FLAGGED", "Vessel", "imo:9074729", "Country", "QQ", "", {}, P1)]
    with pytest.raises(StoreError):
        store.write(bad)
    assert store.counts() == before
    assert store.get_node("Vessel", "imo:9074729") is None


def test_schema_rejects_unknown_label_type_and_property(store: Store) -> None:
    with pytest.raises(SchemaError, match="unknown node label 'Ship'"):
        store.write([NodeRecord("Ship", "x", {}, P1)])
    with pytest.raises(SchemaError, match="undeclared property 'colour'"):
        store.write([NodeRecord("Vessel", "x", {"colour": "red"}, P1)])
    with pytest.raises(SchemaError, match="cannot end at Company"):
        store.write([EdgeRecord("FLAGGED", "Vessel", "a", "Company", "b", "", {}, P1)])
    with pytest.raises(SchemaError, match="expects int"):
        store.write([NodeRecord("Vessel", "x", {"build_year": "2001"}, P1)])


def test_snapshots_build_flag_history(store: Store) -> None:
    """Three snapshots: PA, PA, then TG. One period closes, another opens; nothing is overwritten."""
    store.write([vessel(), country("PA"), country("TG"), flag_obs("PA", "2023-01-01")])
    store.write([vessel(), flag_obs("PA", "2023-06-01")])
    store.write(
        [vessel(), flag_obs("TG", "2024-01-01", Provenance("registry-a", "snap3.csv#2", "2024-01-02"))]
    )
    periods = sorted(
        (
            e.dst,
            e.props.get("valid_from"),
            e.props.get("valid_to"),
            e.props["first_seen"],
            e.props["last_seen"],
        )
        for e in store.edges("Vessel", ["imo:9289518"], ["FLAGGED"], "out")
    )
    assert periods == [
        ("PA", None, "2024-01-01", "2023-01-01", "2023-06-01"),
        ("TG", "2024-01-01", None, "2024-01-01", "2024-01-01"),
    ]
    # Loading the last snapshot again changes nothing.
    before = store.edges("Vessel", ["imo:9289518"], ["FLAGGED"], "out")
    store.write(
        [vessel(), flag_obs("TG", "2024-01-01", Provenance("registry-a", "snap3.csv#2", "2024-01-02"))]
    )
    assert sorted(store.edges("Vessel", ["imo:9289518"], ["FLAGGED"], "out"), key=lambda e: e.key) == sorted(
        before, key=lambda e: e.key
    )


def test_flag_returning_to_earlier_value_is_a_new_period(store: Store) -> None:
    store.write([vessel(), country("PA"), country("TG")])
    for code, date in [("PA", "2021-01-01"), ("TG", "2022-01-01"), ("PA", "2023-01-01")]:
        store.write([flag_obs(code, date)])
    periods = sorted(
        (e.props["first_seen"], e.dst, e.props.get("valid_to"))
        for e in store.edges("Vessel", ["imo:9289518"], ["FLAGGED"], "out")
    )
    assert periods == [
        ("2021-01-01", "PA", "2022-01-01"),
        ("2022-01-01", "TG", "2023-01-01"),
        ("2023-01-01", "PA", None),
    ]


def test_owner_history_is_kept_per_vessel(store: Store) -> None:
    """Owners point at the vessel; the timeline is the vessel's, so a new owner closes the old one."""
    owners = [NodeRecord("Company", k, {"name": k}, P1) for k in ("co:a", "co:b")]

    def owned(owner: str, date: str) -> EdgeRecord:
        return EdgeRecord(
            "REGISTERED_OWNER_OF", "Company", owner, "Vessel", "imo:9289518", provenance=P1, observed=date
        )

    store.write([vessel(), *owners, owned("co:a", "2022-01-01")])
    store.write([owned("co:b", "2022-07-01")])
    history = sorted(
        (e.src, e.props.get("valid_to"))
        for e in store.edges("Vessel", ["imo:9289518"], ["REGISTERED_OWNER_OF"], "in")
    )
    assert history == [("co:a", "2022-07-01"), ("co:b", None)]


def test_scan_nodes_in_key_order_and_batches(store: Store) -> None:
    store.write([NodeRecord("Company", f"co:{i:03d}", {"name": f"Company {i}"}, P1) for i in range(25)])
    batches = list(store.scan_nodes("Company", batch_size=10))
    assert [len(b) for b in batches] == [10, 10, 5]
    assert [n.key for b in batches for n in b] == [f"co:{i:03d}" for i in range(25)]
    assert list(store.scan_nodes("Vessel")) == []


def test_failed_write_does_not_change_existing_properties(store: Store) -> None:
    store.write([vessel(name="FIRST NAME")])
    with pytest.raises(StoreError, match="missing node"):
        store.write(
            [
                vessel(name="SECOND NAME"),
                EdgeRecord("FLAGGED", "Vessel", "imo:9289518", "Country", "XX", "", {}, P1),
            ]
        )
    node = store.get_node("Vessel", "imo:9289518")
    assert node is not None and node.props["name"] == "FIRST NAME"
