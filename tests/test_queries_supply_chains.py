"""supply-chains on a crafted world, on both stores: time order, dated links, windows, roles, hubs."""

from __future__ import annotations

import pytest
from test_queries_world import load_world, pick, run

from graph.store import Store

COLUMNS = ("vessels", "transfers", "supplier_evidence", "receiver_evidence")
AMUR, GRACE, CHON_MA = "imo:9000001", "imo:9000002", "imo:9000003"
BALTIC, RYE_SONG, NEVA, SEA_PEARL = "imo:9000004", "imo:9000005", "imo:9000006", "imo:9000007"
KAMA, GOLDEN_BAY, PAEK_DU, MORNING_CALM = "imo:9000008", "imo:9000009", "imo:9000010", "imo:9000011"


@pytest.fixture
def world(store: Store) -> Store:
    return load_world(store, "supply-chains")


def test_chains_with_their_evidence(world: Store) -> None:
    rows = run(world, "supply-chains", as_of="2025-01-01")
    assert pick(rows, *COLUMNS) == [
        (
            [AMUR, GRACE, CHON_MA],
            ["sts:1", "sts:2"],
            ["loaded at VOSTOCHNY 2024-03-01"],
            ["flag KP"],
        ),
        ([NEVA, RYE_SONG], ["sts:4"], ["REGISTERED_OWNER_OF Primorye Tanker Co"], ["flag KP"]),
        ([AMUR, MORNING_CALM], ["sts:9"], ["loaded at VOSTOCHNY 2024-06-28"], ["called at NAMPO 2024-07-10"]),
    ]
    first = rows[0]
    assert first["supplier"] == AMUR and first["receiver"] == CHON_MA and first["hops"] == 2
    assert first["route"] == ["AMUR STAR", "OCEAN GRACE", "CHON MA"]
    assert (first["first_date"], first["last_date"]) == ("2024-03-05", "2024-03-20")


def test_owner_and_flag_are_taken_on_the_transfer_date(world: Store) -> None:
    vessels = [r["vessels"] for r in run(world, "supply-chains", as_of="2025-01-01", window_days=365)]
    # BALTIC DAWN's Russian owner left in 2023, before its 2024 transfer to RYE SONG.
    assert [BALTIC, RYE_SONG] not in vessels
    # SEA PEARL flew the DPRK flag only until 2022.
    assert [NEVA, SEA_PEARL] not in vessels
    # FORMER STAR's DPRK flag is an undated "former flag" statement, not a flag in force.
    assert [NEVA, "imo:9000012"] not in vessels


def test_cargo_never_moves_backward_in_time(world: Store) -> None:
    # KAMA RIVER > GOLDEN BAY on 06-15, GOLDEN BAY > PAEK DU on 06-12: no chain.
    rows = run(world, "supply-chains", as_of="2025-01-01")
    assert not any(r["supplier"] == KAMA for r in rows)


def test_window_limits_the_wait_between_links(world: Store) -> None:
    rows = run(world, "supply-chains", as_of="2025-01-01", window_days=90)
    kama = [r for r in rows if r["supplier"] == KAMA]
    # Only the forward link 76 days later (sts:8), never the backward one (sts:7).
    assert pick(kama, "vessels", "transfers", "supplier_evidence") == [
        ([KAMA, GOLDEN_BAY, PAEK_DU], ["sts:6", "sts:8"], ["loaded at NAKHODKA 2024-06-10"])
    ]


def test_roles_give_the_direction_of_the_cargo(world: Store) -> None:
    # sts:10 moves cargo from CHON MA (DPRK) to NEVA LIGHT (Russian-owned): not a delivery.
    rows = run(world, "supply-chains", as_of="2025-01-01", window_days=365)
    assert not any("sts:10" in r["transfers"] for r in rows)


def test_as_of_hides_later_events(world: Store) -> None:
    rows = run(world, "supply-chains", as_of="2024-06-30")
    assert [r["vessels"] for r in rows] == [[AMUR, GRACE, CHON_MA], [NEVA, RYE_SONG]]


def test_hop_limit_and_hub_cap(world: Store) -> None:
    assert [r["hops"] for r in run(world, "supply-chains", as_of="2025-01-01", max_hops=1)] == [1, 1]
    # OCEAN GRACE has four relationships: above a cap of 3 it is a hub and is not passed through.
    rows = run(world, "supply-chains", as_of="2025-01-01", max_degree=3)
    assert [r["vessels"] for r in rows] == [[NEVA, RYE_SONG], [AMUR, MORNING_CALM]]
