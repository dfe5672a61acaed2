"""One node per hull: facts keyed by MMSI join the hull that held the MMSI at the fact's time, in
either load order, on both stores (graph/identity/hulls.py). All names and numbers are fictional."""

from __future__ import annotations

from graph import evidence
from graph.identity import hulls
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.store import Store
from queries.engine import run_query

SNAP1 = Provenance("fictional-registry", "snap-2023-01.csv#2", "2023-01-16T00:00:00Z")
SNAP2 = Provenance("fictional-registry", "snap-2024-01.csv#2", "2024-01-13T00:00:00Z")
SNAP3 = Provenance("fictional-registry", "snap-2024-01.csv#3", "2024-01-13T00:00:00Z")
EVENTS = Provenance("fictional-imagery", "encounters.csv#{}", "2024-09-01T00:00:00Z")
HULL, OTHER = "imo:1000019", "imo:1000021"


def snapshot(prov: Provenance, date: str, hull: str, mmsi: str, name: str) -> list[Record]:
    return [
        NodeRecord("Vessel", hull, {"imo": hull[4:], "name": name, "mmsi": mmsi}, prov, observed=date),
        NodeRecord("Mmsi", mmsi, {"mmsi": mmsi}, prov),
        EdgeRecord("HAS_MMSI", "Vessel", hull, "Mmsi", mmsi, provenance=prov, observed=date),
    ]


# The hull used MMSI 352000101 (seen 2023-01-15) and changed to 613000101 by 2024-01-12, when another
# hull took up 352000101: an MMSI reused.
REGISTRY = [
    snapshot(SNAP1, "2023-01-15", HULL, "352000101", "NORTHERN WREN"),
    snapshot(SNAP2, "2024-01-12", HULL, "613000101", "WREN STAR")
    + snapshot(SNAP3, "2024-01-12", OTHER, "352000101", "GREY HERON"),
]


def encounter(n: int, mmsi: str, start: str) -> list[Record]:
    prov = Provenance(EVENTS.source, EVENTS.record.format(n), EVENTS.retrieved_at)
    key = f"sts:{n}"
    return [
        NodeRecord("Vessel", f"mmsi:{mmsi}", {"mmsi": mmsi}, prov),
        NodeRecord("StsTransfer", key, {"start": start}, prov),
        EdgeRecord(
            "PARTICIPATED_IN", "Vessel", f"mmsi:{mmsi}", "StsTransfer", key, "", {"role": "giver"}, prov
        ),
    ]


ENCOUNTERS = (
    encounter(1, "352000101", "2023-06-01T10:00:00Z")  # the hull's first MMSI, in its period
    + encounter(2, "613000101", "2024-03-02T21:00:00Z")  # its second MMSI
    + encounter(3, "352000101", "2024-06-01T08:00:00Z")  # the reused MMSI: the other hull by then
    + encounter(4, "352000101", "2022-05-01T08:00:00Z")  # before anyone was seen with it: unknown
)


def participants(store: Store) -> dict[str, str]:
    keys = [f"sts:{n}" for n in range(1, 5)]
    return {e.dst: e.src for e in store.edges("StsTransfer", keys, ["PARTICIPATED_IN"], "in")}


EXPECTED = {"sts:1": HULL, "sts:2": HULL, "sts:3": OTHER, "sts:4": "mmsi:352000101"}


def test_events_by_mmsi_join_the_hull_of_their_time(store: Store) -> None:
    for batch in REGISTRY:
        store.write(batch)
    store.write(ENCOUNTERS)
    assert participants(store) == EXPECTED
    edge = next(e for e in store.edges("StsTransfer", ["sts:2"], ["PARTICIPATED_IN"], "in"))
    assert edge.props["resolved_from"] == "mmsi:613000101"
    assert [p.split('"record":"')[1].split('"')[0] for p in edge.provenance] == ["encounters.csv#2"]
    hull = store.get_node("Vessel", HULL)
    assert hull is not None and sorted(hull.props["source_keys"]) == ["mmsi:352000101", "mmsi:613000101"]
    # One MMSI-keyed vessel is left, for the encounter no tie explains; the joined ones are gone.
    assert sorted(store.get_nodes("Vessel", ["mmsi:352000101", "mmsi:613000101"])) == ["mmsi:352000101"]


def test_events_loaded_first_move_to_the_hull_when_the_registry_arrives(store: Store) -> None:
    store.write(ENCOUNTERS)
    assert set(participants(store).values()) == {"mmsi:352000101", "mmsi:613000101"}
    for batch in REGISTRY:
        store.write(batch)
    assert participants(store) == EXPECTED
    assert sorted(store.get_nodes("Vessel", ["mmsi:352000101", "mmsi:613000101"])) == ["mmsi:352000101"]
    # The moved statements keep exactly their own sources.
    hull = store.get_node("Vessel", HULL)
    assert hull is not None
    cited = {c.split(evidence.SEP)[0]: c for c in hull.claims if "encounters.csv#2" in c}
    assert set(cited) == {"mmsi", "source_keys"}


def test_the_dossier_of_the_hull_shows_the_encounters(store: Store) -> None:
    store.write(ENCOUNTERS)
    for batch in REGISTRY:
        store.write(batch)
    rows = run_query(store, "vessel", {"vessel": HULL, "as_of": "2025-01-01"})
    events = sorted(r["other"] for r in rows if r["fact"] == "PARTICIPATED_IN")
    assert events == ["sts:1", "sts:2"]


def test_an_undated_tie_joins_only_when_it_is_the_only_hull() -> None:
    ties = hulls.Ties()
    ties.add(hulls.Tie(HULL, "352000101", None, None, dated=False))
    assert ties.hull_at("352000101", "2020-01-01") == HULL
    assert ties.hull_at("352000101", None) == HULL
    ties.add(hulls.Tie(OTHER, "352000101", "2024-01-12", None, dated=True))
    assert ties.hull_at("352000101", "2024-02-01") == OTHER
    assert ties.hull_at("352000101", "2020-01-01") is None  # two hulls, and the date does not decide
    assert ties.hull_at("352000101", None) is None
