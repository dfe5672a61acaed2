"""cap-tally on a crafted world, on both stores."""

from __future__ import annotations

import pytest
from test_queries_world import load_world, run

from graph.store import Store


@pytest.fixture
def world(store: Store) -> Store:
    return load_world(store, "cap-tally")


def test_deliveries_per_year_in_barrels(world: Store) -> None:
    rows = run(world, "cap-tally", as_of="2025-01-01")
    assert rows == [
        {
            "year": "2023",
            "deliveries": 3,
            "vessels": 2,
            "deadweight_t": 11000.0,
            "unknown_deadweight": 0,
            "bbl_33": 27080,  # 11,000 t x 0.33 x 7.46 bbl/t
            "bbl_60": 49236,
            "bbl_90": 73854,
            "cap_bbl": 500000,
            "over_cap_at": "none",
            "vessel_keys": ["imo:9700001", "imo:9700002"],
        },
        {
            "year": "2024",
            "deliveries": 1,
            "vessels": 1,
            "deadweight_t": 3500.0,
            "unknown_deadweight": 0,
            "bbl_33": 8616,
            "bbl_60": 15666,
            "bbl_90": 23499,
            "cap_bbl": 500000,
            "over_cap_at": "none",
            "vessel_keys": ["imo:9700001"],
        },
    ]


def test_lowest_scenario_over_the_cap(world: Store) -> None:
    rows = run(world, "cap-tally", as_of="2025-01-01", cap_bbl=30000)
    assert [(r["year"], r["over_cap_at"]) for r in rows] == [("2023", "60%"), ("2024", "none")]


def test_conversion_factor_is_a_parameter(world: Store) -> None:
    rows = run(world, "cap-tally", as_of="2025-01-01", bbl_per_tonne=7.33)
    assert rows[1]["bbl_90"] == round(3500 * 0.9 * 7.33)


def test_vessel_type_since_and_as_of(world: Store) -> None:
    rows = run(world, "cap-tally", as_of="2025-06-01", vessel_type="", since="2023-05-01")
    assert [(r["year"], r["deliveries"], r["vessel_keys"]) for r in rows] == [
        ("2023", 3, ["imo:9700001", "imo:9700002", "imo:9700003"]),
        ("2024", 1, ["imo:9700001"]),
        ("2025", 1, ["imo:9700001"]),
    ]
