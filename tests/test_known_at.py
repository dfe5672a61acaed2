"""Known at T: every query asked of the facts retrieved by T only, on both stores (graph/known_at.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_identity_companies import HULL, STRONG, registry, sanctions_list

from graph.known_at import known_at
from graph.records import NodeRecord, Provenance
from graph.store import Store
from queries.engine import run_query


def exposed(store: Store) -> set[tuple[str, str]]:
    rows = run_query(store, "sanctions-exposure", {"as_of": "2024-06-01", "max_hops": 2})
    return {(r["entity"], r["sanctioned"]) for r in rows}


def test_a_backtest_sees_only_what_was_retrieved_by_then(store: Store) -> None:
    # The registry was retrieved on 2024-01-13, the sanctions list on 2024-02-01.
    store.write(sanctions_list())
    store.write(registry())
    assert (HULL, STRONG) in exposed(store)
    before = known_at(store, "2024-01-20")
    assert exposed(before) == set()
    assert before.get_node("Sanction", "list:7") is None
    owner = before.get_node("Company", STRONG)  # known from the registry (by name), not yet listed
    assert owner is not None and [p.record for p in owner.sources()] == ["snap-2024-01.csv#3"]
    assert owner.props["name"] == "Jade Current Shipping Ltd"
    assert "imo_company_number" not in owner.props
    assert (HULL, STRONG) in exposed(known_at(store, "2024-02-01"))


def test_a_restated_value_falls_back_to_what_was_known(store: Store) -> None:
    early = Provenance("fictional-registry", "a.csv#1", "2023-01-10T00:00:00Z")
    late = Provenance("fictional-registry", "b.csv#1", "2024-01-10T00:00:00Z")
    store.write([NodeRecord("Vessel", HULL, {"imo": HULL[4:], "deadweight": 104500.0}, early)])
    store.write([NodeRecord("Vessel", HULL, {"imo": HULL[4:], "deadweight": 104800.0}, late)])
    for day, deadweight in (("2023-06-01", 104500.0), ("2024-06-01", 104800.0)):
        vessel = known_at(store, day).get_node("Vessel", HULL)
        assert vessel is not None and vessel.props["deadweight"] == deadweight


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An embedded data directory holding the registry and the sanctions list, as SHADOWFLEET_HOME."""
    from graph.memory_store import MemoryStore

    folder = tmp_path / "home"
    store = MemoryStore(folder)
    store.write(sanctions_list())
    store.write(registry())
    store.close()
    monkeypatch.setenv("SHADOWFLEET_HOME", str(folder))
    return folder


def _cli_rows(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict]:
    from shadowfleet.cli import main

    capsys.readouterr()
    assert main([*argv, "--format", "json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_cli_known_at(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from shadowfleet.cli import main

    query = ["query", "run", "sanctions-exposure", "--as-of", "2024-06-01"]
    assert _cli_rows(capsys, *query, "--known-at", "2024-01-20") == []
    assert (HULL, STRONG) in {
        (r["entity"], r["sanctioned"]) for r in _cli_rows(capsys, *query, "--known-at", "2024-03-01")
    }
    assert main([*query, "--known-at", "20 January"]) == 2
    rows = _cli_rows(capsys, "company", STRONG, "--known-at", "2024-01-20")
    # What the registry said by 2024-01-20: the name (and the key it gave); nothing of the list yet.
    assert {r["fact"] for r in rows if r["kind"] == "property"} == {"name", "name_key", "source_keys"}
    assert not [r for r in rows if r["fact"] == "SANCTIONED_AS"]
