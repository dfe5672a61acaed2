"""The synthetic world generator: deterministic, schema-valid, self-consistent, loadable into both stores."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import pairwise

import pytest

from graph.keys import is_valid_imo, is_valid_imo_company, is_valid_mmsi
from graph.records import EdgeRecord, NodeRecord
from graph.schema import default_schema
from graph.store import Store
from loaders.world import (
    COUNTRIES,
    SOURCE,
    World,
    generate_world,
    imo_check_digit,
    world_size,
    write_world,
)


@pytest.fixture(scope="module")
def world() -> tuple[World, list]:
    w = World(11, 400)
    return w, list(w)


def test_same_seed_same_records() -> None:
    assert list(generate_world(3, 120)) == list(generate_world(3, 120))
    assert list(generate_world(3, 120)) != list(generate_world(4, 120))


def test_iterating_twice_gives_the_same_records_and_counts() -> None:
    w = World(5, 50)
    first, counts = list(w), w.counts()
    assert list(w) == first
    assert w.counts() == counts


def test_counts_need_a_full_pass() -> None:
    w = World(5, 50)
    next(iter(w))
    with pytest.raises(RuntimeError):
        w.counts()


def test_every_record_fits_the_schema_and_has_provenance(world: tuple[World, list]) -> None:
    schema = default_schema()
    _, records = world
    numbers = []
    for record in records:
        if isinstance(record, NodeRecord):
            schema.check_node(record.label, record.props)
        else:
            schema.check_edge(record.type, record.src_label, record.dst_label, record.props)
            assert record.observed is None
        prov = record.provenance
        assert prov is not None and prov.source == SOURCE and prov.retrieved_at
        prefix, number = prov.record.split("#")
        assert prefix == "seed11"
        numbers.append(int(number))
    assert numbers == list(range(1, len(records) + 1))


def test_keys_are_unique_and_ends_come_first(world: tuple[World, list]) -> None:
    w, records = world
    seen: set[tuple[str, str]] = set()
    label_of: dict[str, str] = {}
    identities: set[tuple] = set()
    for record in records:
        if isinstance(record, NodeRecord):
            assert (record.label, record.key) not in seen, f"{record.label} {record.key} yielded twice"
            seen.add((record.label, record.key))
            assert label_of.setdefault(record.key, record.label) == record.label, record.key
        else:
            assert (record.src_label, record.src) in seen, record
            assert (record.dst_label, record.dst) in seen, record
            assert record.identity not in identities, record.identity
            identities.add(record.identity)
    counts = w.counts()
    assert sum(counts.nodes.values()) == len(seen)
    assert sum(counts.relationships.values()) == len(identities)
    assert counts.nodes == dict(Counter(label for label, _ in seen))


def test_identifiers_are_valid(world: tuple[World, list]) -> None:
    _, records = world
    vessels = [r for r in records if isinstance(r, NodeRecord) and r.label == "Vessel"]
    by_imo = [v for v in vessels if v.key.startswith("imo:")]
    by_mmsi = [v for v in vessels if v.key.startswith("mmsi:")]
    assert len(by_imo) + len(by_mmsi) == len(vessels) == 400
    assert by_mmsi, "some vessels should have no IMO number"
    for v in by_imo:
        assert is_valid_imo(v.key[4:]) and v.props["imo"] == v.key[4:]
    for v in by_mmsi:
        assert "imo" not in v.props
        assert not any(is_valid_imo(c) for c in v.props.get("claimed_imos", ()))
    for r in records:
        if isinstance(r, NodeRecord) and r.label == "Mmsi":
            assert is_valid_mmsi(r.key) and r.props["mid"] == r.key[:3]
            assert int(r.key[:3]) in COUNTRIES[r.props["mid_country"]][0]
        if isinstance(r, NodeRecord) and r.label == "Company" and "imo_company_number" in r.props:
            assert is_valid_imo_company(r.props["imo_company_number"])
    assert imo_check_digit("928951") == "8"  # IMO 9289518, the schema's example


def test_identity_histories_are_dated_contiguous_periods(world: tuple[World, list]) -> None:
    _, records = world
    periods: dict[tuple[str, str], list[EdgeRecord]] = defaultdict(list)
    for r in records:
        if isinstance(r, EdgeRecord) and r.type in ("NAMED", "FLAGGED", "HAS_MMSI", "REGISTERED_OWNER_OF"):
            periods[(r.type, r.dst if r.type == "REGISTERED_OWNER_OF" else r.src)].append(r)
    assert max(len(p) for (t, _), p in periods.items() if t == "FLAGGED") >= 3
    for edges in periods.values():
        edges.sort(key=lambda e: e.props["valid_from"])
        for before, after in pairwise(edges):
            assert before.key == before.props["valid_from"]
            assert before.props["valid_to"] == after.props["valid_from"]
        assert "valid_to" not in edges[-1].props  # the current period is open


def test_mid_mostly_matches_the_flag(world: tuple[World, list]) -> None:
    _, records = world
    mid_country = {r.key: r.props["mid_country"] for r in records if getattr(r, "label", "") == "Mmsi"}
    flags = {(r.src, r.key): r.dst for r in records if getattr(r, "type", "") == "FLAGGED"}
    pairs = [
        (mid_country[r.dst], flags[(r.src, r.key)]) for r in records if getattr(r, "type", "") == "HAS_MMSI"
    ]
    matching = sum(a == b for a, b in pairs)
    assert 0.85 * len(pairs) <= matching < len(pairs)


def test_world_has_every_kind_of_fact(world: tuple[World, list]) -> None:
    w, records = world
    counts = w.counts()
    labels = "Vessel Company Person Address Country Port Sanction Mmsi CallSign VesselName StsTransfer"
    for label in [*labels.split(), "PortCall", "AisGap"]:
        assert counts.nodes.get(label), label
    types = "NAMED FLAGGED HAS_MMSI REGISTERED_OWNER_OF SHIP_MANAGER_OF DIRECTOR_OF SHAREHOLDER_OF"
    for rel in [*types.split(), "REGISTERED_AT", "SANCTIONED_AS", "PARTICIPATED_IN", "AT_PORT"]:
        assert counts.relationships.get(rel), rel
    sanctions = [r for r in records if getattr(r, "label", "") == "Sanction"]
    assert {s.props["authority"] for s in sanctions} <= {"OFAC", "UN"}
    assert {s.props["program"] for s in sanctions} <= {"DPRK", "RUSSIA-EO14024"}
    shares = [r.props.get("share_pct") for r in records if getattr(r, "type", "") == "SHAREHOLDER_OF"]
    assert None in shares and any(s is not None for s in shares)
    # shell clusters: several companies at one address
    at = Counter(r.dst for r in records if getattr(r, "type", "") == "REGISTERED_AT")
    assert max(at.values()) >= 5
    sts = defaultdict(list)
    for r in records:
        if getattr(r, "type", "") == "PARTICIPATED_IN":
            sts[r.dst].append(r.src)
    assert sts and all(len(v) == 2 and v[0] != v[1] for v in sts.values())


def test_large_indices_keep_mmsis_and_keys_unique() -> None:
    """MMSI serials repeat 250,000 vessels apart; the generator must still yield each node once."""
    w = World(2, 300_000, no_imo_share=0.5, mid_mismatch_share=0.0)
    indices = [*range(0, 4_000), *range(250_000, 254_000)]
    first_uses, distinct, keys = 0, set(), set()
    for i in indices:
        for p in range(w.n_flags(i)):
            distinct.add(w.mmsi(i, p)[0])
            first_uses += w._mmsi_first_use(i, p)
        keys.add(w.vessel_key(i))
    assert first_uses == len(distinct)
    assert len(keys) == len(indices)


def test_world_size_is_exact_when_small_and_close_when_estimated() -> None:
    w = World(1, 300)
    list(w)
    assert world_size(1, 300) == w.counts()
    exact = World(1, 1_200)
    list(exact)
    estimate = world_size(1, 1_200, sample_vessels=400)
    real = exact.counts().as_dict()
    guess = estimate.as_dict()
    for total in ("total_nodes", "total_relationships"):
        assert abs(guess[total] - real[total]) <= 0.03 * real[total]


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        World(1, -1)
    with pytest.raises(ValueError):
        World(1, 10, ports=2)


def test_write_world_into_each_store(store: Store) -> None:
    load = write_world(store, 21, 40, batch_size=500, atomic=False)
    counts = store.counts()
    assert counts == load.counts
    assert load.stats.nodes_created == sum(load.counts.nodes.values())
    assert load.stats.edges_created == sum(load.counts.relationships.values())
    # a second write of the same world changes nothing
    again = write_world(store, 21, 40)
    assert again.stats.nodes_created == 0 and again.stats.edges_created == 0
    assert store.counts() == counts
