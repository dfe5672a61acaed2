"""shell-networks on a crafted world, on both stores."""

from __future__ import annotations

import pytest
from test_queries_world import load_world, pick, run

from graph.store import Store

SHELLS = ["co:c1", "co:c2", "co:c3"]
SHELL_VESSELS = ["imo:9300001", "imo:9300002", "imo:9300003", "imo:9300004"]


@pytest.fixture
def world(store: Store) -> Store:
    return load_world(store, "shell-networks")


def test_ties_with_single_ship_owners_and_vessels(world: Store) -> None:
    rows = run(world, "shell-networks", as_of="2024-06-01")
    assert pick(rows, "tie_kind", "tie", "companies", "single_ship_owners", "vessels") == [
        ("agent", "co:ag1", [*SHELLS, "co:c5"], ["co:c1", "co:c2", "co:c5"], [*SHELL_VESSELS, "imo:9300005"]),
        ("address", "addr:hk1", SHELLS, ["co:c1", "co:c2"], SHELL_VESSELS),
        (
            "manager",
            "co:m1",
            ["co:c1", "co:c2", "co:c5"],
            ["co:c1", "co:c2", "co:c5"],
            ["imo:9300001", "imo:9300002", "imo:9300005"],
        ),
        ("officer", "p:liwen", SHELLS, ["co:c1", "co:c2"], SHELL_VESSELS),
    ]
    assert rows[1]["tie_name"] == "Room 1201, 88 Harbour Road, Wan Chai, Hong Kong"
    assert rows[1]["company_names"] == [
        "Golden Tide Shipping Ltd",
        "Jade Current Ltd",
        "Pearl Ridge Marine Inc",
    ]
    assert rows[1]["n_companies"] == 3


def test_former_tenant_and_idle_companies_are_left_out(world: Store) -> None:
    rows = run(world, "shell-networks", as_of="2024-06-01")
    assert not any("co:c4" in r["companies"] for r in rows)
    assert "addr:mh1" not in [r["tie"] for r in rows]
    idle = run(world, "shell-networks", as_of="2024-06-01", min_vessels=0)
    assert "addr:mh1" in [r["tie"] for r in idle]


def test_hub_ties_are_skipped(world: Store) -> None:
    rows = run(world, "shell-networks", as_of="2024-06-01", max_companies=3)
    assert "co:ag1" not in [r["tie"] for r in rows]


def test_as_of_sees_the_old_tenant(world: Store) -> None:
    rows = run(world, "shell-networks", as_of="2019-01-01")
    address = [r for r in rows if r["tie"] == "addr:hk1"]
    assert pick(address, "companies", "single_ship_owners") == [(["co:c3", "co:c4"], ["co:c4"])]


@pytest.fixture
def hubs(store: Store) -> Store:
    return load_world(store, "agent-hubs")


def test_a_registered_agent_and_its_address_are_hubs(hubs: Store) -> None:
    """Six unrelated clients of one agent are no network; six fronts that OFAC links to one line are."""
    rows = run(hubs, "shell-networks", as_of="2024-06-01")
    assert pick(rows, "tie_kind", "tie", "n_companies") == [
        ("address", "addr:hq", 6),
        ("address", "addr:small", 2),
    ]
    # A registered agent's address from the reference table needs a shared tie at any size.
    assert "addr:tcc" not in [
        r["tie"] for r in run(hubs, "shell-networks", as_of="2024-06-01", max_unrelated=50)
    ]
    # With a higher bar for unrelated clients the agent and its address come back.
    loose = run(hubs, "shell-networks", as_of="2024-06-01", max_unrelated=7)
    assert pick(loose, "tie_kind", "tie", "n_companies") == [
        ("address", "addr:agent", 7),  # the agent is registered at its own address
        ("address", "addr:hq", 6),
        ("agent", "co:agent", 6),
        ("address", "addr:small", 2),
    ]
    # A registered agent's address from the reference table needs a shared tie at any size.
    assert "addr:tcc" not in [
        r["tie"] for r in run(hubs, "shell-networks", as_of="2024-06-01", max_unrelated=50)
    ]
