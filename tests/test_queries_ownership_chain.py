"""ownership-chain on a crafted world, on both stores: share arithmetic, unknown shares, time, hubs."""

from __future__ import annotations

import pytest
from test_queries_world import load_world, pick, run

from graph.store import Store


@pytest.fixture
def world(store: Store) -> Store:
    return load_world(store, "ownership-chain")


def test_share_arithmetic_and_the_fifty_percent_test(world: Store) -> None:
    rows = run(world, "ownership-chain", vessel="9400001", as_of="2024-06-01")
    assert pick(rows, "owner", "depth", "effective_pct", "majority", "ultimate", "sanctioned") == [
        ("co:c1", 1, 100.0, "yes", False, False),
        ("p:p3", 1, None, "unknown", True, False),
        ("co:c2", 2, 60.0, "yes", False, False),
        ("p:p1", 2, 40.0, "no", True, True),
        ("co:c3", 3, None, "unknown", False, False),
        ("p:p2", 3, 30.0, "unknown", True, False),
    ]
    kim = rows[-1]
    via_bridgeway = "STEEL HERON <- owner Heron One Shipping Ltd <- 60.0% Bridgeway Holdings Ltd"
    assert kim["chains"] == [
        f"{via_bridgeway} <- 50.0% Kim Sun = 30.0%",
        f"{via_bridgeway} <- ?% Nominee Services Ltd <- 100.0% Kim Sun = unknown",
    ]
    assert (kim["vessel"], kim["owner_label"], kim["owner_name"]) == ("imo:9400001", "Person", "Kim Sun")


def test_the_owner_on_the_date(world: Store) -> None:
    owners = [r["owner"] for r in run(world, "ownership-chain", vessel="imo:9400001", as_of="2024-06-01")]
    assert "co:c0" not in owners
    old = run(world, "ownership-chain", vessel="imo:9400001", as_of="2020-06-01")
    assert pick(old, "owner", "effective_pct", "ultimate") == [("co:c0", 100.0, True), ("p:p3", None, True)]


def test_hop_limit_marks_chains_that_go_on(world: Store) -> None:
    rows = run(world, "ownership-chain", vessel="imo:9400001", as_of="2024-06-01", max_hops=2)
    assert pick(rows, "owner", "ultimate") == [
        ("co:c1", False),
        ("p:p3", True),
        ("co:c2", False),
        ("p:p1", True),
    ]


def test_hubs_are_not_passed_through(world: Store) -> None:
    # Heron One has three relationships: with a cap of 2 it is reached but not passed through.
    rows = run(world, "ownership-chain", vessel="imo:9400001", as_of="2024-06-01", max_degree=2)
    assert pick(rows, "owner", "ultimate") == [("co:c1", False), ("p:p3", True)]


def test_links_a_sanctions_list_states(world: Store) -> None:
    """A list's "Linked To" is followed either way from the vessel, as a link of unknown share."""
    rows = run(world, "ownership-chain", vessel="imo:9400002", as_of="2024-06-01")
    assert pick(rows, "owner", "depth", "effective_pct", "majority", "ultimate", "chains") == [
        (
            "co:c4",
            1,
            None,
            "unknown",
            False,
            ["GREY PETREL <- linked by OFAC Grey Harbour Trading = unknown"],
        ),
        ("co:c5", 1, None, "unknown", True, ["GREY PETREL <- linked by UN Petrel Marine = unknown"]),
        (
            "p:p2",
            2,
            None,
            "unknown",
            True,
            ["GREY PETREL <- linked by OFAC Grey Harbour Trading <- 50.0% Kim Sun = unknown"],
        ),
    ]


def test_unknown_vessel_gives_no_rows(world: Store) -> None:
    assert run(world, "ownership-chain", vessel="imo:1234567", as_of="2024-06-01") == []
