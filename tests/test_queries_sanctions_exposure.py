"""sanctions-exposure on a crafted world, on both stores: hops, listings, hubs, agents, time."""

from __future__ import annotations

import pytest
from test_queries_world import load_world, pick, run

from graph.store import Store

UN = ["UN DPRK KPe.099 (listed 2017-09-11)"]
OFAC = ["OFAC DPRK3 30001 (listed 2018-01-01)"]


@pytest.fixture
def world(store: Store) -> Store:
    return load_world(store, "sanctions-exposure")


def test_entities_within_two_hops(world: Store) -> None:
    rows = run(world, "sanctions-exposure", as_of="2024-06-01")
    assert pick(rows, "entity", "hops", "sanctioned", "listings") == [
        ("co:ag", 1, "co:s1", UN),
        ("co:c3", 1, "p:p1", OFAC),
        ("imo:9500001", 1, "co:s1", UN),
        ("imo:9500009", 1, "co:s1", UN),
        ("imo:9500002", 2, "co:s1", UN),
        ("imo:9500003", 2, "p:p1", OFAC),
    ]
    assert rows[5]["path"] == "Choe Myong -DIRECTOR_OF-> Sunrise Hope Ltd -REGISTERED_OWNER_OF-> HOPE STAR"
    assert rows[0]["path"] == "Korea Pyongsu Trading <-DIRECTOR_OF- Corporate Agents Ltd"
    assert {r["entity_sanctioned"] for r in rows} == {False}


def test_a_list_link_is_followed(world: Store) -> None:
    """OFAC's "Linked To" is the only link the list gives between KUM SAN and its company."""
    rows = [r for r in run(world, "sanctions-exposure", as_of="2024-06-01") if r["entity"] == "imo:9500009"]
    assert pick(rows, "hops", "path") == [(1, "Korea Pyongsu Trading <-LINKED_TO- KUM SAN")]


def test_shared_addresses_only_when_asked(world: Store) -> None:
    """A registered address is shared by unrelated companies: followed only with via_address."""
    plain = {r["entity"] for r in run(world, "sanctions-exposure", as_of="2024-06-01")}
    assert not plain & {"co:c4", "co:c5", "co:c6", "co:c7"}
    rows = run(world, "sanctions-exposure", as_of="2024-06-01", via_address=True)
    mass = [r for r in rows if r["entity"] in {"co:c5", "co:c6", "co:c7"}]
    assert pick(mass, "entity", "hops") == [("co:c5", 2), ("co:c6", 2), ("co:c7", 2)]
    assert mass[0]["path"] == (
        "Korea Pyongsu Trading -REGISTERED_AT-> PO Box 1, Mass Registration Centre"
        " <-REGISTERED_AT- Mass Reg One Ltd"
    )
    assert {r["entity"] for r in rows} - plain == {"co:c5", "co:c6", "co:c7"}


def test_one_sanctioned_entity(world: Store) -> None:
    """`sanctioned` narrows the list to one listed entity's neighbourhood: the same rows, filtered."""
    every = run(world, "sanctions-exposure", as_of="2024-06-01")
    for key in ("co:s1", "p:p1"):
        rows = run(world, "sanctions-exposure", as_of="2024-06-01", sanctioned=key)
        assert rows == [r for r in every if r["sanctioned"] == key]
        assert rows
    assert run(world, "sanctions-exposure", as_of="2024-06-01", sanctioned="co:ag") == []


def test_a_hub_country_connects_nothing(world: Store) -> None:
    # PYONG SU 3 and INNOCENT both fly Panama's flag; flags are never followed.
    rows = run(world, "sanctions-exposure", as_of="2024-06-01", max_hops=4)
    assert "imo:9500005" not in [r["entity"] for r in rows]


def test_agents_and_degree_hubs_are_not_passed_through(world: Store) -> None:
    rows = run(world, "sanctions-exposure", as_of="2024-06-01", max_hops=4, via_address=True)
    entities = [r["entity"] for r in rows]
    assert "co:ag" in entities and "co:c8" not in entities
    capped = run(world, "sanctions-exposure", as_of="2024-06-01", max_hops=3, max_degree=3, via_address=True)
    # The mass-registration address (4 links) and PYONG SU 3 (4 links) become hubs.
    assert [r["entity"] for r in capped] == [
        "co:ag",
        "co:c3",
        "imo:9500001",
        "imo:9500009",
        "imo:9500003",
        "co:c4",
    ]


def test_a_transfer_is_one_link(world: Store) -> None:
    rows = run(world, "sanctions-exposure", as_of="2024-06-01", max_hops=3)
    lucky = [r for r in rows if r["entity"] in {"imo:9500002", "co:c2"}]
    assert pick(lucky, "entity", "hops", "path") == [
        (
            "imo:9500002",
            2,
            "Korea Pyongsu Trading -REGISTERED_OWNER_OF-> PYONG SU 3 -PARTICIPATED_IN-> sts:t1"
            " <-PARTICIPATED_IN- LUCKY WAVE",
        ),
        (
            "co:c2",
            3,
            "Korea Pyongsu Trading -REGISTERED_OWNER_OF-> PYONG SU 3 -PARTICIPATED_IN-> sts:t1"
            " <-PARTICIPATED_IN- LUCKY WAVE <-REGISTERED_OWNER_OF- Lucky Wave Shipping",
        ),
    ]
    # LATE MEET met PYONG SU 3 after as_of; OLD PYONG was sold in 2020.
    entities = [r["entity"] for r in rows]
    assert "imo:9500008" not in entities and "imo:9500007" not in entities
    assert "co:c2" not in [r["entity"] for r in run(world, "sanctions-exposure", as_of="2024-06-01")]


def test_listing_dates_and_authority(world: Store) -> None:
    rows = run(world, "sanctions-exposure", as_of="2022-06-01", authority="OFAC")
    assert pick(rows, "entity", "sanctioned") == [
        ("co:c3", "p:p1"),
        ("imo:9500006", "co:s2"),
        ("imo:9500003", "p:p1"),
    ]
    assert "co:s2" not in [r["sanctioned"] for r in run(world, "sanctions-exposure", as_of="2024-06-01")]
