"""flag-hoppers on a crafted world, on both stores."""

from __future__ import annotations

import pytest
from test_queries_world import load_world, pick, run

from graph.store import Store


@pytest.fixture
def world(store: Store) -> Store:
    return load_world(store, "flag-hoppers")


def test_hopper_with_timeline_foc_and_mid_mismatch(world: Store) -> None:
    rows = run(world, "flag-hoppers", as_of="2024-06-01")
    assert rows == [
        {
            "vessel": "imo:9100001",
            "imo": "9100001",
            "name": "SILVER WAKE",
            "flag_changes": 3,
            "timeline": [
                "KP ..2020-05-01",
                "MN (former)",
                "PA 2020-05-01..2022-02-01",
                "KM 2022-02-01..2023-09-01",
                "CM 2023-09-01..",
            ],
            "current_flag": "CM",
            "flags_of_convenience": ["CM", "KM", "MN", "PA"],
            "mid_mismatches": ["445000001 MID KP, flag PA"],
        }
    ]


def test_first_flag_is_not_a_change_and_order_is_by_changes(world: Store) -> None:
    rows = run(world, "flag-hoppers", as_of="2024-06-01", min_changes=1)
    assert pick(rows, "name", "flag_changes") == [("SILVER WAKE", 3), ("RIVER JADE", 1), ("LATE SHIFT", 1)]


def test_window_and_as_of(world: Store) -> None:
    # OLD FAITH hopped in 2012-2014: outside five years, inside 5,000 days.
    assert "OLD FAITH" not in [
        r["name"] for r in run(world, "flag-hoppers", as_of="2024-06-01", min_changes=1)
    ]
    wide = run(world, "flag-hoppers", as_of="2024-06-01", window_days=5000)
    assert pick(wide, "name", "flag_changes") == [("SILVER WAKE", 3), ("OLD FAITH", 2)]
    # LATE SHIFT's second change (2024-09-01) counts only from that date on; its timeline is cut at as_of.
    later = run(world, "flag-hoppers", as_of="2025-01-01")
    assert pick(later, "name", "flag_changes", "current_flag") == [
        ("SILVER WAKE", 3, "CM"),
        ("LATE SHIFT", 2, "SL"),
    ]
    early = run(world, "flag-hoppers", as_of="2024-06-01", min_changes=1)
    assert [r["timeline"] for r in early if r["name"] == "LATE SHIFT"] == [
        ["KP ..2024-03-01", "PA 2024-03-01.."]
    ]
