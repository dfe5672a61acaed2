"""`shadowfleet query ...`, `shadowfleet vessel` and `shadowfleet company` on the embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_queries_world import world_records

from graph.memory_store import MemoryStore
from queries.registry import get, registry
from shadowfleet.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SHADOWFLEET_HOME", str(home))
    monkeypatch.delenv("SHADOWFLEET_STORE", raising=False)
    monkeypatch.delenv("SHADOWFLEET_DEBUG", raising=False)
    store = MemoryStore(home)
    store.write(world_records("supply-chains"))
    store.write(world_records("ownership-chain"))
    return home


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_list(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "list", "--format", "json"]) == 0
    rows = json_lines(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(registry())
    assert set(rows[0]) == {"name", "title", "parameters"}
    assert main(["query", "list"]) == 0
    assert "supply-chains" in capsys.readouterr().out


def test_show_prints_the_one_cypher(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "show", "supply-chains"]) == 0
    out = capsys.readouterr().out
    assert get("supply-chains").cypher.rstrip() in out
    assert ":params {as_of: '" in out and "max_hops: 3" in out
    assert main(["query", "show", "ownership-chain", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["cypher"] == get("ownership-chain").cypher
    assert [p["name"] for p in doc["params"]] == ["vessel", "as_of", "max_hops", "max_degree"]


def test_run_json_lines_with_stable_keys(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "run", "supply-chains", "--as-of", "2025-01-01", "--format", "json"]) == 0
    rows = json_lines(capsys.readouterr().out)
    assert len(rows) == 3
    assert all(list(r) == get("supply-chains").column_names for r in rows)
    assert rows[0]["vessels"] == ["imo:9000001", "imo:9000002", "imo:9000003"]


def test_run_params_table_and_csv(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["query", "run", "ownership-chain", "-p", "vessel=9400001", "--param", "as_of=2024-06-01"]
    assert main([*args, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ",".join(get("ownership-chain").column_names)
    assert len(lines) == 7
    assert main(args) == 0
    assert "Ownership chain to the ultimate owners" in capsys.readouterr().out


def test_no_rows_is_success(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "run", "supply-chains", "--as-of", "2000-01-01"]) == 0
    assert "no rows" in capsys.readouterr().out
    assert main(["query", "run", "supply-chains", "--as-of", "2000-01-01", "--format", "json"]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["query", "run", "no-such-query"], 2, "unknown query 'no-such-query'"),
        (["query", "show", "no-such-query"], 2, "unknown query"),
        (["query", "run", "supply-chains", "--param", "window_days"], 2, "--param expects NAME=VALUE"),
        (["query", "run", "supply-chains", "--param", "colour=red"], 2, "has no parameter 'colour'"),
        (["query", "run", "supply-chains", "--param", "max_hops=9"], 1, "must be at most 4"),
        (["query", "run", "supply-chains", "--param", "window_days=soon"], 1, "'window_days' expects int"),
        (["query", "run", "supply-chains", "--as-of", "2024-02-30"], 1, "'as_of' expects date"),
        (["query", "run", "ownership-chain"], 1, "'vessel' is required"),
        (["vessel", "NO SUCH SHIP"], 1, "no vessel matches 'NO SUCH SHIP'"),
        (["vessel", "AMUR STAR", "--as-of", "tomorrow-ish"], 1, "'as_of' expects date"),
    ],
)
def test_errors_and_exit_codes(
    home: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    assert main(args) == code
    err = " ".join(capsys.readouterr().err.split())
    assert message in err


def test_vessel_dossier_by_imo_or_name(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vessel", "9000001", "--format", "json", "--as-of", "2025-01-01"]) == 0
    rows = json_lines(capsys.readouterr().out)
    assert {r["subject"] for r in rows} == {"imo:9000001"}
    assert list(rows[0]) == get("vessel").column_names
    made_calls = [r for r in rows if r["fact"] == "MADE_CALL"]
    assert [r["detail"]["port"] for r in made_calls] == ["VOSTOCHNY", "VOSTOCHNY"]
    assert made_calls[0]["sources"][0]["source"] == "test-supply-chains"
    assert main(["vessel", "amur", "star"]) == 0
    assert "VOSTOCHNY" in capsys.readouterr().out


def test_a_name_matching_several_entities_is_listed(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    MemoryStore(home).write(world_records("dossier"))
    assert main(["vessel", "SEA BREEZE", "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert [r["key"] for r in json_lines(captured.out)] == ["imo:9300007", "mmsi:273000001"]
    assert "2 vessel records match 'SEA BREEZE'" in " ".join(captured.err.split())
    assert main(["company", "Harbour", "Crest", "Ltd"]) == 1
    assert "co:2" in capsys.readouterr().out
    assert main(["company", "co:2", "--format", "csv"]) == 0
    assert "SHAREHOLDER_OF" in capsys.readouterr().out
