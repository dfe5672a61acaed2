"""vessel and company dossiers on a crafted world, on both stores; finding the entity by name."""

from __future__ import annotations

import pytest
from test_queries_world import load_world, pick, run

from graph.store import Store
from queries.engine import find_companies, find_vessels

AURORA = "imo:9289518"


@pytest.fixture
def world(store: Store) -> Store:
    return load_world(store, "dossier")


def test_vessel_facts_with_dates_and_sources(world: Store) -> None:
    rows = run(world, "vessel", vessel="9289518", as_of="2025-01-01")
    assert {r["subject"] for r in rows} == {AURORA}
    props = {r["fact"]: r["value"] for r in rows if r["kind"] == "property"}
    assert props == {
        "name": "AURORA TIDE",
        "imo": "9289518",
        "mmsi": "352001234",
        "deadweight": 4500.0,
        "build_year": 2001,
        "claimed_imos": ["9289518", "9289520"],
    }
    rels = [r for r in rows if r["kind"] == "relationship"]
    assert pick(rels, "fact", "direction", "other", "date_from", "date_to", "current") == [
        ("FLAGGED", "out", "KM", None, None, None),
        ("NAMED", "out", "AURORA", None, "2022-01-01", False),
        ("POSSIBLY_SAME_AS", "out", "vsl:aurorat", None, None, None),
        ("FLAGGED", "out", "PA", "2019-05-01", "2022-01-01", False),
        ("HAS_MMSI", "out", "352001234", "2019-05-01", None, True),
        ("REGISTERED_OWNER_OF", "in", "co:1", "2020-01-01", None, True),
        ("SHIP_MANAGER_OF", "in", "co:3", "2021-01-01", "2023-01-01", False),
        ("FLAGGED", "out", "KM", "2022-01-01", None, True),
        ("NAMED", "out", "AURORA TIDE", "2022-01-01", None, True),
        ("SANCTIONED_AS", "out", "ofac:9", "2023-03-01", None, None),
        ("HAS_ANOMALY", "out", "an:1", "2023-05-01", None, None),
        ("WENT_DARK", "out", "gap:1", "2024-01-20T00:00:00Z", "2024-01-22T00:00:00Z", None),
        ("PARTICIPATED_IN", "out", "sts:1", "2024-02-01T06:00:00Z", "2024-02-01T14:00:00Z", None),
        ("MADE_CALL", "out", "pc:1", "2024-03-01", "2024-03-03", None),
    ]
    sts = rels[12]
    assert sts["detail"] == {
        "confidence": 0.8,
        "counterparts": ["SEA BREEZE"],
        "draught_after": 8.7,
        "draught_before": 5.0,
        "evidence": ["sat:2024-02-01-A"],
        "role": "receiver",
    }
    # The relationship's source and the transfer's own source, decoded.
    assert sts["sources"] == [
        {"record": "dossier.yaml#e10", "retrieved_at": "2024-06-01T00:00:00Z", "source": "test-dossier"},
        {"record": "dossier.yaml#n17", "retrieved_at": "2024-06-01T00:00:00Z", "source": "test-dossier"},
    ]
    assert rels[13]["detail"] == {"draught_in": 5.1, "draught_out": 8.9, "port": "VOSTOCHNY"}
    assert rels[9]["detail"] == {"authority": "OFAC", "list_reference": "40001", "listed_name": "AURORA TIDE"}
    assert rels[7]["detail"] == {"first_seen": "2022-01-05", "last_seen": "2024-06-01"}
    assert rels[0]["detail"] == {"status": "former"}


def test_as_of_leaves_out_later_facts_and_judges_periods(world: Store) -> None:
    rows = run(world, "vessel", vessel=AURORA, as_of="2021-06-01")
    rels = [(r["fact"], r["other"], r["current"]) for r in rows if r["kind"] == "relationship"]
    assert ("FLAGGED", "PA", True) in rels
    assert ("SHIP_MANAGER_OF", "co:3", True) in rels
    # Only the undated "former flag" statement of KM, not the 2022 period; no listing or transfer yet.
    assert [current for _, other, current in rels if other == "KM"] == [None]
    assert not any(fact in ("SANCTIONED_AS", "PARTICIPATED_IN") for fact, _, _ in rels)
    assert "sts:2" not in [r["other"] for r in run(world, "vessel", vessel=AURORA, as_of="2025-01-01")]
    assert "sts:2" in [r["other"] for r in run(world, "vessel", vessel=AURORA, as_of="2025-06-01")]


def test_company_dossier(world: Store) -> None:
    rows = run(world, "company", company="co:1", as_of="2025-01-01")
    rels = [r for r in rows if r["kind"] == "relationship"]
    assert pick(rels, "fact", "direction", "other", "value") == [
        ("REGISTERED_AT", "out", "addr:1", "Unit 9, 1 Example Road, Hong Kong"),
        ("SHAREHOLDER_OF", "in", "co:2", "Harbour Crest Ltd"),
        ("DIRECTOR_OF", "in", "p:1", "Li Wen"),
        ("REGISTERED_OWNER_OF", "out", AURORA, "AURORA TIDE"),
    ]
    assert rels[1]["detail"] == {"share_pct": 100.0}


def test_finding_vessels_by_any_identifier(world: Store) -> None:
    for text in ("9289518", "IMO 9289518", AURORA, "352001234", "AURORA TIDE", "aurora tide", "Aurora"):
        assert [v.key for v in find_vessels(world, text)] == [AURORA], text
    assert [v.key for v in find_vessels(world, "SEA BREEZE")] == ["imo:9300007", "mmsi:273000001"]
    assert find_vessels(world, "NO SUCH SHIP") == []


def test_finding_companies_lists_every_match(world: Store) -> None:
    assert [c.key for c in find_companies(world, "Harbour Crest Ltd")] == ["co:1", "co:2"]
    assert [c.key for c in find_companies(world, "harbour crest ltd.")] == ["co:1", "co:2"]
    assert [c.key for c in find_companies(world, "Harbour Crest Limited")] == ["co:1"]
    assert [c.key for c in find_companies(world, "co:3")] == ["co:3"]
