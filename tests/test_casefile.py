"""Case files: every footnote reproduces its fact on both stores, both stores write the same case file,
the demo's supply chain is told as the ground truth states it, and the CLI writes HTML and Markdown."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from rich.console import Console

from graph.memory_store import MemoryStore
from graph.store import Store
from loaders.ais.synth import Leg, track
from queries.casefile.collect import query_case, vessel_case
from queries.casefile.model import CaseFile
from queries.casefile.render import render_markdown, write_case
from queries.engine import run_query
from shadowfleet.cli import main
from shadowfleet.commands.demo import FIXTURES, load_case

GROUND_TRUTH = yaml.safe_load((FIXTURES / "ground_truth.yaml").read_text(encoding="utf-8"))
NAMES: dict[str, str] = GROUND_TRUTH["names"]
CHAINS = GROUND_TRUTH["queries"]["supply-chains"][0]
AS_OF = CHAINS["params"]["as_of"]
_QUIET = Console(file=open(os.devnull, "w"), stderr=False)  # noqa: SIM115 - lives as long as the module


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The demo case in an embedded store, loaded once for the module."""
    store = MemoryStore(tmp_path_factory.mktemp("casefile-demo"))
    load_case(store, _QUIET)
    return store


@pytest.fixture(scope="module")
def chains(demo: Store) -> CaseFile:
    return query_case(demo, "supply-chains", {"as_of": AS_OF})


def matches(row: Mapping[str, Any], expect: Mapping[str, Any]) -> bool:
    return all(row.get(column) == value for column, value in expect.items())


def unreproduced(store: Store, case: CaseFile) -> list[str]:
    """Footnotes whose query, run on ``store``, returns no row with the expected columns."""
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    missing = []
    for note in case.footnotes:
        cache_key = (note.query, repr(sorted(note.params.items())))
        if cache_key not in results:
            results[cache_key] = run_query(store, note.query, note.params)
        if not note.expect or not any(matches(r, note.expect) for r in results[cache_key]):
            missing.append(f"[{note.number}] {note.query} {note.params} {note.expect}")
    return missing


def test_every_footnote_reproduces_its_fact_on_both_stores(store: Store, chains: CaseFile) -> None:
    """The case file built from the embedded store; its footnotes checked on each store, by the queries'
    own Cypher on Neo4j; and the case file built from that store states the same facts."""
    load_case(store, _QUIET)
    assert len(chains.footnotes) > 100
    assert unreproduced(store, chains) == []
    again = query_case(store, "supply-chains", {"as_of": AS_OF})
    assert [[c.text for c in s.claims] for s in again.sections] == [
        [c.text for c in s.claims] for s in chains.sections
    ]
    assert [(n.query, n.params, n.expect) for n in again.footnotes] == [
        (n.query, n.params, n.expect) for n in chains.footnotes
    ]
    assert sorted(again.caveats) == sorted(chains.caveats)


def test_a_footnote_that_no_longer_holds_is_caught(demo: Store, chains: CaseFile) -> None:
    """The check above can fail: a footnote whose expected row is altered is reported."""
    note = next(n for n in chains.footnotes if n.query == "vessel" and n.expect.get("fact") == "FLAGGED")
    tampered = CaseFile("t", "t", AS_OF, "", "")
    tampered.cite(note.query, note.params, {**note.expect, "other": "XX"})
    assert len(unreproduced(demo, tampered)) == 1


def test_the_findings_tell_the_ground_truth_chains(chains: CaseFile) -> None:
    findings = chains.sections[0]
    assert findings.title == "Findings"
    routes = [" → ".join(row["vessels"]) for row in CHAINS["rows"]]
    texts = [c.text for c in findings.claims]
    for route in routes:
        assert sum(route + "." in t for t in texts) == 1, route
    assert texts[0].startswith(f"{len(routes)} chains carried cargo")
    # each vessel of the chains has its own section, and nothing else does
    vessels = {NAMES[name] for row in CHAINS["rows"] for name in row["vessels"]}
    assert {s.anchor for s in chains.sections[1:]} == {
        "v-" + re.sub(r"[^A-Za-z0-9]", "-", v) for v in vessels
    }


def test_sea_peony_dossier_names_flags_owners_and_gaps(demo: Store) -> None:
    case = vessel_case(demo, NAMES["SEA PEONY"], "2024-06-01")
    text = " ".join(c.text for s in case.sections for c in s.claims)
    # Changes seen between snapshots are dated by the snapshots' interval, never by a made-up day.
    assert "GRACE PEONY (unknown start to between 2023-01-15 and 2023-07-15)" in text
    assert "Cameroon (between 2023-07-15 and 2024-01-15 to between 2024-01-15 and 2024-07-15)" in text
    assert "Registered owner: PEONY MARINE LTD (from between 2023-01-15 and 2023-07-15, current)" in text
    assert "suspected disabling" in text
    assert {m.kind for m in case.marks} >= {"sts", "port call", "ais gap"}
    assert all(m.date <= "2024-06-01" for m in case.marks)
    assert any("no ownership percentage" in c for c in case.caveats)
    assert any(p.kind == "sts" for p in case.places)
    # as of an earlier date, later facts are left out
    early = vessel_case(demo, NAMES["SEA PEONY"], "2023-09-30")
    assert not any(m.kind == "sts" for m in early.marks)
    assert unreproduced(demo, early) == []


def test_write_case_html_markdown_and_drawings(chains: CaseFile, tmp_path: Path) -> None:
    written = write_case(chains, tmp_path / "chains.html")
    html = written.html.read_text(encoding="utf-8")
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 3
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    for note in chains.footnotes:
        assert f'id="fn-{note.number}"' in html
    markdown = written.markdown.read_text(encoding="utf-8")
    for name in ("map", "timeline", "graph"):
        assert f"chains.assets/{name}.svg" in markdown
        assert (tmp_path / "chains.assets" / f"{name}.svg").stat().st_size > 1000
    for claim in chains.sections[0].claims:
        assert claim.text in markdown
    assert "```cypher\n:param as_of => '2025-03-31';" in markdown
    assert markdown == render_markdown(
        chains, {n: f"chains.assets/{n}.svg" for n in ("map", "timeline", "graph")}
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SHADOWFLEET_HOME", str(home))
    monkeypatch.delenv("SHADOWFLEET_STORE", raising=False)
    load_case(MemoryStore(home), _QUIET)
    return home


def test_cli_report(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "peony.html"
    assert main(["report", "vessel", "SEA", "PEONY", "--as-of", AS_OF, "-o", str(out)]) == 0
    assert out.is_file() and out.with_suffix(".md").is_file()
    assert "case file:" in capsys.readouterr().err
    query = tmp_path / "q.html"
    assert (
        main(
            ["report", "query", "supply-chains", "--as-of", AS_OF, "--param", "max_hops=2", "-o", str(query)]
        )
        == 0
    )
    assert "max_hops=2" in query.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["report", "vessel", "NO SUCH SHIP", "-o", str(tmp_path / "x.html")]) == 1
    assert "no vessel matches 'NO SUCH SHIP'" in capsys.readouterr().err
    assert main(["report", "query", "no-such-query"]) == 2
    assert main(["report", "query", "supply-chains", "--param", "max_hops=9"]) == 1
    assert "max_hops" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_cli_report_draws_ais_tracks(home: Path, tmp_path: Path) -> None:
    """Tracks of the case's vessels (matched by MMSI) from AIS files are drawn on the map."""
    legs = [Leg(6, 10, 200), Leg(4, 0.5, 90), Leg(6, 10, 20)]
    peony = track(667001873, 1_710_374_400, 40.8, 133.4, legs, 300)  # SEA PEONY's MMSI in 2024
    stranger = track(235000001, 1_710_374_400, 41.5, 133.0, legs, 300)
    path = tmp_path / "tracks.parquet"
    pl.concat([peony, stranger]).rename({"t": "timestamp"}).drop("src", "line").write_parquet(path)
    out = tmp_path / "peony.html"
    assert main(["report", "vessel", "SEA PEONY", "--as-of", AS_OF, "--ais", str(path), "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.count("sf-place-track") == 1
    assert "AIS track of SEA PEONY" in html
    assert "No AIS tracks were given" not in html


@pytest.mark.parametrize("query", sorted(GROUND_TRUTH["queries"]))
def test_every_canned_query_makes_a_case_file(demo: Store, query: str, tmp_path: Path) -> None:
    """With the ground truth's first parameters, each query's case file is written and its footnotes hold."""
    params = {
        k: NAMES.get(v, v) if isinstance(v, str) else v
        for k, v in GROUND_TRUTH["queries"][query][0]["params"].items()
    }
    case = query_case(demo, query, params)
    assert case.sections[0].claims
    assert unreproduced(demo, case) == []
    written = write_case(case, tmp_path / f"{query}.html")
    assert written.html.stat().st_size > 2000
