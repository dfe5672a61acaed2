"""identity-changes on a crafted world, on both stores."""

from __future__ import annotations

import pytest
from test_queries_world import load_world, pick, run

from graph.store import Store

COLUMNS = ("kind", "vessel", "date", "value", "previous", "other_vessel")


@pytest.fixture
def world(store: Store) -> Store:
    return load_world(store, "identity-changes")


def test_changes_and_shared_identities(world: Store) -> None:
    rows = run(world, "identity-changes", as_of="2025-01-01")
    assert pick(rows, *COLUMNS) == [
        ("shared-imo", "imo:9200001", None, "9200001", None, "vsl:clone1"),
        ("rename", "imo:9200001", "2021-03-01", "MORNING STAR", "SUNRISE", None),
        ("mmsi-change", "imo:9200001", "2022-01-01", "667000001", "511000001", None),
        ("shared-mmsi", "imo:9200001", "2023-01-01", "667000001", None, "vsl:ghost1"),
        ("rename", "imo:9200001", "2023-05-01", "NORTHERN LIGHT", "MORNING STAR", None),
        ("rename", "imo:9200002", "2022-06-01", "SUNRISE", "BRIGHT HOPE", None),
        ("call-sign-change", "imo:9200002", "2023-01-01", "T8AB2", "T8AB1", None),
    ]
    assert rows[3]["other_name"] == "GHOST"


def test_a_name_reused_later_is_not_shared(world: Store) -> None:
    rows = run(world, "identity-changes", as_of="2025-01-01")
    assert not [r for r in rows if r["kind"] == "shared-name"]


def test_since_and_as_of(world: Store) -> None:
    rows = run(world, "identity-changes", as_of="2025-06-01", since="2022-01-01")
    changes = [(r["vessel"], r["date"], r["value"]) for r in rows if r["kind"] in ("rename", "mmsi-change")]
    assert changes == [
        ("imo:9200001", "2022-01-01", "667000001"),
        ("imo:9200001", "2023-05-01", "NORTHERN LIGHT"),
        ("imo:9200002", "2022-06-01", "SUNRISE"),
        ("imo:9200002", "2025-02-01", "DAWN"),
    ]
