"""One node per company: a registry that names owners by name only and a sanctions list that names them
by IMO company number meet on one node, in either load order, on both stores, and the sanctions
queries see the designated owner (graph/identity/companies.py). Names and numbers are fictional."""

from __future__ import annotations

import pytest

from graph.identity import merge
from graph.keys import company_key
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.store import Store
from queries.engine import run_query

LIST = Provenance("fictional-list", "entries.csv#7", "2024-02-01T00:00:00Z")
REGISTRY = Provenance("fictional-registry", "snap-2024-01.csv#3", "2024-01-13T00:00:00Z")
OWNERS = Provenance("fictional-ownership", "owners.csv#2", "2024-01-20T00:00:00Z")
STRONG = "imoco:6000011"  # a valid IMO company number
HULL = "imo:1000019"
DAY = "2024-01-12"
NAME_ONLY = company_key("Jade Current Shipping Ltd")
WITH_COUNTRY = company_key("JADE CURRENT SHIPPING LTD.", "MH")


def sanctions_list() -> list[Record]:
    return [
        NodeRecord(
            "Company", STRONG, {"name": "JADE CURRENT SHIPPING LTD", "imo_company_number": "6000011"}, LIST
        ),
        NodeRecord(
            "Sanction", "list:7", {"authority": "FICT", "program": "DPRK", "listing_date": "2023-11-01"}, LIST
        ),
        EdgeRecord("SANCTIONED_AS", "Company", STRONG, "Sanction", "list:7", "", {}, LIST),
    ]


def registry() -> list[Record]:
    # The registry gives the owner's name only, spelt its own way.
    return [
        NodeRecord("Vessel", HULL, {"imo": "1000019", "name": "WREN STAR"}, REGISTRY, observed="2024-01-12"),
        NodeRecord(
            "Company", NAME_ONLY, {"name": "Jade Current Shipping Ltd"}, REGISTRY, observed="2024-01-12"
        ),
        EdgeRecord(
            "REGISTERED_OWNER_OF",
            "Company",
            NAME_ONLY,
            "Vessel",
            HULL,
            provenance=REGISTRY,
            observed="2024-01-12",
        ),
    ]


def ownership() -> list[Record]:
    # Another file adds the country of registration, with punctuation of its own.
    return [
        NodeRecord(
            "Company", WITH_COUNTRY, {"name": "JADE CURRENT SHIPPING LTD.", "jurisdiction": "MH"}, OWNERS
        ),
        NodeRecord("Person", "p:1", {"name": "Ilse Marwood"}, OWNERS),
        EdgeRecord("DIRECTOR_OF", "Person", "p:1", "Company", WITH_COUNTRY, "", {}, OWNERS),
    ]


def exposed(store: Store) -> set[tuple[str, str]]:
    rows = run_query(store, "sanctions-exposure", {"as_of": "2024-06-01", "max_hops": 2})
    return {(r["entity"], r["sanctioned"]) for r in rows}


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_name_only_owner_joins_the_listed_company(store: Store, order: tuple[int, ...]) -> None:
    batches = [sanctions_list(), registry(), ownership()]
    for index in order:
        store.write(batches[index])
    companies = store.get_nodes("Company", [STRONG, NAME_ONLY, WITH_COUNTRY])
    assert sorted(companies) == [STRONG]
    owner = companies[STRONG]
    assert sorted(owner.props["source_keys"]) == sorted([NAME_ONLY, WITH_COUNTRY])
    # The listed name stays current (the list was retrieved last); the others are kept with their sources.
    assert owner.props["jurisdiction"] == "MH"
    owners = store.edges("Vessel", [HULL], ["REGISTERED_OWNER_OF"], "in")
    assert [(e.src, e.props["resolved_from"]) for e in owners] == [(STRONG, NAME_ONLY)]
    assert (HULL, STRONG) in exposed(store)
    assert ("p:1", STRONG) in exposed(store)


def test_one_source_keeps_its_two_entries_apart(store: Store) -> None:
    # A list with two entries of one name, one with a country: two entities by its own word.
    a = company_key("Harbour Relief Foundation")
    b = company_key("Harbour Relief Foundation", "PA")
    store.write(
        [
            NodeRecord("Company", a, {"name": "HARBOUR RELIEF FOUNDATION"}, LIST),
            NodeRecord("Company", b, {"name": "HARBOUR RELIEF FOUNDATION", "jurisdiction": "PA"}, LIST),
        ]
    )
    assert sorted(store.get_nodes("Company", [a, b])) == sorted([a, b])


def test_a_merge_splits_back(store: Store) -> None:
    store.write(sanctions_list())
    store.write(registry())
    assert sorted(store.get_nodes("Company", [STRONG, NAME_ONLY])) == [STRONG]
    assert store.get_node("Alias", f"Company:{NAME_ONLY}") is not None
    move = merge.split(store, "Company", STRONG, NAME_ONLY)
    store.apply(move)
    assert store.get_node("Alias", f"Company:{NAME_ONLY}") is None
    both = store.get_nodes("Company", [STRONG, NAME_ONLY])
    assert sorted(both) == sorted([STRONG, NAME_ONLY])
    assert both[NAME_ONLY].props["name"] == "Jade Current Shipping Ltd"
    assert "source_keys" not in both[STRONG].props
    assert [p.record for p in both[NAME_ONLY].sources()] == ["snap-2024-01.csv#3"]
    assert [p.record for p in both[STRONG].sources()] == ["entries.csv#7"]
    owners = store.edges("Vessel", [HULL], ["REGISTERED_OWNER_OF"], "in")
    assert [(e.src, e.props.get("resolved_from")) for e in owners] == [(NAME_ONLY, None)]
    assert (HULL, STRONG) not in exposed(store)
    # The reviewer's "different" stays in the graph as a rejected link: loading the registry again
    # does not join the two again.
    store.write([rejected(NAME_ONLY, STRONG)])
    store.write(registry())
    assert sorted(store.get_nodes("Company", [STRONG, NAME_ONLY])) == sorted([STRONG, NAME_ONLY])


def rejected(a: str, b: str) -> EdgeRecord:
    prov = Provenance("resolver", f"Company:{a}|Company:{b}", "2024-03-01T00:00:00Z")
    props = {"score": 1.0, "method": "rejected", "parameters": "{}"}
    return EdgeRecord("POSSIBLY_SAME_AS", "Company", a, "Company", b, "", props, prov)


def test_a_judgement_merges_and_a_rejection_splits_every_query(store: Store, tmp_path) -> None:
    from graph.judgements import Judgements, NodeRef
    from shadowfleet.commands.resolve import apply_judgement

    # Two spellings no rule joins (different words): only a reviewer can say they are one company.
    other = company_key("Jade Current Maritime")
    store.write(sanctions_list())
    store.write(
        [
            NodeRecord("Vessel", HULL, {"imo": "1000019", "name": "WREN STAR"}, REGISTRY, observed=DAY),
            NodeRecord("Company", other, {"name": "Jade Current Maritime"}, REGISTRY, observed=DAY),
            EdgeRecord(
                "REGISTERED_OWNER_OF", "Company", other, "Vessel", HULL, provenance=REGISTRY, observed=DAY
            ),
        ]
    )
    before = exposed(store)
    assert (HULL, STRONG) not in before
    judgements = Judgements(path=tmp_path / "judgements.yaml")
    left, right = NodeRef("Company", other), NodeRef("Company", STRONG)
    apply_judgement(store, judgements.decide(left, right, "same", by="reviewer"))
    assert sorted(store.get_nodes("Company", [other, STRONG])) == [STRONG]
    assert (HULL, STRONG) in exposed(store)
    dossier = run_query(store, "company", {"company": STRONG, "as_of": "2024-06-01"})
    assert {r["fact"] for r in dossier if r["kind"] == "relationship"} >= {
        "REGISTERED_OWNER_OF",
        "SANCTIONED_AS",
    }
    apply_judgement(store, judgements.decide(left, right, "different", by="reviewer"))
    assert sorted(store.get_nodes("Company", [other, STRONG])) == sorted([other, STRONG])
    assert exposed(store) == before


def test_a_later_reference_to_a_joined_key_goes_to_its_company(store: Store) -> None:
    store.write(sanctions_list())
    store.write(registry())
    # What the refresh job writes about a change it saw in the registry: the entity by the key it gave.
    change = NodeRecord("ChangeEvent", "chg:1", {"what": "rename"}, REGISTRY)
    store.write(
        [
            NodeRecord("Company", NAME_ONLY),
            change,
            EdgeRecord("HAS_CHANGE", "Company", NAME_ONLY, "ChangeEvent", "chg:1", provenance=REGISTRY),
        ]
    )
    assert sorted(store.get_nodes("Company", [STRONG, NAME_ONLY])) == [STRONG]
    changes = store.edges("Company", [STRONG], ["HAS_CHANGE"], "out")
    assert [(e.dst, e.props["resolved_from"]) for e in changes] == [("chg:1", NAME_ONLY)]
