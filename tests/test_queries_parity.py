"""Parity: every canned query gives identical rows on the embedded store and on Neo4j.

Over every crafted world and over a generated world, with default and non-default parameters. Runs
when Neo4j is reachable (NEO4J_URI), like the Neo4j half of the `store` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_queries_world import world_records

from graph.memory_store import MemoryStore
from graph.records import Record
from graph.store import Store
from loaders.world import generate_world
from queries.engine import run_query
from queries.registry import registry

AS_OF = {"as_of": "2025-01-01"}

# Parameter sets per query on the crafted worlds (every query also runs with its defaults).
CRAFTED: dict[str, list[dict[str, Any]]] = {
    "supply-chains": [
        AS_OF,
        {**AS_OF, "window_days": 90},
        {**AS_OF, "max_hops": 1},
        {**AS_OF, "max_degree": 3},
    ],
    "flag-hoppers": [{"as_of": "2024-06-01", "min_changes": 1}, {"as_of": "2024-06-01", "window_days": 5000}],
    "identity-changes": [AS_OF, {"as_of": "2025-06-01", "since": "2022-01-01"}],
    "shell-networks": [
        {"as_of": "2024-06-01", "min_vessels": 0},
        {"as_of": "2019-01-01", "max_companies": 3},
    ],
    "ownership-chain": [
        {"vessel": "9400001", "as_of": "2024-06-01"},
        {"vessel": "imo:9400001", "as_of": "2024-06-01", "max_hops": 2, "max_degree": 2},
    ],
    "sanctions-exposure": [
        {"as_of": "2024-06-01", "max_hops": 4},
        {"as_of": "2024-06-01", "max_hops": 3, "max_degree": 3},
        {"as_of": "2022-06-01", "authority": "OFAC"},
    ],
    "dark-activity": [
        {**AS_OF, "margin_days": 7},
        {"as_of": "2025-06-01", "min_hours": 1, "since": "2024-06-01"},
    ],
    "cap-tally": [
        {**AS_OF, "cap_bbl": 30000},
        {"as_of": "2025-06-01", "vessel_type": "", "bbl_per_tonne": 7.33},
    ],
    "vessel": [
        {"vessel": "9289518", "as_of": "2021-06-01"},
        {"vessel": "imo:9289518", "as_of": "2025-06-01"},
    ],
    "company": [{"company": "co:1"}, {"company": "Harbour Crest Ltd", "as_of": "2019-06-01"}],
}
WORLDS = ["supply-chains", "flag-hoppers", "identity-changes", "shell-networks", "ownership-chain",
          "sanctions-exposure", "dark-activity", "cap-tally", "dossier"]  # fmt: skip


def _cases(world: str) -> list[tuple[str, dict[str, Any]]]:
    cases: list[tuple[str, dict[str, Any]]] = []
    for name, spec in registry().items():
        required = [p.name for p in spec.params if p.required and p.default is None]
        if not required:
            cases.append((name, {}))
        cases.extend((name, params) for params in CRAFTED.get(name, []))
    return cases


@pytest.fixture
def neo4j(neo4j_session_store: Store, exclusive_neo4j: Any) -> Iterator[Store]:
    """The shared Neo4j, emptied, under the test lock of tests/conftest.py."""
    with exclusive_neo4j(neo4j_session_store) as store:
        yield store


def _compare(records: list[Record], neo4j: Store, cases: list[tuple[str, dict[str, Any]]]) -> int:
    memory = MemoryStore(None)
    memory.write(records)
    neo4j.write(records)
    expected = memory.counts()
    assert neo4j.counts() == expected, "the two stores hold different graphs before any query ran"
    rows = 0
    for name, params in cases:
        mine, theirs = run_query(memory, name, params), run_query(neo4j, name, params)
        if mine != theirs:
            # A shared test server may have been written to by another process meanwhile.
            assert neo4j.counts() == expected, "Neo4j was changed by another process during the test"
        assert mine == theirs, f"{name} {params}: the stores disagree"
        rows += len(mine)
    return rows


@pytest.mark.parametrize("world", WORLDS)
def test_parity_on_crafted_worlds(world: str, neo4j: Store) -> None:
    assert _compare(world_records(world), neo4j, _cases(world)) > 0


def test_parity_on_a_generated_world(neo4j: Store) -> None:
    records = list(generate_world(7, 300))
    vessels = sorted(r.key for r in records if getattr(r, "label", None) == "Vessel")
    companies = sorted(r.key for r in records if getattr(r, "label", None) == "Company")
    day = {"as_of": "2024-06-30"}
    cases = [(name, dict(day)) for name in registry() if name not in ("vessel", "company", "ownership-chain")]
    cases += [
        ("supply-chains", {**day, "window_days": 120, "max_hops": 4}),
        ("flag-hoppers", {**day, "min_changes": 1}),
        ("sanctions-exposure", {**day, "max_hops": 3}),
        ("shell-networks", {**day, "min_vessels": 0}),
        ("dark-activity", {**day, "margin_days": 10, "min_hours": 0}),
        ("cap-tally", {**day, "vessel_type": ""}),
    ]
    for key in vessels[::30]:
        cases += [("ownership-chain", {**day, "vessel": key}), ("vessel", {**day, "vessel": key})]
    for key in companies[::30]:
        cases.append(("company", {**day, "company": key}))
    assert _compare(records, neo4j, cases) > 100
