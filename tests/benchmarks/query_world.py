"""The generated world of the canned-query benchmark, built once and cached for both stores.

Building a 100,000-vessel world takes minutes per store, so it is kept between runs, keyed by the
generator's parameters (:attr:`WorldSpec.ident`):

* embedded store: the graph database under ``<cache>/<ident>/memory/graph.sqlite`` (a MemoryStore data
  directory), written by one ``MemoryStore.write(world, atomic=False)``;
* Neo4j: a private server in ``<home>`` (never the shared development server), loaded with
  ``neo4j-admin database import full`` from CSV streamed out of the generator, then given the
  constraints and indexes of ``graph/schema.yaml``. ``<home>/shadowfleet-world.json`` names the world
  the database holds; a run for another world re-imports it (``--overwrite-destination``).

Delete the cache folder or the server home (or pass ``--rebuild``) to start again.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from graph.memory_store import FILE_NAME, MemoryStore
from graph.neo4j_server import Neo4jServer, Neo4jServerError
from graph.neo4j_store import Neo4jStore
from graph.store import Counts
from loaders.world import World, world_size
from tests.benchmarks.bench_ingest import write_import_csv

MARKER = "shadowfleet-world.json"
Log = Callable[[str], None]


@dataclass(frozen=True)
class WorldSpec:
    """Generator parameters of the benchmark world."""

    seed: int
    vessels: int
    companies: int
    persons: int | None
    events: int

    @property
    def ident(self) -> str:
        """A folder-safe name that changes whenever the world would."""
        persons = "default" if self.persons is None else str(self.persons)
        return f"s{self.seed}-v{self.vessels}-c{self.companies}-p{persons}-e{self.events}"

    def world(self) -> World:
        """A fresh generator for this world."""
        return World(self.seed, self.vessels, self.companies, self.persons, self.events)

    def expected(self) -> Counts:
        """Node and relationship counts (estimated from a sample above 2,000 vessels)."""
        return world_size(self.seed, self.vessels, self.companies, self.persons, self.events)


def event_count(counts: Counts) -> int:
    """Events as the issue counts them: StsTransfer + PortCall + AisGap + Loitering nodes."""
    return sum(counts.nodes.get(label, 0) for label in ("StsTransfer", "PortCall", "AisGap", "Loitering"))


def open_memory(spec: WorldSpec, cache: Path, log: Log, rebuild: bool = False) -> tuple[MemoryStore, dict]:
    """The embedded store holding the world: read from the cache, or written and cached first."""
    directory = cache / spec.ident / "memory"
    info: dict[str, Any] = {"path": str(directory / FILE_NAME)}
    if rebuild and directory.exists():
        shutil.rmtree(directory)
    if not (directory / FILE_NAME).exists():
        directory.mkdir(parents=True, exist_ok=True)
        log(f"memory: generating and writing the world into {directory} (once; cached)")
        t0 = time.perf_counter()
        store = MemoryStore(directory)
        stats = store.write(spec.world(), atomic=False)
        info["build_seconds"] = round(time.perf_counter() - t0, 1)
        info["records_written"] = stats.records
        log(f"  {stats.records:,} records written and persisted in {info['build_seconds']}s")
        return store, info
    log(f"memory: reading the cached graph {directory / FILE_NAME}")
    t0 = time.perf_counter()
    store = MemoryStore(directory)
    info["read_seconds"] = round(time.perf_counter() - t0, 1)
    log(f"  read in {info['read_seconds']}s")
    return store, info


def open_neo4j(
    spec: WorldSpec,
    home: Path,
    bolt_port: int,
    http_port: int,
    heap: str,
    pagecache: str,
    log: Log,
    rebuild: bool = False,
) -> tuple[Neo4jServer, Neo4jStore, dict]:
    """A private server holding the world: started as it is, or bulk-imported first."""
    server = Neo4jServer(home, bolt_port=bolt_port, http_port=http_port, heap=heap, pagecache=pagecache)
    marker = home / MARKER
    held = json.loads(marker.read_text()) if marker.exists() else None
    info: dict[str, Any] = {"home": str(home), "bolt": server.bolt_uri, "heap": heap, "pagecache": pagecache}
    if held != asdict(spec) or rebuild:
        info.update(_import(spec, server, log))
        marker.write_text(json.dumps(asdict(spec)) + "\n")
    else:
        # A running server may have been started with other memory settings: restart to apply ours.
        if server.is_running():
            server.stop()
        log(f"neo4j: starting the private server in {home} (database already holds {spec.ident})")
        t0 = time.perf_counter()
        server.start(timeout=600)
        info["start_seconds"] = round(time.perf_counter() - t0, 1)
    store = Neo4jStore(uri=server.bolt_uri)
    t0 = time.perf_counter()
    store.ensure_schema()
    info["schema_seconds"] = round(time.perf_counter() - t0, 1)
    info["version"] = server.version
    return server, store, info


def _import(spec: WorldSpec, server: Neo4jServer, log: Log) -> dict[str, Any]:
    """CSV out of the generator, neo4j-admin import with the server stopped, then start it."""
    if server.is_running():
        log("neo4j: stopping the private server for the import")
        server.stop()
    server.install(progress=log)
    phases: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="sf-bench-queries-") as tmp:
        log(f"neo4j: writing import CSV for {spec.ident} under {tmp}")
        t0 = time.perf_counter()
        files = write_import_csv(spec.world(), Path(tmp))
        phases["csv"] = time.perf_counter() - t0
        log(f"  {files.bytes / 1e9:.2f} GB of CSV in {phases['csv']:.0f}s; neo4j-admin database import full")
        t0 = time.perf_counter()
        proc = server.admin_import(files.admin_args("neo4j", Path(tmp) / "import.report"))
        phases["import"] = time.perf_counter() - t0
        if proc.returncode != 0:
            tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])
            raise Neo4jServerError(f"neo4j-admin import exited {proc.returncode}: {tail[:600]}")
    log(f"  imported in {phases['import']:.0f}s; starting the server")
    t0 = time.perf_counter()
    server.start(timeout=600)
    phases["start"] = time.perf_counter() - t0
    return {"import_phases_seconds": {k: round(v, 1) for k, v in phases.items()}}
