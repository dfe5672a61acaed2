"""The demo case (fixtures/demo): it loads cleanly and idempotently into both stores, every canned query
returns what fixtures/demo/ground_truth.yaml says it must, and `shadowfleet demo` works.

The case is loaded once per store for the whole module (loading it for each check would take minutes on
Neo4j). See the header of ground_truth.yaml for how expectations are written.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from graph.memory_store import MemoryStore
from graph.store import Store
from shadowfleet.cli import main
from shadowfleet.commands.demo import FIXTURES, CaseLoad, load_case, read_manifest

GROUND_TRUTH = yaml.safe_load((FIXTURES / "ground_truth.yaml").read_text(encoding="utf-8"))
NAMES: dict[str, str] = GROUND_TRUTH["names"]
LABELS = {key: label for label, key in NAMES.items()}
LABEL_COLUMNS = frozenset(GROUND_TRUTH["label_columns"])
CHECKS = [
    pytest.param(query, index, check, id=f"{query}-{index}")
    for query, checks in GROUND_TRUTH["queries"].items()
    for index, check in enumerate(checks)
]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ].*)?$")
_QUIET = Console(file=open(os.devnull, "w"), stderr=False)  # noqa: SIM115 - lives as long as the module


@dataclass
class LoadedCase:
    store: Store
    load: CaseLoad


@pytest.fixture(scope="module", params=["memory", "neo4j"])
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedCase]:
    """The demo case loaded into each store once (the Neo4j half shares the server lock of conftest)."""
    if request.param == "memory":
        store: Store = MemoryStore(tmp_path_factory.mktemp("demo-case"))
        yield LoadedCase(store, load_case(store, _QUIET))
        return
    neo = request.getfixturevalue("neo4j_session_store")
    with request.getfixturevalue("exclusive_neo4j")(neo) as store:
        yield LoadedCase(store, load_case(store, _QUIET))


# ---- loading ---------------------------------------------------------------------------------------


def test_manifest_lists_every_input_file() -> None:
    listed = {p.resolve() for entry in read_manifest() for p in entry.paths}
    inputs = {
        p.resolve()
        for folder in ("registry", "ownership", "events", "sanctions", "analyst")
        for p in (FIXTURES / folder).rglob("*")
        if p.is_file()
    }
    assert inputs == listed


def test_no_rejects(case: LoadedCase) -> None:
    assert [r.as_dict() for r in case.load.rejects] == []
    assert case.load.rows_read > 800


def test_case_size(case: LoadedCase) -> None:
    nodes = case.store.counts().nodes
    assert nodes["Vessel"] == 46  # 13 in the story, 33 legitimate
    assert nodes["Company"] == 33  # companies merge across registry, corporate records, OFAC and UN
    assert nodes["Person"] == 25
    assert nodes["StsTransfer"] == 16
    assert nodes["AisGap"] == 16


def test_loading_twice_changes_nothing(case: LoadedCase) -> None:
    before = case.store.counts().as_dict()
    again = load_case(case.store, _QUIET)
    assert (again.stats.nodes_created, again.stats.edges_created) == (0, 0)
    assert case.store.counts().as_dict() == before


# ---- the canned queries against the ground truth --------------------------------------------------


def resolve(value: Any, column: str) -> Any:
    """Replace ground-truth labels by node keys in the columns that hold keys."""
    if column not in LABEL_COLUMNS:
        return value
    if isinstance(value, list):
        return [NAMES.get(v, v) if isinstance(v, str) else v for v in value]
    return NAMES.get(value, value) if isinstance(value, str) else value


def norm(value: Any, ordered: bool = False) -> Any:
    """A comparable form: dates cut to the day, numbers to 0.01, lists as sorted tuples unless ordered."""
    if isinstance(value, str) and _DATE.match(value):
        return value[:10]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return round(float(value), 2)
    if isinstance(value, list | tuple):
        items = [norm(v) for v in value]
        return tuple(items) if ordered else tuple(sorted(items, key=repr))
    if isinstance(value, dict):
        return tuple(sorted((k, norm(v)) for k, v in value.items()))
    return value


def ident(row: Mapping[str, Any], key: list[str], ordered: set[str], expected: bool) -> tuple[Any, ...]:
    return tuple(norm(resolve(row.get(k), k) if expected else row.get(k), k in ordered) for k in key)


def readable(value: Any) -> Any:
    """Keys shown as their ground-truth labels in failure messages."""
    if isinstance(value, tuple):
        return tuple(readable(v) for v in value)
    return LABELS.get(value, value) if isinstance(value, str) else value


def compare_columns(
    expected: Mapping[str, Any], actual: Mapping[str, Any], check: Mapping[str, Any]
) -> list[str]:
    """Differences between a ground-truth row's non-key columns and the matching result row."""
    problems = []
    ordered = set(check.get("ordered", []))
    for column, want in expected.items():
        if column in check["key"]:
            continue
        got = actual.get(column)
        if isinstance(want, dict) and "subsequence" in want:
            items = iter(got or [])
            if not all(any(item == w for item in items) for w in want["subsequence"]):
                problems.append(f"{column}: {got!r} does not hold {want['subsequence']!r} in order")
            continue
        if norm(resolve(want, column), column in ordered) != norm(got, column in ordered):
            problems.append(f"{column}: expected {readable(norm(resolve(want, column)))!r}, got {got!r}")
    return problems


def barrels(check: Mapping[str, Any], row: Mapping[str, Any]) -> list[str]:
    """Barrel estimates recomputed by hand: deadweight x laden fraction x barrels per tonne."""
    spec = check.get("barrels")
    if not spec:
        return []
    problems = []
    for column, fraction in spec["fractions"].items():
        want = row["deadweight_t"] * fraction * spec["bbl_per_tonne"]
        if abs(float(row[column]) - want) > 1:
            problems.append(f"year {row['year']} {column}: expected {want:,.0f}, got {row[column]}")
    return problems


def run(store: Store, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    from queries.engine import run_query

    return run_query(store, query, dict(params))


@pytest.mark.parametrize(("query", "index", "check"), CHECKS)
def test_query_meets_ground_truth(case: LoadedCase, query: str, index: int, check: dict[str, Any]) -> None:
    try:
        from queries.registry import UnknownQuery, get
    except ImportError:  # pragma: no cover - the query layer is always there once written
        pytest.skip("the canned query layer (queries/registry.py) does not exist yet")
    try:
        get(query)
    except UnknownQuery:
        pytest.skip(f"canned query {query!r} does not exist yet")
    rows = run(case.store, query, check["params"])
    problems: list[str] = []
    key: list[str] = check.get("key", [])
    ordered = set(check.get("ordered", []))
    actual = {ident(r, key, ordered, expected=False): r for r in rows} if key else {}
    if "rows" in check:
        expected = {ident(r, key, ordered, expected=True): r for r in check["rows"]}
        missing = sorted((readable(k) for k in expected.keys() - actual.keys()), key=repr)
        extra = sorted((readable(k) for k in actual.keys() - expected.keys()), key=repr)
        problems += [f"missing row {m}" for m in missing] + [f"unexpected row {e}" for e in extra]
    for wanted in check.get("rows", []) + check.get("include", []):
        found = actual.get(ident(wanted, key, ordered, expected=True))
        if found is None:
            if wanted in check.get("include", []):
                problems.append(f"missing row {readable(ident(wanted, key, ordered, expected=True))}")
            continue
        problems += [
            f"{readable(ident(wanted, key, ordered, True))}: {p}"
            for p in compare_columns(wanted, found, check)
        ]
    for row in rows:
        problems += barrels(check, row)
    if "entities" in check:
        want = {NAMES.get(e, e) for e in check["entities"]}
        got = {r["entity"] for r in rows}
        problems += [f"entity not exposed: {readable(e)}" for e in sorted(want - got)]
        problems += [f"entity wrongly exposed: {readable(e)}" for e in sorted(got - want)]
    for label in check.get("absent", []):
        column = check["absent_column"]
        for row in rows:
            value = row.get(column)
            values = value if isinstance(value, list) else [value]
            if NAMES.get(label, label) in values:
                problems.append(f"{label} must not appear in {column}: {row}")
    if "mentions" in check:
        text = json.dumps(rows, default=str).lower()
        for mention in check["mentions"]:
            if mention.lower() not in text and NAMES.get(mention, mention).lower() not in text:
                problems.append(f"the rows never mention {mention!r}")
    assert not problems, f"{query} {check['params']}: " + "; ".join(problems)


# ---- the command -----------------------------------------------------------------------------------


def test_demo_command_exits_zero_and_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHADOWFLEET_HOME", str(tmp_path))
    monkeypatch.delenv("SHADOWFLEET_STORE", raising=False)
    assert main(["demo"]) == 0
    first = MemoryStore(tmp_path).counts().as_dict()
    assert first["total_nodes"] > 800
    assert main(["demo", "--format", "json"]) == 0
    assert MemoryStore(tmp_path).counts().as_dict() == first


def test_demo_as_a_fresh_process_on_a_fresh_embedded_store(tmp_path: Path) -> None:
    """The README's first command, as a user runs it. Its speed is measured in BENCHMARKS.md, not here."""
    env = {**os.environ, "SHADOWFLEET_HOME": str(tmp_path), "SHADOWFLEET_STORE": "memory"}
    done = subprocess.run(
        [sys.executable, "-m", "shadowfleet", "demo"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Neo4j Browser" in done.stdout and "SEA PEONY" in done.stdout
