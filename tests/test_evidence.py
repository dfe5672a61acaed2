"""Evidence per fact: each property value cites exactly the records that state it; the current value
follows the declared rule (graph/evidence.py), never the order of loads."""

from __future__ import annotations

import itertools

import pytest

from graph import evidence
from graph.memory_store import MemoryStore
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.store import Store
from queries.engine import run_query

REGISTRY_JAN = Provenance("fictional-registry", "snap-2023-01.csv#4", "2023-01-16T00:00:00Z")
REGISTRY_JUL = Provenance("fictional-registry", "snap-2023-07.csv#4", "2023-07-16T00:00:00Z")
IMAGERY = Provenance("fictional-imagery", "sts.jsonl#1", "2024-03-10T00:00:00Z")
KEY = "imo:1000019"


def registry_row(prov: Provenance, observed: str, name: str, deadweight: float) -> list[Record]:
    props = {"imo": "1000019", "name": name, "deadweight": deadweight, "build_year": 1999}
    return [NodeRecord("Vessel", KEY, props, prov, observed=observed)]


def imagery_row() -> list[Record]:
    # The imagery file names the vessel by IMO and name only: it says nothing of deadweight or build year.
    return [
        NodeRecord("Vessel", KEY, {"imo": "1000019", "name": "WREN STAR"}, IMAGERY),
        NodeRecord("StsTransfer", "sts:1", {"start": "2024-03-02T21:00:00Z"}, IMAGERY),
        EdgeRecord("PARTICIPATED_IN", "Vessel", KEY, "StsTransfer", "sts:1", "", {"role": "giver"}, IMAGERY),
    ]


BATCHES = [
    registry_row(REGISTRY_JAN, "2023-01-15", "NORTHERN WREN", 104500.0),
    registry_row(REGISTRY_JUL, "2023-07-15", "WREN STAR", 104800.0),
    imagery_row(),
]


def dossier(store: Store) -> dict[tuple[str, str], list[str]]:
    rows = run_query(store, "vessel", {"vessel": KEY, "as_of": "2025-01-01"})
    return {
        (r["kind"], r["fact"], str(r["value"])): sorted(s["record"] for s in r["sources"])
        for r in rows
        if r["kind"] in ("property", "claimed")
    }


def test_a_property_cites_only_the_records_that_state_it(store: Store) -> None:
    for batch in BATCHES:
        store.write(batch)
    facts = dossier(store)
    # Deadweight and build year: the registry rows, never the imagery file.
    assert facts[("property", "deadweight", "104800.0")] == ["snap-2023-07.csv#4"]
    assert facts[("property", "build_year", "1999")] == ["snap-2023-01.csv#4", "snap-2023-07.csv#4"]
    # The name the July snapshot and the imagery file both give, each citing itself.
    assert facts[("property", "name", "WREN STAR")] == ["snap-2023-07.csv#4", "sts.jsonl#1"]
    # The value the January snapshot gave is kept, with its source, as a claimed (not current) value.
    assert facts[("claimed", "name", "NORTHERN WREN")] == ["snap-2023-01.csv#4"]
    assert facts[("claimed", "deadweight", "104500.0")] == ["snap-2023-01.csv#4"]


def snapshot(store: Store, label: str) -> dict[str, tuple]:
    return {
        v.key: (v.props, sorted(v.claims), sorted(v.provenance))
        for batch in store.scan_nodes(label)
        for v in batch
    }


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_load_order_does_not_change_the_graph(order: tuple[int, ...]) -> None:
    reference = MemoryStore(None)
    reference.write([r for batch in BATCHES for r in batch])
    store = MemoryStore(None)
    for index in order:
        store.write(BATCHES[index])
    for label in ("Vessel", "StsTransfer"):
        got = {
            v.key: (v.props, sorted(v.claims), sorted(v.provenance))
            for b in store.scan_nodes(label)
            for v in b
        }
        want = {
            v.key: (v.props, sorted(v.claims), sorted(v.provenance))
            for b in reference.scan_nodes(label)
            for v in b
        }
        assert got == want
    vessel = store.get_node("Vessel", KEY)
    assert vessel is not None
    # Current values by the declared rule: the latest snapshot's statements.
    assert vessel.props["name"] == "WREN STAR" and vessel.props["deadweight"] == 104800.0


def test_both_stores_keep_the_same_claims(store: Store) -> None:
    for batch in reversed(BATCHES):
        store.write(batch)
    memory = MemoryStore(None)
    for batch in BATCHES:
        memory.write(batch)
    got, want = store.get_node("Vessel", KEY), memory.get_node("Vessel", KEY)
    assert got is not None and want is not None
    assert (got.props, got.claims) == (want.props, want.claims)


def test_current_value_rule() -> None:
    old = evidence.claims_of({"flag": "PA"}, REGISTRY_JAN.encode(), "2023-01-15")
    new = evidence.claims_of({"flag": "CM"}, REGISTRY_JUL.encode(), "2023-07-15")
    # A later retrieval without a stated date still loses to a stated later date.
    undated = evidence.claims_of({"flag": "KM"}, Provenance("x", "y#1", "2023-03-01T00:00:00Z").encode())
    assert evidence.current_values(old + new + undated) == {"flag": "CM"}
    assert evidence.current_values(old + undated) == {"flag": "KM"}
    aliases = evidence.claims_of({"aliases": ("A", "B")}, REGISTRY_JAN.encode()) + evidence.claims_of(
        {"aliases": ("C", "A")}, REGISTRY_JUL.encode()
    )
    assert evidence.current_values(aliases) == {"aliases": ["A", "B", "C"]}
    assert evidence.value_text(5.0e7) == "5.0E7" and evidence.value_text(True) == "true"
