"""`shadowfleet export` and shadowfleet/exports: every format over the demo case, on both stores.

The demo case is loaded once per store for the module (as in test_demo_case.py). What is checked:

* JSON lines round trip: exporting and loading into an empty store gives the same nodes, relationships,
  properties and provenance (in stored order); loading it again into the loaded store changes nothing,
  so dated periods are not folded a second time;
* GraphML and GEXF parse with networkx and keep every node and relationship with typed attributes;
* GeoJSON is an RFC 7946 FeatureCollection with [lon, lat] points where the graph has positions;
* neo4j-csv headers parse, row counts match the store, and (marked neo4j) `neo4j-admin database import`
  of the folder into a private server gives the same graph;
* query subgraphs: the nodes the rows name and their one-hop neighbourhood, hubs not expanded.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import json
import logging
import os
import re
import shutil
import socket
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from rich.console import Console

from graph.memory_store import MemoryStore
from graph.store import Store
from loaders.base import LoadOptions
from queries.engine import run_query
from shadowfleet.cli import main
from shadowfleet.commands.demo import AS_OF, load_case
from shadowfleet.commands.load import load_into
from shadowfleet.exports import StoreSource, jsonl, neo4j_csv
from shadowfleet.exports.attributes import element_id
from shadowfleet.exports.geojson import event_labels
from shadowfleet.exports.neo4j_csv import EXPORT_ARRAY_DELIMITER, import_args, read_manifest
from shadowfleet.exports.source import ExportError, SubgraphSource
from shadowfleet.exports.subgraph import explain_query, query_subgraph, rows_subgraph

_QUIET = Console(file=open(os.devnull, "w"), stderr=False)  # noqa: SIM115 - lives as long as the module

Snapshot = tuple[dict[tuple[str, str], tuple[dict, list]], dict[tuple, tuple[dict, list]]]


@pytest.fixture(scope="module", params=["memory", "neo4j"])
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The demo case loaded into each store once (the Neo4j half holds the shared server's test lock)."""
    if request.param == "memory":
        store: Store = MemoryStore(tmp_path_factory.mktemp("export-case"))
        load_case(store, _QUIET)
        yield store
        return
    neo = request.getfixturevalue("neo4j_session_store")
    with request.getfixturevalue("exclusive_neo4j")(neo) as store:
        load_case(store, _QUIET)
        yield store


@pytest.fixture
def cli(case: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Arguments pointing the CLI at the case's store."""
    monkeypatch.delenv("SHADOWFLEET_STORE", raising=False)
    if isinstance(case, MemoryStore):
        monkeypatch.setenv("SHADOWFLEET_HOME", str(case.directory))
    return ["--store", case.backend]


def snapshot(store: Store) -> Snapshot:
    """Every node and relationship with its properties and provenance, read through StoreSource."""
    source = StoreSource(store, batch_size=97)  # an odd batch size: batches end mid-label
    nodes = {(n.label, n.key): (n.props, n.provenance) for b in source.node_batches() for n in b}
    edges = {
        (e.type, e.src_label, e.src, e.dst_label, e.dst, e.key): (e.props, e.provenance)
        for b in source.edge_batches()
        for e in b
    }
    return nodes, edges


def claims(store: Store) -> dict[tuple[str, str], list[str]]:
    """Every node's claims (graph/evidence.py), sorted."""
    source = StoreSource(store, batch_size=97)
    return {(n.label, n.key): sorted(n.claims) for b in source.node_batches() for n in b}


def empty_twin(store: Store, tmp_path: Path) -> Store:
    """An empty store of the same kind (Neo4j Community has one database: the case's, cleared)."""
    if isinstance(store, MemoryStore):
        return MemoryStore(tmp_path / "twin")
    store.clear()
    return store


# ---- JSON lines ------------------------------------------------------------------------------------------


def test_jsonl_round_trip(case: Store, cli: list[str], tmp_path: Path) -> None:
    before = snapshot(case)
    counts = case.counts()
    dated = [p for p, _ in before[1].values() if "first_seen" in p and p.get("valid_to")]
    assert dated, "the demo case should hold closed, dated identity periods"
    path = tmp_path / "demo.jsonl"
    assert main(["export", "--format", "jsonl", "-o", str(path), *cli]) == 0
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == sum(counts.nodes.values()) + sum(counts.relationships.values())
    assert not any("observed" in line for line in lines)
    twin = empty_twin(case, tmp_path)
    assert twin.counts().nodes == {}
    output, stats = load_into(twin, "records", [path], LoadOptions(), _QUIET)
    assert output.rejects == []
    assert (stats.nodes_created, stats.edges_created) == (len(before[0]), len(before[1]))
    assert twin.counts() == counts
    assert snapshot(twin) == before
    assert claims(twin) == claims(case)  # which record states which value, restored exactly


def test_jsonl_reload_changes_nothing(case: Store, tmp_path: Path) -> None:
    before = snapshot(case)
    path = tmp_path / "demo.jsonl"
    jsonl.write(StoreSource(case), path)
    _, stats = load_into(case, "records", [path], LoadOptions(), _QUIET)
    assert (stats.nodes_created, stats.edges_created) == (0, 0)
    assert snapshot(case) == before


# ---- GraphML and GEXF ------------------------------------------------------------------------------------


def _typed(value: Any) -> Any:
    """A stored value as the XML formats carry it once parsed (lists are JSON arrays)."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value


def _provenance(entries: list[str]) -> list[dict[str, str]]:
    return [json.loads(e) for e in entries]


def _check_parsed(graph: nx.MultiDiGraph, before: Snapshot) -> None:
    nodes, edges = before
    assert graph.number_of_nodes() == len(nodes)
    assert graph.number_of_edges() == len(edges)
    for (label, key), (props, prov) in nodes.items():
        data = graph.nodes[element_id(label, key)]
        assert (data["type"], data["key"]) == (label, key)
        assert data["label"]  # the caption
        assert json.loads(data["provenance"]) == _provenance(prov)
        assert {k: data[k] for k in props} == {k: _typed(v) for k, v in props.items()}
    seen = set()
    for src, dst, data in graph.edges(data=True):
        a, b = graph.nodes[src], graph.nodes[dst]
        ident = (data["rel_type"], a["type"], a["key"], b["type"], b["key"], data["rel_key"])
        props, prov = edges[ident]
        assert data["label"] == data["rel_type"]
        assert json.loads(data["provenance"]) == _provenance(prov)
        assert {k: data[k] for k in props} == {k: _typed(v) for k, v in props.items()}
        seen.add(ident)
    assert seen == set(edges)


def test_graphml_parses_with_every_node_and_edge(case: Store, cli: list[str], tmp_path: Path) -> None:
    path = tmp_path / "demo.graphml"
    assert main(["export", "--format", "graphml", "-o", str(path), *cli]) == 0
    graph = nx.read_graphml(path)
    assert isinstance(graph, nx.MultiDiGraph)
    _check_parsed(graph, snapshot(case))
    vessel = next(n for n, d in graph.nodes(data=True) if d["type"] == "Vessel" and "build_year" in d)
    assert isinstance(graph.nodes[vessel]["build_year"], int)


def test_gexf_parses_with_every_node_and_edge(case: Store, cli: list[str], tmp_path: Path) -> None:
    path = tmp_path / "demo.gexf"
    assert main(["export", "--format", "gexf", "-o", str(path), *cli]) == 0
    graph = nx.read_gexf(path)
    _check_parsed(graph, snapshot(case))


def test_element_ids_are_nmtokens_and_one_to_one() -> None:
    keys = ["ALDAN BREEZE", "a_b", "a_5f_b", "Ünïcode/ключ", "x:y", "tab\there", "<&>\"'"]
    ids = [element_id("VesselName", k) for k in keys]
    assert len(set(ids)) == len(keys)
    assert all(all(c.isascii() and (c.isalnum() or c in ".-:_") for c in i) for i in ids)


# ---- GeoJSON ---------------------------------------------------------------------------------------------


def test_geojson_features(case: Store, cli: list[str], tmp_path: Path) -> None:
    path = tmp_path / "demo.geojson"
    assert main(["export", "--format", "geojson", "-o", str(path), *cli]) == 0
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    nodes, edges = snapshot(case)
    events = {k: v for k, v in nodes.items() if k[0] in event_labels(case.schema)}
    features = {f["id"]: f for f in doc["features"]}
    assert len(features) == len(doc["features"])
    at_port = {e[2]: e[4] for e in edges if e[0] == "AT_PORT"}
    expected = set()
    for (label, key), (props, prov) in events.items():
        if "lat" in props:
            want: Any = [props["lon"], props["lat"]]
        elif "start_lat" in props and "end_lat" in props:
            want = [[props["start_lon"], props["start_lat"]], [props["end_lon"], props["end_lat"]]]
        elif key in at_port and "lat" in nodes[("Port", at_port[key])][0]:
            port = nodes[("Port", at_port[key])][0]
            want = [port["lon"], port["lat"]]
        else:
            continue
        expected.add(f"{label}:{key}")
        feature = features[f"{label}:{key}"]
        assert feature["geometry"]["coordinates"] == want  # RFC 7946: longitude first
        assert feature["properties"]["key"] == key and feature["properties"]["label"] == label
        assert feature["properties"]["provenance"] == _provenance(prov)
        linked = sorted(e[2] for e in edges if e[3] == label and e[4] == key and e[1] == "Vessel")
        assert sorted(feature["properties"]["vessels"]) == linked
    assert set(features) == expected
    assert {f["geometry"]["type"] for f in features.values()} <= {"Point", "MultiPoint"}
    assert any(f["geometry"]["type"] == "MultiPoint" for f in features.values())
    assert any(f["properties"]["label"] == "PortCall" for f in features.values())


# ---- neo4j-admin CSV -------------------------------------------------------------------------------------


_CSV_TYPES = {"string", "long", "double", "boolean", "string[]"}


def test_neo4j_csv_headers_and_counts(case: Store, cli: list[str], tmp_path: Path) -> None:
    folder = tmp_path / "import"
    assert main(["export", "--format", "neo4j-csv", "-o", str(folder), *cli]) == 0
    counts = case.counts()
    manifest = read_manifest(folder)
    assert (manifest["nodes"], manifest["relationships"]) == (
        sum(counts.nodes.values()),
        sum(counts.relationships.values()),
    )
    by_label: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    rel_files = {
        arg.rsplit("=", 1)[1]: arg.split("=")[1]
        for arg in manifest["arguments"]
        if arg.startswith("--relationships=")
    }
    nodes, _ = snapshot(case)
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        header, body = rows[0], rows[1:]
        assert manifest["rows"][path.name] == len(body)
        assert all(len(r) == len(header) for r in body)
        assert header[-1] == "provenance:string[]"
        for column in header:
            kind = column.partition(":")[2]
            assert kind in _CSV_TYPES or re.fullmatch(r"(ID|START_ID|END_ID)\(\w+\)", kind), column
        if path.name.startswith("nodes_"):
            label = header[0].removeprefix("key:ID(").removesuffix(")")
            assert path.name == f"nodes_{label}.csv"
            by_label[label] += len(body)
            for row in body[:5]:
                entries = row[-1].split(EXPORT_ARRAY_DELIMITER)
                assert entries == nodes[(label, row[0])][1]
        else:
            assert header[:3] == [header[0], header[1], "key:string"]
            assert header[0].startswith(":START_ID(") and header[1].startswith(":END_ID(")
            by_type[rel_files[path.name]] += len(body)
    assert dict(by_label) == counts.nodes
    assert dict(by_type) == counts.relationships
    script = (folder / "import.sh").read_text(encoding="utf-8")
    assert "--array-delimiter=U+001F" in script and "--nodes=Vessel=nodes_Vessel.csv" in script
    assert (folder / "constraints.cypher").read_text().count("CREATE CONSTRAINT") == len(case.schema.nodes)


def test_neo4j_csv_folder_rules(tmp_path: Path) -> None:
    store = MemoryStore(None)
    load_case(store, _QUIET)
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="holds other files"):
        neo4j_csv.write(StoreSource(store), other)
    assert (other / "keep.txt").read_text() == "mine"
    folder = tmp_path / "export"
    neo4j_csv.write(StoreSource(store), folder)
    neo4j_csv.write(StoreSource(store), folder)  # an earlier export is replaced
    assert read_manifest(folder)["nodes"] == sum(store.counts().nodes.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "other"]  # no temporary left


_PRIVATE_BOLT, _PRIVATE_HTTP = 27687, 27474


@contextlib.contextmanager
def _private_ports() -> Iterator[None]:
    with open(Path(tempfile.gettempdir()) / "shadowfleet-neo4j-27687.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _port_busy(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.neo4j
def test_neo4j_admin_import_of_the_export(tmp_path: Path) -> None:
    """The export folder imports with neo4j-admin into a private server and gives the same graph."""
    from graph.neo4j_server import Neo4jServer, default_home
    from graph.neo4j_store import Neo4jStore

    installed = Neo4jServer(default_home())
    if not installed.is_installed():
        message = (
            f"no Neo4j distribution installed in {installed.home} (`shadowfleet neo4j start` installs it)"
        )
        if os.environ.get("SHADOWFLEET_REQUIRE_NEO4J") == "1":  # as in CI: fail, never skip
            pytest.fail(message)
        pytest.skip(message)
    store = MemoryStore(None)
    load_case(store, _QUIET)
    folder = tmp_path / "import"
    neo4j_csv.write(StoreSource(store), folder)
    home = tmp_path / "neo4j"
    home.mkdir()
    (home / "lib").symlink_to(installed.lib_dir)  # reuse the installed jars: no download
    server = Neo4jServer(
        home, bolt_port=_PRIVATE_BOLT, http_port=_PRIVATE_HTTP, heap="512m", pagecache="128m"
    )
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    with _private_ports():
        busy = [p for p in (_PRIVATE_BOLT, _PRIVATE_HTTP) if _port_busy(p)]
        assert not busy, f"ports {busy} are in use; the private test server needs them"
        proc = server.admin_import(import_args(folder, "neo4j", report=tmp_path / "import.report"))
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-2000:]
        server.start(timeout=300)
        try:
            imported = Neo4jStore(uri=server.bolt_uri)
            try:
                assert imported.counts() == store.counts()
                assert snapshot(imported) == snapshot(store)
            finally:
                imported.close()
        finally:
            server.stop()
    shutil.rmtree(home, ignore_errors=True)


# ---- query subgraphs -------------------------------------------------------------------------------------


def test_supply_chain_subgraph(case: Store) -> None:
    rows = run_query(case, "supply-chains", {"as_of": AS_OF})
    assert rows
    sub = explain_query(case, "supply-chains", {"as_of": AS_OF})
    columns = sub.key_columns["supply-chains"]
    assert {"supplier", "receiver", "vessels", "transfers"} <= set(columns)
    assert not {"hops", "first_date", "last_date", "supplier_evidence"} & set(columns)
    ids = {(n.label, n.key) for n in sub.nodes}
    for row in rows:
        assert {("Vessel", v) for v in row["vessels"]} <= ids
        assert {("StsTransfer", t) for t in row["transfers"]} <= ids
    named = set(sub.named)
    hubs = {label for label, t in case.schema.nodes.items() if t.hub}
    edge_ids = set()
    for e in sub.edges:
        assert (e.src_label, e.src) in ids and (e.dst_label, e.dst) in ids
        edge_ids.add((e.type, e.src, e.dst, e.key))
    # every named non-hub node brings all of its relationships (nothing capped here)
    assert sub.capped == []
    for label, key in named:
        if label not in hubs:
            for e in case.edges(label, [key]) + case.edges(label, [key], direction="in"):
                assert (e.type, e.src, e.dst, e.key) in edge_ids
    # a hub is never expanded: not every vessel flying a named flag comes along
    flagged = {e.src for e in sub.edges if e.type == "FLAGGED"}
    for label, key in named:
        if label in hubs:
            everyone = {e.src for e in case.edges(label, [key], ["FLAGGED"], "in")}
            assert flagged >= everyone & {k for lbl, k in named if lbl == "Vessel"}
    assert query_subgraph(case, "supply-chains", {"as_of": AS_OF}) == (sub.nodes, sub.edges)


def test_subgraph_max_degree(case: Store) -> None:
    sub = explain_query(case, "flag-hoppers", {"as_of": AS_OF}, max_degree=0)
    named = set(sub.named)
    assert sub.capped and set(sub.capped) <= named
    assert {(n.label, n.key) for n in sub.nodes} == named
    for e in sub.edges:
        assert (e.src_label, e.src) in named and (e.dst_label, e.dst) in named


def test_key_columns_need_every_value_to_be_a_key(case: Store) -> None:
    vessel = next(iter(case.scan_nodes("Vessel", 1)))[0]
    rows = [{"a": vessel.key, "b": vessel.key, "c": 3}, {"a": None, "b": "not a key", "c": 4}]
    sub = rows_subgraph(case, rows, ["a", "b", "c"], query="ad-hoc")
    assert sub.key_columns == {"ad-hoc": ["a"]}
    assert sub.named == [("Vessel", vessel.key)]


def test_query_export_is_the_subgraph(case: Store, cli: list[str], tmp_path: Path) -> None:
    path = tmp_path / "sc.jsonl"
    args = ["export", "--format", "jsonl", "-q", "supply-chains", "-q", "shell-networks"]
    assert main([*args, "--as-of", AS_OF, "-o", str(path), *cli]) == 0
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    nodes_a, edges_a = query_subgraph(case, "supply-chains", {"as_of": AS_OF})
    nodes_b, edges_b = query_subgraph(case, "shell-networks", {"as_of": AS_OF})
    want_nodes = {(n.label, n.key) for n in nodes_a + nodes_b}
    got_nodes = {(line["node"], line["key"]) for line in lines if "node" in line}
    assert got_nodes == want_nodes
    want_edges = {(e.type, e.src, e.dst, e.key) for e in edges_a + edges_b}
    assert {
        (line["rel"], line["from"][1], line["to"][1], line["key"]) for line in lines if "rel" in line
    } == (want_edges)
    assert len(got_nodes) < sum(case.counts().nodes.values())


def test_subgraph_source_geojson_uses_the_store(case: Store, tmp_path: Path) -> None:
    from shadowfleet.exports import geojson

    nodes, edges = query_subgraph(case, "dark-activity", {"as_of": AS_OF})
    stats = geojson.write(SubgraphSource(case, nodes, edges), tmp_path / "dark.geojson")
    events = [n for n in nodes if n.label in event_labels(case.schema)]
    assert stats.nodes == len(events)
    doc = json.loads((tmp_path / "dark.geojson").read_text(encoding="utf-8"))
    assert len(doc["features"]) == stats.extra["features"] > 0
    assert stats.extra["features"] + stats.extra["events_without_position"] == len(events)


# ---- the command line ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "jsonl", "--param", "x=1"], "apply to --query"),
        (["--format", "jsonl", "--as-of", "2025-01-01"], "apply to --query"),
        (["--format", "jsonl", "-q", "vessel", "-p", "nope=1"], "not declared by vessel"),
        (["--format", "jsonl", "-q", "vessel", "-p", "novalue"], "NAME=VALUE"),
        (["--format", "jsonl", "-q", "no-such-query"], "no-such-query"),
        (["--format", "neo4j-csv", "-o", "-"], "folder"),
    ],
)
def test_usage_errors(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SHADOWFLEET_HOME", str(tmp_path))
    monkeypatch.delenv("SHADOWFLEET_STORE", raising=False)
    assert main(["export", *args]) == 2
    assert message in capsys.readouterr().err.replace("\n", " ")


def test_bad_parameter_value_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHADOWFLEET_HOME", str(tmp_path))
    monkeypatch.delenv("SHADOWFLEET_STORE", raising=False)
    assert main(["export", "--format", "jsonl", "-q", "supply-chains", "-p", "max_hops=many"]) == 1


def test_summary_line_and_stdout(case: Store, cli: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "jsonl", "-o", "-", *cli]) == 0
    captured = capsys.readouterr()
    total = sum(case.counts().nodes.values()) + sum(case.counts().relationships.values())
    assert len(captured.out.splitlines()) == total
    summary = captured.err.strip().splitlines()[-1]
    assert summary.startswith("exported ") and "jsonl" in summary and "stdout" in summary


def test_failed_export_leaves_the_previous_file(tmp_path: Path) -> None:
    store = MemoryStore(None)
    load_case(store, _QUIET)
    path = tmp_path / "out.graphml"
    path.write_text("previous")

    class Failing(StoreSource):
        def edge_batches(self) -> Iterator[list[Any]]:
            yield from super().edge_batches()
            raise RuntimeError("disk on fire")

    from shadowfleet.exports import graphml

    with pytest.raises(RuntimeError, match="disk on fire"):
        graphml.write(Failing(store), path)
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.graphml"]
