"""Corporate records: relations to schema types, dates to periods, companies consolidated within a load."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.records import EdgeRecord, NodeRecord, Provenance
from graph.store import Store
from loaders import ownership
from loaders.base import LoadError, LoadOptions

DATA = Path(__file__).parent / "data" / "loaders" / "ownership"
OPTIONS = LoadOptions(retrieved_at="2024-02-01T00:00:00Z")
PROV = Provenance("test", "row#1", "2024-02-01T00:00:00Z")
HARROW = "reg:MH:MI-88412"
KESTREL = "reg:PA:PA-4471"


def load(store: Store) -> ownership.LoadOutput:
    out = ownership.load([DATA / "corporate.csv"], OPTIONS)
    store.write(out.records)
    return out


def edge_map(store: Store, label: str, key: str, direction: str = "in") -> dict[tuple[str, str, str], dict]:
    edges = store.edges(label, [key], None, direction)  # type: ignore[arg-type]
    return {(e.type, e.src if direction == "in" else e.dst, e.key): e.props for e in edges}


def test_relations_land_as_schema_types(store: Store) -> None:
    out = load(store)
    assert out.rows_read == 13
    vessel = edge_map(store, "Vessel", "imo:1000019")
    bluefin = next(k[1] for k in vessel if k[0] == "SHIP_MANAGER_OF")
    assert vessel == {
        ("REGISTERED_OWNER_OF", HARROW, "2024-01-12"): {"valid_from": "2024-01-12"},
        ("SHIP_MANAGER_OF", bluefin, "2019-03-01"): {"valid_from": "2019-03-01"},
        ("ISM_MANAGER_OF", bluefin, ""): {},
    }
    harrow = edge_map(store, "Company", HARROW)
    assert harrow[("SHAREHOLDER_OF", KESTREL, "2021-06-01")] == {
        "valid_from": "2021-06-01",
        "share_pct": 51.0,
    }
    unknown_share = [p for (t, src, _), p in harrow.items() if t == "SHAREHOLDER_OF" and src.startswith("p:")]
    assert unknown_share == [{}]  # share unknown ("NA"): no share_pct, no dates
    assert {t for t, _, _ in harrow} == {"SHAREHOLDER_OF", "REGISTRATION_AGENT_OF"}
    kestrel = edge_map(store, "Company", KESTREL)
    director = next(p for (t, _, _), p in kestrel.items() if t == "DIRECTOR_OF")
    assert director == {"valid_from": "2020-02-01", "valid_to": "2022-05-31", "role": "Managing director"}
    ubo = next(p for (t, _, _), p in kestrel.items() if t == "BENEFICIAL_OWNER_OF")
    assert ubo == {"share_pct": 100.0}
    out_edges = edge_map(store, "Company", HARROW, "out")
    assert {t for t, _, _ in out_edges} == {"REGISTERED_OWNER_OF", "REGISTERED_AT", "INCORPORATED_IN"}


def test_parties_and_objects(store: Store) -> None:
    load(store)
    harrow = store.get_node("Company", HARROW)
    assert harrow is not None and harrow.props["jurisdiction"] == "MH"
    assert store.counts().nodes["Company"] == 4  # name-only mentions joined the registered companies
    people = store.find_nodes("Person", "name", ["Orsolya Brandt-Vikar", "Tomasz Quill"])
    assert sorted(p.props["name"] for p in people) == ["Orsolya Brandt-Vikar", "Tomasz Quill"]
    agent = store.find_nodes("Company", "name", ["Lindqvist Corporate Agents Ltd"])
    assert len(agent) == 1
    address = store.find_nodes("Address", "full", ["Trust Company Complex, Ajeltake Road, Majuro"])
    assert [a.props["country"] for a in address] == ["MH"]
    vessel = store.get_node("Vessel", "imo:1000019")
    assert vessel is not None and vessel.props == {"imo": "1000019"}


def test_bad_rows_are_rejected_with_reasons() -> None:
    out = ownership.load([DATA / "corporate.csv"], OPTIONS)
    assert [(r.line, r.reason) for r in out.rejects] == [
        (11, "relation: unknown relation 'cousin of'"),
        (12, "share_pct: '140' is outside 0..100"),
        (13, "end_date 2021-01-01 is before start_date 2023-05-01"),
        (14, "object_type: a shareholder relation cannot point at a vessel"),
    ]


def test_loading_twice_changes_nothing(store: Store) -> None:
    load(store)
    before = store.counts()
    edges = sorted(store.edges("Company", [HARROW, KESTREL], None, "in"), key=repr)
    stats = store.write(ownership.load([DATA / "corporate.csv"], OPTIONS).records)
    assert stats.nodes_created == 0 and stats.edges_created == 0
    assert store.counts() == before
    assert sorted(store.edges("Company", [HARROW, KESTREL], None, "in"), key=repr) == edges


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("Registered owner", "registered_owner"),
        ("Technical Manager", "ship_manager"),
        ("DOC company", "ism_manager"),
        ("shareholder of", "shareholder"),
        ("UBO", "beneficial_owner"),
        ("Registered agent", "registration_agent"),
        ("registered_address", "registered_address"),
        ("Commercial manager", "commercial_manager"),
        ("Director", "director"),
    ],
)
def test_relation_names(written: str, canonical: str) -> None:
    assert ownership.relation_name(written) == canonical


def test_relation_records_pure() -> None:
    records = ownership.relation_records(
        {"subject": "Ivel Brook Trading LLC", "relation": "operator", "object": "IMO 1000019"}, PROV
    )
    edge = records[-1]
    assert isinstance(edge, EdgeRecord)
    assert (edge.type, edge.src_label, edge.dst, edge.key, dict(edge.props)) == (
        "OPERATOR_OF",
        "Company",
        "imo:1000019",
        "",
        {},
    )
    person = ownership.relation_records(
        {
            "subject": "Ada Pinnock",
            "relation": "director",
            "object": "Ivel Brook Trading LLC",
            "start_date": "2020",
        },
        PROV,
    )
    assert [r.label for r in person if isinstance(r, NodeRecord)] == ["Person", "Company"]
    assert person[-1].key == "2020"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="subject_type"):
        ownership.relation_records(
            {"subject": "X", "subject_type": "robot", "relation": "director", "object": "Y"}, PROV
        )
    with pytest.raises(ValueError, match="missing address"):
        ownership.relation_records({"subject": "X Ltd", "relation": "registered address"}, PROV)


def test_looks_corporate() -> None:
    assert ownership.looks_corporate("Kestrel Dune Holdings S.A.")
    assert ownership.looks_corporate("OOO Severny Veter")
    assert not ownership.looks_corporate("Tomasz Quill")


def test_missing_required_column(tmp_path: Path) -> None:
    path = tmp_path / "partial.csv"
    path.write_text("subject,object\nA Ltd,B Ltd\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"partial\.csv: no column for required field 'relation'"):
        ownership.load([path], OPTIONS)
