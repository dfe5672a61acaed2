"""A change seen between two undated snapshots is dated by their interval, and a dossier asked about a
day inside it says "unknown" (current is null) instead of guessing (graph/history.py)."""

from __future__ import annotations

from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.store import Store
from queries.engine import run_query

SNAP1 = Provenance("fictional-registry", "snap-2022-02.csv#2", "2022-03-01T00:00:00Z")
SNAP2 = Provenance("fictional-registry", "snap-2024-05.csv#2", "2024-05-04T00:00:00Z")
HULL = "imo:1000019"


def snapshot(prov: Provenance, date: str, flag: str) -> list[Record]:
    return [
        NodeRecord("Vessel", HULL, {"imo": "1000019", "name": "WREN STAR"}, prov, observed=date),
        NodeRecord("Country", flag, {"name": flag}, prov),
        EdgeRecord("FLAGGED", "Vessel", HULL, "Country", flag, provenance=prov, observed=date),
    ]


def flags(store: Store, as_of: str) -> dict[str, tuple]:
    rows = run_query(store, "vessel", {"vessel": HULL, "as_of": as_of})
    return {
        r["other"]: (
            r["date_from"],
            r["date_to"],
            r["current"],
            r["detail"].get("began_after"),
            r["detail"].get("ended_after"),
        )
        for r in rows
        if r["fact"] == "FLAGGED"
    }


def test_a_change_between_snapshots_is_an_interval(store: Store) -> None:
    store.write(snapshot(SNAP1, "2022-02-28", "PA"))
    store.write(snapshot(SNAP2, "2024-05-03", "IR"))
    # Inside the interval neither flag is known to hold: both are listed, neither as current.
    assert flags(store, "2023-08-01") == {
        "PA": (None, "2024-05-03", None, None, "2022-02-28"),
        "IR": ("2024-05-03", None, None, "2022-02-28", None),
    }
    # Before it, the first flag held (it was seen then); after it, the second.
    assert flags(store, "2022-02-28")["PA"][2] is True
    assert flags(store, "2024-06-01") == {
        "PA": (None, "2024-05-03", False, None, "2022-02-28"),
        "IR": ("2024-05-03", None, True, "2022-02-28", None),
    }
