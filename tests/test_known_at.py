"""Known at T: every query asked of the facts retrieved by T only, on both stores (graph/known_at.py)."""

from __future__ import annotations

import json
from pathlib import Path

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
    assert known_at(store, "2023-06-01").get_node("Vessel", HULL).props["deadweight"] == 104500.0  # type: ignore[union-attr]
    assert known_at(store, "2024-06-01").get_node("Vessel", HULL).props["deadweight"] == 104800.0  # type: ignore[union-attr]


def test_cli_known_at(tmp_path: Path, monkeypatch) -> None:
    from graph.memory_store import MemoryStore
    from shadowfleet.cli import main

    home = tmp_path / "home"
    store = MemoryStore(home)
    store.write(sanctions_list())
    store.write(registry())
    store.close()
    monkeypatch.setenv("SHADOWFLEET_HOME", str(home))
    args = ["query", "run", "sanctions-exposure", "--as-of", "2024-06-01", "--format", "json"]
    assert main([*args, "--known-at", "2024-01-20"]) == 0
    assert main([*args, "--known-at", "20 January"]) == 2


def test_known_at_rows_print(tmp_path: Path, monkeypatch, capsys) -> None:
    from graph.memory_store import MemoryStore
    from shadowfleet.cli import main

    home = tmp_path / "home"
    store = MemoryStore(home)
    store.write(sanctions_list())
    store.write(registry())
    store.close()
    monkeypatch.setenv("SHADOWFLEET_HOME", str(home))
    capsys.readouterr()
    assert main(["company", STRONG, "--known-at", "2024-01-20", "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    # What the registry said by 2024-01-20: the name (and the key it gave); nothing of the list yet.
    assert {r["fact"] for r in rows if r["kind"] == "property"} == {"name", "name_key", "source_keys"}
    assert not [r for r in rows if r["fact"] == "SANCTIONED_AS"]
