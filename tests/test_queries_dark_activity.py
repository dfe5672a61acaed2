"""dark-activity on a crafted world, on both stores."""

from __future__ import annotations

import pytest
from test_queries_world import load_world, pick, run

from graph.store import Store

COLUMNS = ("gap", "relation", "days_apart", "event_type", "event", "place", "counterparts")


@pytest.fixture
def world(store: Store) -> Store:
    return load_world(store, "dark-activity")


def test_gaps_next_to_transfers_and_port_calls(world: Store) -> None:
    rows = run(world, "dark-activity", as_of="2025-01-01")
    assert pick(rows, *COLUMNS) == [
        ("gap:1", "event-after-gap", 1, "sts", "sts:1", None, ["imo:9600002"]),
        ("gap:2", "overlaps", 0, "port-call", "pc:2", "VOSTOCHNY", []),
    ]
    assert rows[0]["gap_hours"] == 48.0 and rows[0]["event_start"] == "2024-03-04T08:00:00Z"


def test_margin_widens_the_search(world: Store) -> None:
    rows = run(world, "dark-activity", as_of="2025-01-01", margin_days=7)
    assert pick(rows, "gap", "relation", "days_apart", "event") == [
        ("gap:1", "event-after-gap", 1, "sts:1"),
        ("gap:1", "event-after-gap", 7, "pc:1"),
        ("gap:2", "overlaps", 0, "pc:2"),
        ("gap:5", "event-before-gap", 5, "sts:3"),
    ]


def test_short_gaps_foreign_ports_and_later_gaps(world: Store) -> None:
    gaps = [r["gap"] for r in run(world, "dark-activity", as_of="2025-01-01", margin_days=7)]
    assert "gap:3" not in gaps  # six hours
    assert "gap:4" not in gaps  # next to Busan only
    assert "gap:6" not in gaps  # after as_of
    rows = run(world, "dark-activity", as_of="2025-06-01", min_hours=1, since="2024-06-01")
    assert pick(rows, "gap", "event") == [("gap:3", "sts:2"), ("gap:6", "sts:4")]
