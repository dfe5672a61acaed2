"""`shadowfleet refresh` and `shadowfleet changes` on small fictional registry snapshots.

The OFAC two-snapshot tests and the kill-and-resume test are in test_refresh_ofac.py.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.memory_store import MemoryStore
from graph.records import EdgeRecord, NodeRecord, Provenance
from graph.schema import default_schema
from graph.store import Store
from shadowfleet.cli import main
from shadowfleet.commands.changes import read_changes
from shadowfleet.refresh import Refresher, RefreshLocked, RunReport, load_config, run_lock, store_id
from shadowfleet.refresh.changes import profile_changes
from shadowfleet.refresh.config import ConfigError
from shadowfleet.refresh.engine import PAUSE_ENV
from shadowfleet.refresh.snapshot import make_bundles
from shadowfleet.refresh.state import StateDir
from shadowfleet.refresh.watchlist import match, parse_watchlist

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "refresh"
JAN, FEB, MAR = "2024-01-01", "2024-02-01", "2024-03-01"

# What registry-2.csv changes against registry-1.csv: (what, entity key, relation, old, new).
REGISTRY_CHANGES = {
    ("new_owner", "imo:9074729", "REGISTERED_OWNER_OF", "Dawn Holdings Ltd", "Aurora Maritime Corp"),
    ("new_manager", "imo:9234563", "SHIP_MANAGER_OF", "Harbor Ship Management", "Coastal Tech Managers"),
    ("new_operator", "imo:9234563", "OPERATOR_OF", None, "Gulf Charter LLC"),
    ("new_mmsi", "imo:9312341", None, "538001003", "538009003"),
    ("new_call_sign", "imo:9312341", None, "V7AA3", "V7ZZ3"),
    ("record_disappeared", "imo:9456783", None, "EASTERN STAR", None),
    ("rename", "imo:9567893", None, "RED FALCON", "RED HAWK"),
    ("reflag", "imo:9567893", None, "LR", "MH"),
    ("new_record", "imo:9678903", None, None, "GOLDEN WAVE"),
}


# ---- helpers ------------------------------------------------------------------------------------------


def write_config(path: Path, sources: list[dict[str, Any]], **extra: Any) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({"sources": sources, **extra}, sort_keys=False), encoding="utf-8")
    return path


def refresh(store: Store, root: Path, config: Path, as_of: str, **kwargs: Any) -> RunReport:
    """One refresh run in-process, holding the run lock like the command does."""
    with run_lock(root):
        return Refresher(store, load_config(config), root, as_of=as_of, **kwargs).run()


def change_set(changes: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {
        (c["what"], c["entity_key"], c.get("relation"), c.get("old_value"), c.get("new_value"))
        for c in changes
    }


def open_periods(store: Store, key: str, rel: str, direction: str = "out") -> list[str]:
    """The other ends of the open (valid_to null) periods of a vessel's relationship."""
    views = store.edges("Vessel", [key], [rel], direction)  # type: ignore[arg-type]
    return sorted((v.dst if direction == "out" else v.src) for v in views if v.props.get("valid_to") is None)


def cli_process(
    store: Store, home: Path, config: Path, as_of: str, pause: str | None = None
) -> subprocess.Popen[str]:
    env = {**os.environ, "SHADOWFLEET_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop(PAUSE_ENV, None)
    if pause:
        env[PAUSE_ENV] = pause
    if store.backend == "neo4j":
        env["NEO4J_URI"] = store.uri  # type: ignore[attr-defined]
    command = [sys.executable, "-m", "shadowfleet", "--store", store.backend, "refresh", str(config)]
    return subprocess.Popen(
        [*command, "--as-of", as_of],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_killed(store: Store, home: Path, config: Path, as_of: str, stage: str) -> None:
    """Run the refresh command until it pauses at ``stage``, then SIGKILL it."""
    proc = cli_process(store, home, config, as_of, pause=stage)
    assert proc.stderr is not None
    watchdog = threading.Timer(900, proc.kill)  # never hang the suite on a run that stalls
    watchdog.start()
    seen = []
    try:
        for line in proc.stderr:
            seen.append(line.rstrip())
            if "refresh: paused at" in line:
                break
        else:
            proc.wait()
            pytest.fail(f"the run ended (rc {proc.returncode}) before pausing at {stage}: {seen[-5:]}")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        watchdog.cancel()
    assert proc.returncode == -signal.SIGKILL


def run_ok(store: Store, home: Path, config: Path, as_of: str) -> None:
    proc = cli_process(store, home, config, as_of)
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-2000:]


def _fresh(store: Store) -> Store:
    """The store as on disk now (another process may have written the embedded store's file)."""
    return MemoryStore(store.directory) if isinstance(store, MemoryStore) else store


@pytest.fixture
def registry_setup(tmp_path: Path) -> tuple[Path, Path]:
    """A config with one registry source whose file the test swaps between snapshots."""
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(DATA / "registry-1.csv", folder / "registry.csv")
    config = write_config(
        tmp_path / "refresh.yaml",
        [{"name": "registry", "format": "registry", "path": "src/registry.csv", "schedule": "weekly"}],
    )
    return config, folder / "registry.csv"


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SHADOWFLEET_HOME", str(home))
    monkeypatch.delenv("SHADOWFLEET_STORE", raising=False)
    monkeypatch.delenv("SHADOWFLEET_DEBUG", raising=False)
    return home


# ---- the refresh itself, on both stores -------------------------------------------------------------


def test_registry_refresh_reports_exactly_the_changes(
    store: Store, tmp_path: Path, registry_setup: tuple[Path, Path]
) -> None:
    config, current = registry_setup
    root = tmp_path / "state"
    first = refresh(store, root, config, JAN)
    [src] = first.sources
    assert (src.status, src.changes, src.failed) == ("baseline", [], False)
    baseline_counts = store.counts()
    assert baseline_counts.nodes["Vessel"] == 5

    shutil.copy(DATA / "registry-2.csv", current)
    second = refresh(store, root, config, FEB)
    [src] = second.sources
    assert src.status == "applied"
    assert change_set(src.changes) == REGISTRY_CHANGES

    # The graph: history is end-dated or folded, never deleted.
    assert store.get_node("Vessel", "imo:9456783") is not None
    for rel in ("NAMED", "FLAGGED", "HAS_MMSI", "HAS_CALL_SIGN"):
        assert open_periods(store, "imo:9456783", rel) == [], rel
        closed = store.edges("Vessel", ["imo:9456783"], [rel])
        assert [v.props["valid_to"] for v in closed] == [FEB]
    assert open_periods(store, "imo:9456783", "REGISTERED_OWNER_OF", "in") == []
    assert open_periods(store, "imo:9567893", "FLAGGED") == ["MH"]
    assert open_periods(store, "imo:9567893", "NAMED") == ["RED HAWK"]
    assert open_periods(store, "imo:9312341", "HAS_MMSI") == ["538009003"]
    owners = {
        v.src: v.props.get("valid_to")
        for v in store.edges("Vessel", ["imo:9074729"], ["REGISTERED_OWNER_OF"], "in")
    }
    assert owners.pop("imoco:5123451") == FEB
    assert list(owners.values()) == [None]  # Aurora Maritime Corp, from February on
    # ChangeEvents: one per change, linked to the entity, with the run and the dates.
    events = read_changes(store, since=FEB)
    assert change_set(events) == REGISTRY_CHANGES
    assert {e["run_id"] for e in events} == {second.run_id}
    assert {(e["as_of"], e["previous_as_of"], e["source"]) for e in events} == {(FEB, JAN, "registry")}
    linked = store.edges("Vessel", ["imo:9567893"], ["HAS_CHANGE"])
    assert len(linked) == 2
    # The change log holds the same changes under the same keys.
    log = StateDir(root, store_id(store)).read_log()
    assert sorted(line["key"] for line in log) == sorted(e["key"] for e in events)

    # An immediate second refresh of the same snapshot: nothing to do, nothing changes.
    counts = store.counts()
    third = refresh(store, root, config, MAR)
    assert [(s.status, s.changes) for s in third.sources] == [("unchanged", [])]
    assert store.counts() == counts
    assert counts.nodes["ChangeEvent"] == len(REGISTRY_CHANGES)
    assert counts.nodes["SourceSnapshot"] == 2


def test_graph_without_the_snapshot_gets_the_whole_snapshot_again(
    store: Store, tmp_path: Path, registry_setup: tuple[Path, Path]
) -> None:
    config, _ = registry_setup
    root = tmp_path / "state"
    refresh(store, root, config, JAN)
    counts = store.counts()
    store.clear()
    report = refresh(store, root, config, FEB)
    assert report.sources[0].status == "applied"
    assert "rewrote the whole snapshot" in report.sources[0].message
    assert report.sources[0].changes == []
    after = store.counts()
    assert after.nodes["Vessel"] == counts.nodes["Vessel"]
    assert after.relationships == counts.relationships


def test_a_big_first_snapshot_is_written_in_batches_and_survives_a_kill(
    store: Store, tmp_path: Path, registry_setup: tuple[Path, Path]
) -> None:
    """Above bulk_records a first snapshot is not one transaction; killed half-way, a rerun completes it."""
    config, _ = registry_setup
    write_config(
        config, [{"name": "registry", "format": "registry", "path": "src/registry.csv"}], bulk_records=10
    )
    reference = MemoryStore(tmp_path / "reference")
    refresh(reference, tmp_path / "reference-state", config, JAN)
    home = tmp_path / "home"
    run_killed(store, home, config, JAN, "bulk-written")
    assert _fresh(store).get_node("SourceSnapshot", "registry#1") is None  # the facts are in, not the marker
    assert StateDir(home / "refresh", store_id(store)).source("registry").load_state() is None
    run_ok(store, home, config, JAN)
    assert _fresh(store).counts() == reference.counts()
    assert StateDir(home / "refresh", store_id(store)).source("registry").load_state() is not None


def test_dry_run_writes_nothing(tmp_path: Path, registry_setup: tuple[Path, Path]) -> None:
    config, current = registry_setup
    store = MemoryStore(tmp_path / "home")
    root = tmp_path / "state"
    refresh(store, root, config, JAN)
    counts = store.counts()
    shutil.copy(DATA / "registry-2.csv", current)
    dry = refresh(store, root, config, FEB, dry_run=True)
    assert dry.sources[0].status == "dry-run"
    assert change_set(dry.sources[0].changes) == REGISTRY_CHANGES
    assert MemoryStore(tmp_path / "home").counts() == counts
    real = refresh(store, root, config, FEB)
    assert [c["key"] for c in real.sources[0].changes] == [c["key"] for c in dry.sources[0].changes]


def test_snapshots_must_come_in_date_order(tmp_path: Path, registry_setup: tuple[Path, Path]) -> None:
    config, current = registry_setup
    store = MemoryStore(tmp_path / "home")
    root = tmp_path / "state"
    refresh(store, root, config, FEB)
    shutil.copy(DATA / "registry-2.csv", current)
    report = refresh(store, root, config, JAN)
    assert report.sources[0].failed
    assert "before the last applied snapshot" in report.sources[0].message


# ---- the command: failures, locking, URLs, exit codes -----------------------------------------------


def test_failing_sources_are_reported_and_do_not_stop_the_others(
    cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(DATA / "registry-1.csv", tmp_path / "registry.csv")
    config = write_config(
        tmp_path / "refresh.yaml",
        [
            {"name": "missing", "format": "registry", "path": "nothere.csv"},
            {"name": "wrong-format", "format": "ofac", "path": "registry.csv"},
            {"name": "registry", "format": "registry", "path": "registry.csv"},
        ],
    )
    rc = main(["refresh", str(config), "--as-of", JAN, "--format", "json"])
    captured = capsys.readouterr()
    assert rc == 3
    doc = json.loads(captured.out)
    status = {s["name"]: (s["status"], s["message"]) for s in doc["sources"]}
    assert status["registry"][0] == "baseline"
    assert status["missing"][0] == "failed" and "no such file" in status["missing"][1]
    assert status["wrong-format"][0] == "failed" and "not an ent_num" in status["wrong-format"][1]
    assert doc["failed"] == ["missing", "wrong-format"]
    assert "2 source(s) failed: missing, wrong-format" in captured.err
    # Nothing of the failed sources was applied or recorded; the good one was.
    assert MemoryStore(cli_home).counts().nodes["Vessel"] == 5
    state = StateDir(cli_home / "refresh", "memory")
    assert state.source("registry").load_state() is not None
    assert state.source("missing").load_state() is None
    assert state.source("wrong-format").load_state() is None


def test_a_second_run_while_one_holds_the_lock_exits_4(
    cli_home: Path, tmp_path: Path, registry_setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = registry_setup
    with run_lock(cli_home / "refresh"):
        assert main(["refresh", str(config), "--as-of", JAN]) == 4
        assert "another refresh is running (pid" in capsys.readouterr().err
        with pytest.raises(RefreshLocked), run_lock(cli_home / "refresh"):
            pass
    assert main(["refresh", str(config), "--as-of", JAN]) == 0


def test_lock_is_released_when_the_holder_dies(tmp_path: Path) -> None:
    root = tmp_path / "refresh"
    with run_lock(root) as handle:
        # Another open file description of the same lock file cannot take it...
        with (root / "refresh.lock").open("a") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert "pid" in (root / "refresh.lock").read_text()
        assert not handle.closed
    # ...and once the holder's descriptor is gone (as when the process is killed), it can.
    with run_lock(root):
        pass


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def http_server(folder: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_url_sources_are_fetched_and_unreachable_ones_fail(
    cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served = tmp_path / "www"
    served.mkdir()
    shutil.copy(DATA / "registry-1.csv", served / "registry.csv")
    with http_server(served) as base:
        config = write_config(
            tmp_path / "refresh.yaml",
            [
                {"name": "remote", "format": "registry", "url": f"{base}/registry.csv", "timeout": 5},
                {"name": "gone", "format": "registry", "url": f"http://127.0.0.1:{_closed_port()}/x.csv"},
                {"name": "404", "format": "registry", "url": f"{base}/missing.csv"},
            ],
        )
        assert main(["refresh", str(config), "--as-of", JAN, "--format", "json"]) == 3
        doc = json.loads(capsys.readouterr().out)
        status = {s["name"]: (s["status"], s["message"]) for s in doc["sources"]}
        assert status["remote"][0] == "baseline"
        assert status["gone"][0] == "failed" and "unreachable" in status["gone"][1]
        assert status["404"][0] == "failed" and "HTTP 404" in status["404"][1]
        downloaded = cli_home / "refresh" / "memory" / "sources" / "remote" / "download" / "registry.csv"
        assert downloaded.read_bytes() == (DATA / "registry-1.csv").read_bytes()
        # Provenance names the file as for a local load.
        vessel = MemoryStore(cli_home).get_node("Vessel", "imo:9074729")
        assert vessel is not None and vessel.sources()[0].record.startswith("registry.csv#")

        assert main(["refresh", str(config), "--as-of", FEB, "--only", "remote", "--format", "json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert [s["status"] for s in doc["sources"]] == ["unchanged"]

        shutil.copy(DATA / "registry-2.csv", served / "registry.csv")
        later = (served / "registry.csv").stat().st_mtime + 60  # Last-Modified has one-second resolution
        os.utime(served / "registry.csv", (later, later))
        assert main(["refresh", str(config), "--as-of", FEB, "--only", "remote", "--format", "json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert change_set(doc["changes"]) == REGISTRY_CHANGES


def test_changes_command_and_watchlist_alerts(
    cli_home: Path, tmp_path: Path, registry_setup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, current = registry_setup
    assert main(["refresh", str(config), "--as-of", JAN]) == 0
    shutil.copy(DATA / "registry-2.csv", current)
    watch = DATA / "watchlist.txt"
    # The run itself alerts: exit 5 and one ALERT line per matching change.
    assert main(["refresh", str(config), "--as-of", FEB, "--watchlist", str(watch)]) == 5
    out = capsys.readouterr().out
    alerts = [line for line in out.splitlines() if line.startswith("ALERT")]
    assert len(alerts) == 4
    assert any("[Aurora Maritime Corporation]" in a and "NORTHERN DAWN" in a for a in alerts)
    assert any("[MMSI 352001006]" in a and "GOLDEN WAVE" in a for a in alerts)

    assert main(["changes", "--since", FEB, "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert change_set(rows) == REGISTRY_CHANGES
    assert all(r["alert"] is None for r in rows)
    assert main(["changes", "--since", "2024-02-02"]) == 0
    assert "no rows" in capsys.readouterr().out

    assert main(["changes", "--since", FEB, "--watchlist", str(watch)]) == 5
    out = capsys.readouterr().out
    assert sum(line.startswith("ALERT [IMO 9312341]") for line in out.splitlines()) == 2
    assert main(["changes", "--watchlist", str(watch), "--alerts-only", "--format", "json"]) == 5
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(r["what"], r["alert"]) for r in rows} == {
        ("new_owner", "Aurora Maritime Corporation"),
        ("new_mmsi", "IMO 9312341"),
        ("new_call_sign", "IMO 9312341"),
        ("new_record", "MMSI 352001006"),
    }
    assert main(["changes", "--what", "reflag", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "RED HAWK" in lines[1]

    # The JSON-lines change log has every change with its human summary.
    log = [json.loads(line) for line in (cli_home / "refresh/memory/changes.jsonl").read_text().splitlines()]
    assert change_set(log) == REGISTRY_CHANGES
    assert any(line["summary"].endswith("renamed RED FALCON -> RED HAWK") for line in log)
    runs = (cli_home / "refresh/memory/runs.jsonl").read_text().splitlines()
    assert len(runs) == 2


def test_configuration_errors_exit_1(
    cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = [
        ({"sources": []}, "non-empty 'sources'"),
        ({"sources": [{"name": "a", "format": "nope", "path": "x"}]}, "'format' must be one of"),
        ({"sources": [{"name": "a", "format": "ofac", "path": "x", "url": "http://x/y"}]}, "exactly one"),
        ({"sources": [{"name": "a b", "format": "ofac", "path": "x"}]}, "'name' must be"),
        ({"sources": [{"name": "a", "format": "ofac", "path": "x", "colour": 1}]}, "unknown key(s) colour"),
        ({"sources": [{"name": "a", "format": "ofac", "url": "ftp://x/y"}]}, "http:// or https://"),
        (
            {
                "sources": [
                    {"name": "a", "format": "ofac", "path": "x"},
                    {"name": "a", "format": "un", "path": "y"},
                ]
            },
            "used twice",
        ),
    ]
    import yaml

    for doc, message in cases:
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_config(path)
        assert main(["refresh", str(path)]) == 1
        assert message.split("(")[0] in capsys.readouterr().err
    assert main(["refresh", str(tmp_path / "none.yaml")]) == 1
    assert "no such configuration file" in capsys.readouterr().err


# ---- units: profiles, re-keyed entries, watchlists ---------------------------------------------------


def test_profile_changes_cover_links_aliases_and_ended_roles() -> None:
    old = {
        "name": "HARBOUR CREST LTD",
        "aliases": ["HC LTD"],
        "links": [["LINKED_TO", "Company", "co:1", "Tandor Petroleum"]],
        "roles": {"OPERATOR_OF": [["Company", "co:9", "Blue Line Operators"]]},
    }
    new = {
        "name": "HARBOUR CREST LTD",
        "aliases": ["HARBOUR CREST LIMITED", "HC LTD"],
        "links": [["SHAREHOLDER_OF", "Company", "co:2", "Thalgex Holdings"]],
    }
    got = {
        (c.what, c.relation, c.old_value, c.new_value) for c in profile_changes("Company", "co:0", old, new)
    }
    assert got == {
        ("new_alias", None, None, "HARBOUR CREST LIMITED"),
        ("new_company_link", "SHAREHOLDER_OF", None, "Thalgex Holdings"),
        ("link_ended", "LINKED_TO", "Tandor Petroleum", None),
        ("link_ended", "OPERATOR_OF", "Blue Line Operators", None),
    }
    assert profile_changes("Company", "co:0", new, new) == []


def test_a_list_entry_whose_key_changed_is_reported_as_a_rename(tmp_path: Path) -> None:
    """An OFAC vessel without IMO is keyed by name: renamed, it is matched by its ent_num."""
    folder = tmp_path / "ofac"
    folder.mkdir()
    row = '501,"{name}","vessel","IRAN",-0- ,"9BQX","Crude Oil Tanker",-0- ,-0- ,"Iran",-0- ,-0- \n'
    (folder / "sdn.csv").write_text(row.format(name="SEA BREEZE"), encoding="utf-8")
    config = write_config(tmp_path / "c.yaml", [{"name": "sdn", "format": "ofac", "path": "ofac/sdn.csv"}])
    store = MemoryStore(tmp_path / "home")
    root = tmp_path / "state"
    refresh(store, root, config, JAN)
    (folder / "sdn.csv").write_text(row.format(name="SEA WIND"), encoding="utf-8")
    report = refresh(store, root, config, FEB)
    [change] = report.sources[0].changes
    assert (change["what"], change["old_value"], change["new_value"]) == ("rename", "SEA BREEZE", "SEA WIND")
    assert change["previous_key"] != change["entity_key"]
    # The old node keeps its history, end-dated.
    assert open_periods(store, change["previous_key"], "NAMED") == []
    assert open_periods(store, change["entity_key"], "NAMED") == ["SEA WIND"]


def test_digests_ignore_provenance_and_the_snapshot_date() -> None:
    schema = default_schema()

    def records(when: str, as_of: str, flag: str) -> list:
        prov = Provenance("r", f"r.csv#{when}", when)
        return [
            NodeRecord("Vessel", "imo:9074729", {"name": "NORTHERN DAWN"}, prov),
            NodeRecord("Country", flag, {"name": flag}, prov),
            EdgeRecord("FLAGGED", "Vessel", "imo:9074729", "Country", flag, provenance=prov, observed=as_of),
        ]

    one = make_bundles(records("1", JAN, "PA"), schema, JAN)
    two = make_bundles(records("2", FEB, "PA"), schema, FEB)
    three = make_bundles(records("2", FEB, "LR"), schema, FEB)
    assert one["Vessel|imo:9074729"].digest == two["Vessel|imo:9074729"].digest
    assert one["Vessel|imo:9074729"].digest != three["Vessel|imo:9074729"].digest
    assert set(one) == {"Vessel|imo:9074729"}  # the country is part of the vessel's bundle


def test_watchlist_parsing_and_matching() -> None:
    entries = parse_watchlist(
        "# comment\nIMO 9074729\n9234563\nmmsi:352001006\n538009003  # bare MMSI\n"
        "National Iranian Tanker Co.\nname: 1234567\n\n"
    )
    assert [(e.kind, e.value) for e in entries] == [
        ("imo", "9074729"),
        ("imo", "9234563"),
        ("mmsi", "352001006"),
        ("mmsi", "538009003"),
        ("name", "national iranian tanker"),
        ("name", "1234567"),
    ]
    change = {"entity_name": "ARTAVIL", "imo": "9187629", "new_value": "NATIONAL IRANIAN TANKER COMPANY"}
    assert match(change, entries) == ["National Iranian Tanker Co."]
    assert match({"entity_name": "NATIONAL IRANIAN OIL COMPANY"}, entries) == []
    assert match({"entity_name": "X", "imo": "9074729"}, entries) == ["IMO 9074729"]
    assert match({"what": "new_mmsi", "old_value": "1", "new_value": "538009003"}, entries) == [
        "MMSI 538009003"
    ]
