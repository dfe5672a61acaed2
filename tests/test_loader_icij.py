"""ICIJ Offshore Leaks layout: node files to Company/Person/Address, relationships to schema types."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.store import Store
from loaders import icij
from loaders.base import LoadError, LoadOptions

DATA = Path(__file__).parent / "data" / "loaders" / "icij"
OPTIONS = LoadOptions(retrieved_at="2024-02-01T00:00:00Z")


def test_folder_loads_into_store(store: Store) -> None:
    out = icij.load([DATA], OPTIONS)
    store.write(out.records)
    assert out.rows_read == 20
    assert store.counts().nodes == {"Company": 5, "Person": 2, "Address": 1, "Country": 3}
    kestrel = store.get_node("Company", "icij:90000001")
    assert kestrel is not None
    assert kestrel.props == {
        "name": "KESTREL DUNE HOLDINGS S.A.",
        "jurisdiction": "WS",
        "registration_number": "KD-2006-17",
        "aliases": ["KESTREL SANDS S.A."],
        "incorporation_date": "2006-03-23",
        "dissolution_date": "2015-06-15",
        "name_key": "KESTREL DUNE HOLDINGS S A",  # the normalised name identity joins look up
    }
    assert store.get_node("Company", "icij:91000002") is not None  # officer with a legal form
    assert store.get_node("Person", "icij:91000001") is not None
    incoming = sorted(
        (e.type, e.src, e.key, tuple(sorted(e.props.items())))
        for e in store.edges("Company", ["icij:90000001"], None, "in")
    )
    assert incoming == [
        ("BENEFICIAL_OWNER_OF", "icij:91000003", "", ()),
        (
            "DIRECTOR_OF",
            "icij:91000002",
            "2006-04-07",
            (("role", "director of"), ("valid_from", "2006-04-07"), ("valid_to", "2012-12-31")),
        ),
        ("REGISTRATION_AGENT_OF", "icij:92000001", "", ()),
        ("SHAREHOLDER_OF", "icij:91000001", "2006-04-01", (("valid_from", "2006-04-01"),)),
    ]
    both = {e.type for e in store.edges("Person", ["icij:91000001"], None, "out") if e.dst == "icij:90000002"}
    assert both == {"DIRECTOR_OF", "SHAREHOLDER_OF"}  # "Director and Shareholder", unreadable date dropped
    address = store.edges("Company", ["icij:90000001"], ["REGISTERED_AT"], "out")
    assert [(e.dst_label, e.dst) for e in address] == [("Address", "icij:93000001")]


def test_unmapped_relationships_are_counted_and_kept() -> None:
    out = icij.load([DATA], OPTIONS)
    assert [(r.file.rsplit("/", 1)[-1], r.line, r.reason) for r in out.rejects] == [
        ("nodes-entities.csv", 4, "name: missing"),
        ("relationships.csv", 9, "unmapped relationship same_name_as (same name as)"),
        ("relationships.csv", 10, "unmapped relationship officer_of (protector of)"),
        ("relationships.csv", 11, "unknown node id '99999999'"),
        (
            "relationships.csv",
            12,
            "unmapped relationship officer_of (shareholder of) from Address to Company",
        ),
    ]
    assert sum(r.reason.startswith("unmapped relationship") for r in out.rejects) == 3


def test_loading_twice_changes_nothing(store: Store) -> None:
    store.write(icij.load([DATA], OPTIONS).records)
    before = store.counts()
    stats = store.write(icij.load(sorted(DATA.glob("*.csv")), OPTIONS).records)
    assert stats.nodes_created == 0 and stats.edges_created == 0
    assert store.counts() == before


def test_relationships_need_their_nodes() -> None:
    out = icij.load([DATA / "relationships.csv"], OPTIONS)
    assert out.records == [] and len(out.rejects) == 11
    assert all(r.reason.startswith("unknown node id") for r in out.rejects)


def test_classify() -> None:
    assert icij.classify("officer_of", "Beneficial Owner of") == [("BENEFICIAL_OWNER_OF", None)]
    assert icij.classify("officer_of", "Nominee Director of") == [("DIRECTOR_OF", "Nominee Director of")]
    assert icij.classify("intermediary_of", "intermediary of") == [("REGISTRATION_AGENT_OF", None)]
    assert icij.classify("registered_address", None) == [("REGISTERED_AT", None)]
    assert icij.classify("similar", "similar name and address as") == []
    assert icij.classify("officer_of", "protector of") == []


def test_foreign_files_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "entities.csv"
    other.write_text("node_id,name\n1,X\n", encoding="utf-8")
    with pytest.raises(LoadError, match="not an ICIJ file"):
        icij.load([other], OPTIONS)
    bad = tmp_path / "nodes-officers.csv"
    bad.write_text("id,label\n1,X\n", encoding="utf-8")
    with pytest.raises(
        LoadError, match=r"nodes-officers\.csv: not an ICIJ nodes-officers\.csv file: no column 'node_id'"
    ):
        icij.load([bad], OPTIONS)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(LoadError, match="no ICIJ"):
        icij.load([empty], OPTIONS)
