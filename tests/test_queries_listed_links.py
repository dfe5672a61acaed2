"""Links a sanctions list states (LINKED_TO) in the canned queries, on both stores.

OFAC's "Linked To" is often the only link the list gives between a tanker and its company: exposure,
ownership, supply-chain evidence and the cap tally follow it, stated as "linked by OFAC", never as a
registered ownership.
"""

from __future__ import annotations

import pytest
from test_queries_world import load_world, pick, run

from graph.store import Store


@pytest.fixture
def world(store: Store) -> Store:
    return load_world(store, "listed-links")


def test_supply_chain_evidence_names_the_list(world: Store) -> None:
    rows = run(world, "supply-chains", as_of="2024-06-01")
    assert pick(rows, "supplier", "supplier_evidence", "receiver", "receiver_evidence") == [
        (
            "imo:9710001",
            ["flag RU", "linked by UN to Okhotsk Bunker Co"],
            "imo:9710002",
            ["linked by OFAC to Sonbong Star Shipping"],
        )
    ]


def test_cap_tally_counts_a_listed_link(world: Store) -> None:
    rows = run(world, "cap-tally", as_of="2024-06-01")
    assert pick(rows, "year", "deliveries", "deadweight_t", "vessel_keys") == [
        ("2024", 1, 2000.0, ["imo:9710002"])
    ]


def test_ownership_chain_says_linked_not_owned(world: Store) -> None:
    rows = run(world, "ownership-chain", vessel="imo:9710002", as_of="2024-06-01")
    assert pick(rows, "owner", "majority", "chains") == [
        ("co:kp1", "unknown", ["SONBONG STAR <- linked by OFAC Sonbong Star Shipping = unknown"])
    ]


def test_exposure_follows_the_links_and_the_transfer(world: Store) -> None:
    rows = run(world, "sanctions-exposure", as_of="2024-06-01", max_hops=3)
    to_ural = "Sonbong Star Shipping <-LINKED_TO- SONBONG STAR -PARTICIPATED_IN-> sts:l1 <-PARTICIPATED_IN- "
    assert pick(rows, "entity", "hops", "path") == [
        ("imo:9710002", 1, "Sonbong Star Shipping <-LINKED_TO- SONBONG STAR"),
        (
            "imo:9710001",
            2,
            to_ural + "URAL DAWN",
        ),
        (
            "co:ru1",
            3,
            to_ural + "URAL DAWN <-LINKED_TO- Okhotsk Bunker Co",
        ),
    ]


def test_case_file_states_the_link_in_the_lists_words(world: Store) -> None:
    """The case file keeps the link the dossier shows, cites the record that states it, never says owner."""
    from queries.casefile.collect import vessel_case

    case = vessel_case(world, "imo:9710002", as_of="2024-06-01")
    claims = [c for section in case.sections for c in section.claims if "links" in c.text]
    assert [c.text for c in claims] == [
        'OFAC links SONBONG STAR to Sonbong Star Shipping ("Linked To"): OFAC\'s term for a party associated '
        "with, owned or controlled by the other; the list does not say it is the registered owner."
    ]
    (note,) = [case.footnotes[n - 1] for n in claims[0].footnotes]
    assert [s["record"] for s in note.sources] == [
        "listed-links.yaml#e3"
    ]  # the LINKED_TO edge, not the listing
    assert ("co:kp1", "imo:9710002", "LINKED_TO") in [(e.src, e.dst, e.type) for e in case.edges]


def test_a_link_that_restates_the_registered_owner_adds_no_path(store: Store) -> None:
    """OFAC links a tanker to its registered owner: the chain keeps the 100% ownership, no unknown twin."""
    from test_queries_world import world_records

    from graph.records import EdgeRecord

    records = world_records("listed-links")
    owner = next(
        r for r in records if isinstance(r, EdgeRecord) and r.type == "LINKED_TO" and r.key == "OFAC"
    )
    store.write([*records, EdgeRecord("REGISTERED_OWNER_OF", "Company", "co:kp1", "Vessel", "imo:9710002", "",
                                      {}, owner.provenance)])  # fmt: skip
    rows = run(store, "ownership-chain", vessel="imo:9710002", as_of="2024-06-01")
    assert pick(rows, "owner", "effective_pct", "majority", "chains") == [
        ("co:kp1", 100.0, "yes", ["SONBONG STAR <- owner Sonbong Star Shipping = 100.0%"])
    ]
