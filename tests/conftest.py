"""Shared fixtures: every store-level test runs against both stores.

The Neo4j half needs a server: set NEO4J_URI (``.ci/run`` starts one with `shadowfleet neo4j start`).
Without one the Neo4j half is skipped with one loud line, unless SHADOWFLEET_REQUIRE_NEO4J=1, in which
case (as in CI) it fails.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graph.memory_store import MemoryStore
from graph.store import Store, StoreUnavailable


def _find_realdata() -> Path:
    """The real public samples: $SHADOWFLEET_REALDATA, else ../shared/realdata beside the checkout,
    else the workplace's /work/shared/realdata (CI may check the project out elsewhere)."""
    if os.environ.get("SHADOWFLEET_REALDATA"):
        return Path(os.environ["SHADOWFLEET_REALDATA"])
    candidates = [Path(__file__).resolve().parents[2] / "shared" / "realdata", Path("/work/shared/realdata")]
    return next((c for c in candidates if c.is_dir()), candidates[0])


REALDATA = _find_realdata()
REQUIRE_NEO4J = os.environ.get("SHADOWFLEET_REQUIRE_NEO4J") == "1"
_neo4j_skipped: list[str] = []


def _neo4j_store() -> Store:
    from graph.neo4j_store import Neo4jStore

    if not os.environ.get("NEO4J_URI") and not REQUIRE_NEO4J:
        raise StoreUnavailable("NEO4J_URI is not set")
    return Neo4jStore()


@pytest.fixture(scope="session")
def neo4j_session_store() -> Iterator[Store]:
    try:
        store = _neo4j_store()
    except StoreUnavailable as exc:
        if REQUIRE_NEO4J:
            pytest.fail(f"Neo4j is required (SHADOWFLEET_REQUIRE_NEO4J=1) but unavailable: {exc}")
        _neo4j_skipped.append(str(exc))
        pytest.skip(f"Neo4j half skipped: {exc}")
    store.ensure_schema()
    yield store
    store.close()


@contextlib.contextmanager
def _exclusive(store: Store) -> Iterator[Store]:
    # Community Neo4j has one user database: serialise the test processes sharing a server.
    digest = hashlib.sha1(store.location.encode()).hexdigest()[:12]
    with open(Path(tempfile.gettempdir()) / f"shadowfleet-neo4j-{digest}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            store.clear()
            yield store
            store.clear()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def exclusive_neo4j() -> Callable[[Store], contextlib.AbstractContextManager[Store]]:
    """``with exclusive_neo4j(store):`` holds the shared server's test lock, emptying it before and after."""
    return _exclusive


@pytest.fixture(params=["memory", "neo4j"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each kind."""
    if request.param == "memory":
        yield MemoryStore(tmp_path / "home")
        return
    with _exclusive(request.getfixturevalue("neo4j_session_store")) as neo:
        yield neo


@pytest.fixture
def realdata() -> Path:
    """The real public samples in ../shared/realdata."""
    if not REALDATA.is_dir():
        pytest.fail(f"real data samples not found at {REALDATA} (set SHADOWFLEET_REALDATA)")
    return REALDATA


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _neo4j_skipped:
        terminalreporter.write_line(
            "!!! NEO4J HALF SKIPPED: the tests ran on the embedded store only "
            f"({_neo4j_skipped[0]}). Run `shadowfleet neo4j start` and set "
            "NEO4J_URI=bolt://127.0.0.1:7687 to run them against Neo4j too.",
            red=True,
            bold=True,
        )
