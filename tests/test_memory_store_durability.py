"""The embedded store's file survives a kill -9 in the middle of a write: the state before it remains."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from graph.memory_store import MemoryStore
from graph.records import NodeRecord, Provenance

PROV = Provenance("test", "durability#1", "2024-01-01T00:00:00Z")

WRITER = """
import sys
from pathlib import Path
from graph.memory_store import MemoryStore
from graph.records import NodeRecord, Provenance
prov = Provenance("test", "durability#2", "2024-01-01T00:00:00Z")
store = MemoryStore(Path(sys.argv[1]))
records = [NodeRecord("Company", f"big:{i}", {"name": f"Bulk Company {i}"}, prov) for i in range(300_000)]
print("ready", flush=True)
store.write(records)
print("done", flush=True)
"""


def test_kill_during_write_keeps_previous_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    MemoryStore(home).write(
        [NodeRecord("Company", f"co:{i}", {"name": f"Kept {i}"}, PROV) for i in range(100)]
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(home)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 120
    wal = home / "graph.sqlite-wal"
    # Uncommitted pages of a large transaction spill into the write-ahead log: once it has grown,
    # the writer is inside its transaction.
    while not wal.exists() or wal.stat().st_size < 4_000_000:
        assert proc.poll() is None, "writer finished before the kill: the test did not hit the write"
        assert time.monotonic() < deadline, "the writer never got into its transaction"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    reopened = MemoryStore(home)
    assert reopened.counts().nodes == {"Company": 100}
    assert reopened.get_node("Company", "co:42") is not None
    # The torn transaction is discarded and the next write succeeds.
    reopened.write([NodeRecord("Company", "co:new", {"name": "After the crash"}, PROV)])
    assert MemoryStore(home).counts().nodes == {"Company": 101}


def _state(store: MemoryStore) -> dict[str, object]:
    graph = store.graph
    return {
        "nodes": {
            n: (dict(a["props"]), list(a["provenance"]), list(a["claims"])) for n, a in graph.nodes(data=True)
        },
        "edges": sorted((u, v, k, repr(d)) for u, v, k, d in graph.edges(keys=True, data=True)),
    }


def test_a_failed_in_memory_write_leaves_the_graph_as_it_was(monkeypatch) -> None:
    import graph.memory_store as ms
    from graph.records import EdgeRecord

    def share(pct: float, prov: Provenance) -> EdgeRecord:
        return EdgeRecord(
            "SHAREHOLDER_OF", "Company", "co:0", "Company", "co:1", "", {"share_pct": pct}, prov
        )

    store = MemoryStore(None)
    store.write(
        [
            *(NodeRecord("Company", f"co:{i}", {"name": f"Kept {i}"}, PROV) for i in range(5)),
            share(10.0, PROV),
        ]
    )
    before = _state(store)
    later = Provenance("test", "durability#3", "2024-02-01T00:00:00Z")
    calls = {"n": 0}
    real = ms.merge_provenance

    def failing(existing, new):  # fails part-way through the merges of the second write
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("disk on fire")
        return real(existing, new)

    monkeypatch.setattr(ms, "merge_provenance", failing)
    second = [NodeRecord("Company", f"co:{i}", {"name": f"Renamed {i}"}, later) for i in range(8)]
    try:
        store.write([*second, share(20.0, later)])
    except RuntimeError:
        pass
    else:
        raise AssertionError("the write did not fail")
    assert _state(store) == before
