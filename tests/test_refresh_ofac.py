"""Refresh on two snapshots of the real OFAC SDN sample (January 2019), on both stores.

The second snapshot is the sample with scripted edits: IRAN FAHIM re-flagged from Iran to Panama,
IRAN FALAGH renamed FALAGH STAR, SARDASHT removed (with its address row), and CHONG CHON GANG given a
new program. The refresh must report exactly those changes, a second refresh none, and a run killed
with SIGKILL at any stage, then run again, must leave the same graph and change log as an
uninterrupted run.

The sample is ~7,400 entries; loading it takes seconds, so in-process runs share loader output
through a cache (the loader is a pure function of the files and options).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_refresh import _fresh, change_set, open_periods, refresh, run_killed, run_ok, write_config

import shadowfleet.refresh.engine as engine
from graph.memory_store import MemoryStore
from graph.store import Counts, Store
from loaders.base import LoadOptions, LoadOutput, get_loader
from shadowfleet.commands.changes import read_changes
from shadowfleet.refresh import store_id
from shadowfleet.refresh.state import StateDir

FILES = ("sdn.csv", "add.csv", "alt.csv")
D0, D1, D2, D3 = "2019-01-15", "2019-02-01", "2019-03-01", "2019-04-01"
# (what, entity key, relation, old value, new value) of the scripted edits.
EXPECTED = {
    ("reflag", "imo:9286140", None, "IR", "PA"),
    ("rename", "imo:9286152", None, "IRAN FALAGH", "FALAGH STAR"),
    ("record_disappeared", "imo:8517231", None, "SARDASHT", None),
    ("designation_lifted", "imo:8517231", "SANCTIONED_AS", "OFAC SDN IRAN (ref 15078)", None),
    ("new_designation", "imo:7937317", "SANCTIONED_AS", None, "OFAC SDN DPRK3 (ref 17069)"),
}
_LOADS: dict[tuple[Any, ...], LoadOutput] = {}


def _edit(row: list[str]) -> list[str] | None:
    ent = row[0].strip()
    if ent == "15065":  # IRAN FAHIM: Iran -> Panama
        row[9] = "Panama"
    elif ent == "15066":  # IRAN FALAGH -> FALAGH STAR
        row[1] = "FALAGH STAR"
    elif ent == "15078":  # SARDASHT: delisted
        return None
    elif ent == "17069":  # CHONG CHON GANG: a new program
        row[3] = "DPRK] [DPRK3"
    return row


_EDITED: dict[str, Path] = {}


@pytest.fixture
def snapshots(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The real sample and (built once per session) its edited copy."""
    original = realdata / "ofac-sdn-2019"
    if "edited" not in _EDITED:
        edited = tmp_path_factory.mktemp("ofac-edited")
        for name in FILES:
            with (original / name).open(encoding="utf-8", newline="") as handle:
                rows = list(csv.reader(handle))
            if name == "sdn.csv":
                rows = [r for r in (_edit(row) for row in rows) if r is not None]
            elif name == "add.csv":
                rows = [r for r in rows if r[0].strip() != "15078"]
            with (edited / name).open("w", encoding="utf-8", newline="") as handle:
                csv.writer(handle, lineterminator="\n").writerows(rows)
        _EDITED["edited"] = edited
    return original, _EDITED["edited"]


@pytest.fixture
def cached_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Share loader output between in-process runs of this module (keyed by files and options)."""

    def cached(fmt: str) -> Callable[[list[Path], LoadOptions], LoadOutput]:
        real = get_loader(fmt)

        def load(paths: list[Path], options: LoadOptions) -> LoadOutput:
            key = (
                fmt,
                tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths),
                options.as_of,
                options.retrieved_at,
                options.source,
                options.mapping,
            )
            if key not in _LOADS:
                _LOADS[key] = real(paths, options)
            return _LOADS[key]

        return load

    monkeypatch.setattr(engine, "get_loader", cached)


def configs(folder: Path, snapshots: tuple[Path, Path]) -> tuple[Path, Path]:
    original, edited = snapshots

    def one(name: str, src: Path) -> Path:
        paths = [str(src / f) for f in FILES]
        return write_config(folder / name, [{"name": "ofac-sdn", "format": "ofac", "paths": paths}])

    return one("a.yaml", original), one("b.yaml", edited)


# ---- exactly the scripted changes ---------------------------------------------------------------------


@pytest.mark.usefixtures("cached_loads")
def test_scripted_edits_are_exactly_the_changes(
    store: Store, tmp_path: Path, snapshots: tuple[Path, Path]
) -> None:
    a, b = configs(tmp_path, snapshots)
    root = tmp_path / "state"
    baseline = refresh(store, root, a, D0)
    assert [(s.status, len(s.changes), len(s.rejects)) for s in baseline.sources] == [("baseline", 0, 0)]
    counts = store.counts()
    assert counts.nodes["Vessel"] == 323

    report = refresh(store, root, b, D1)
    [src] = report.sources
    assert src.status == "applied"
    assert change_set(src.changes) == EXPECTED
    assert (src.added, src.changed, src.removed) == (0, 3, 1)

    # Re-flag and rename are new periods; the old ones end on the as-of date.
    assert open_periods(store, "imo:9286140", "FLAGGED") == ["PA"]
    flags = {v.dst: v.props for v in store.edges("Vessel", ["imo:9286140"], ["FLAGGED"])}
    assert flags["IR"]["valid_to"] == D1 and flags["PA"]["valid_from"] == D1
    assert open_periods(store, "imo:9286152", "NAMED") == ["FALAGH STAR"]
    # The delisted vessel is still there, its identity end-dated, its sanction delisted.
    assert store.get_node("Vessel", "imo:8517231") is not None
    for rel in ("NAMED", "FLAGGED", "HAS_MMSI", "HAS_CALL_SIGN"):
        assert [v.props.get("valid_to") for v in store.edges("Vessel", ["imo:8517231"], [rel])] == [D1], rel
    lifted = store.get_node("Sanction", "ofac-sdn:15078:IRAN")
    assert lifted is not None and lifted.props["delisting_date"] == D1
    new = store.get_node("Sanction", "ofac-sdn:17069:DPRK3")
    assert new is not None and "delisting_date" not in new.props
    # Nothing else moved: five ChangeEvents, one more snapshot marker, one more Sanction.
    after = store.counts()
    assert after.nodes["ChangeEvent"] == 5
    assert after.nodes["SourceSnapshot"] == 2
    assert after.nodes["Sanction"] == counts.nodes["Sanction"] + 1
    assert after.nodes["Vessel"] == counts.nodes["Vessel"]
    assert after.relationships["HAS_CHANGE"] == 5
    events = read_changes(store, since=D1)
    assert change_set(events) == EXPECTED
    log = StateDir(root, store_id(store)).read_log()
    assert sorted(e["key"] for e in events) == sorted(line["key"] for line in log)

    # An immediate second refresh: skipped by content hash, no change, no write.
    again = refresh(store, root, b, D2)
    assert [(s.status, s.changes) for s in again.sources] == [("unchanged", [])]
    assert store.counts() == after
    assert len(StateDir(root, store_id(store)).read_log()) == 5


# ---- kill -9 at any stage, then run again -------------------------------------------------------------


def _fresh_counts(store: Store) -> Counts:
    if isinstance(store, MemoryStore):  # another process wrote the file
        return MemoryStore(store.directory).counts()
    return store.counts()


def _graph_log(store: Store) -> list[dict[str, Any]]:
    """ChangeEvents and SourceSnapshots without the run id (which differs between attempts)."""
    store = _fresh(store)
    rows = [{k: v for k, v in e.items() if k != "run_id"} for e in read_changes(store)]
    for batch in store.scan_nodes("SourceSnapshot"):
        rows += [{"key": n.key, **{k: v for k, v in n.props.items() if k != "run_id"}} for n in batch]
    return sorted(rows, key=lambda r: r["key"])


def _file_log(root: Path, store: Store) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in line.items() if k != "run_id"}
        for line in StateDir(root, store_id(store)).read_log()
    ]


@pytest.mark.usefixtures("cached_loads")
def test_kill_at_any_stage_then_rerun_equals_an_uninterrupted_run(
    store: Store, tmp_path: Path, snapshots: tuple[Path, Path]
) -> None:
    a, b = configs(tmp_path, snapshots)
    steps = [(a, D0), (b, D1), (a, D2), (b, D3)]

    # The uninterrupted reference, on the embedded store (both stores must agree): A, B, A, B.
    reference = MemoryStore(tmp_path / "reference")
    ref_root = tmp_path / "reference-state"
    for config, as_of in steps:
        assert not refresh(reference, ref_root, config, as_of).failed
    expected_counts = _fresh_counts(reference)
    expected_graph = _graph_log(reference)
    expected_file = _file_log(ref_root, reference)
    assert len(expected_file) == 15  # 5 + 5 reversed (a re-listed vessel: new_record, new_designation) + 5

    # The same sequence, each refresh killed with SIGKILL at a different stage, then run again.
    home = tmp_path / "home"  # the memory store's folder, and where the CLI keeps refresh state
    root = home / "refresh"
    assert not refresh(store, root, a, D0).failed
    for (config, as_of), stage in zip(steps[1:], ("writing", "committed", "logged"), strict=True):
        run_killed(store, home, config, as_of, stage)
        run_ok(store, home, config, as_of)
        pending = list((root / store_id(store)).glob("sources/*/pending.json.gz"))
        assert pending == [], f"journal left after the rerun following a kill at {stage}"

    assert _fresh_counts(store) == expected_counts
    assert _graph_log(store) == expected_graph
    assert _file_log(root, store) == expected_file
    assert {line["run_id"] for line in StateDir(root, store_id(store)).read_log()} != {None}


# ---- record ids do not depend on the names the files were saved under -----------------------------------

SETS = {"2019-01": "ofac-sdn-2019", "2021-07": "ofac-sdn-set-2021-07"}


def _designations(folder: Path) -> set[tuple[str, str]]:
    """(ent_num, program) of every entry the loader models (aircraft are not), read with csv alone."""
    with (folder / "sdn.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.reader(handle) if len(r) == 12 and r[2].strip() != "aircraft"]
    return {(r[0].strip(), p.strip()) for r in rows for p in r[3].strip().strip("[]").split("] [")}


def _two_year_refresh(store: Store, tmp: Path, realdata: Path, rename: bool) -> list[dict[str, Any]]:
    """Refresh OFAC 2019 then July 2021, the files as published or copied under dated names."""
    configs = []
    tmp.mkdir(parents=True)
    for tag, name in SETS.items():
        files = sorted((realdata / name).glob("*.csv"))
        if rename:
            (tmp / tag).mkdir(parents=True)
            copies = [tmp / tag / f"{f.stem}-{tag}.csv" for f in files]
            for src, dst in zip(files, copies, strict=True):
                dst.write_bytes(src.read_bytes())
            files = copies
        source = {"name": "ofac-sdn", "format": "ofac", "paths": [str(f) for f in files]}
        configs.append(write_config(tmp / f"{tag}.yaml", [source]))
    assert refresh(store, tmp / "state", configs[0], "2019-01-15").sources[0].status == "baseline"
    report = refresh(store, tmp / "state", configs[1], "2021-07-07")
    [src] = report.sources
    assert src.status == "applied" and src.rejects == []
    return src.changes


def test_renamed_files_report_the_same_changes(store: Store, tmp_path: Path, realdata: Path) -> None:
    """A snapshot saved as sdn-2019-01.csv is the same list entries as sdn.csv: no false
    "designation lifted" + "new designation" pairs for entries whose key changed (issue 12)."""
    published = _two_year_refresh(MemoryStore(tmp_path / "a-store"), tmp_path / "a", realdata, False)
    renamed = _two_year_refresh(store, tmp_path / "b", realdata, True)
    assert change_set(renamed) == change_set(published)
    old, new = (_designations(realdata / name) for name in SETS.values())
    whats = [c["what"] for c in renamed]
    assert whats.count("designation_lifted") == len(old - new)
    assert whats.count("new_designation") == len(new - old)
    # Each lifted designation names an entry that had that program and no longer has it.
    lifted = {
        re.search(r"\(ref (\d+)\)", c["old_value"])[1] for c in renamed if c["what"] == "designation_lifted"
    }
    assert lifted == {ent for ent, _ in old - new}
