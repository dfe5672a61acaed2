"""The embedded store's file: one SQLite database of nodes and relationships.

Why SQLite (measured against the pickle it replaces, BENCHMARKS.md "Embedded store"; DuckDB, the
other candidate, was not measured: it is columnar, built for scans, with point updates of single rows
its weak side, and a new dependency): it is in the standard library; it is transactional, so a kill
-9 at any moment leaves the state before or after the last commit (the write-ahead log is replayed or
discarded on the next open); it updates a few rows without rewriting the file; and it answers point
lookups by key through its B-tree indexes, so a dossier reads a few hundred rows instead of the whole
graph. Nothing in it is code: properties and provenance are JSON text, so a file from someone else is
safe to open.

Tables:

* ``nodes(label, key, props, prov, claims)``: unique ``(label, key)``; ``claims`` is the list
  of graph/evidence.py (which record states which value);
* ``edges(src_label, src, type, dst_label, dst, key, props, prov)``: unique in that order (an
  outgoing expansion is a range scan of that index), and an index ``(dst_label, dst, type)`` for
  incoming ones. Ordinary rowid tables, not WITHOUT ROWID: rows hold long JSON text, which a
  WITHOUT ROWID B-tree stores poorly (measured: 75 MB against 40 MB for a real-list graph);
* ``meta(name, value)``: the format version.

Every statement passes values as parameters; table and column names are fixed here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

FILE_NAME = "graph.sqlite"
FORMAT_VERSION = "3"
# SQLite limits the number of host parameters; keys go in as one JSON array instead (json_each).
CHUNK = 50_000

_DDL = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    label TEXT NOT NULL, key TEXT NOT NULL, props TEXT NOT NULL, prov TEXT NOT NULL, claims TEXT NOT NULL,
    UNIQUE (label, key)
);
CREATE TABLE IF NOT EXISTS edges (
    src_label TEXT NOT NULL, src TEXT NOT NULL, type TEXT NOT NULL,
    dst_label TEXT NOT NULL, dst TEXT NOT NULL, key TEXT NOT NULL,
    props TEXT NOT NULL, prov TEXT NOT NULL,
    UNIQUE (src_label, src, type, dst_label, dst, key)
);
CREATE INDEX IF NOT EXISTS edges_in ON edges (dst_label, dst, type);
"""

NodeTuple = tuple[str, str, dict[str, Any], list[str], list[str]]
EdgeTuple = tuple[str, str, str, str, str, str, dict[str, Any], list[str]]
_EDGE_COLUMNS = "src_label, src, type, dst_label, dst, key, props, prov"


class FormatError(RuntimeError):
    """The file is not a shadowfleet graph database of the expected format."""


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _chunks(items: Sequence[str]) -> Iterator[str]:
    for start in range(0, len(items), CHUNK):
        yield _dumps(list(items[start : start + CHUNK]))


class GraphFile:
    """One open connection to the graph database, with the set-at-a-time reads and writes it needs."""

    def __init__(self, path: Path, indexed: Iterable[str] = ()) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not path.exists()
        try:
            self.conn = sqlite3.connect(path, timeout=120, isolation_level=None, check_same_thread=False)
            # WAL: readers never block the writer; synchronous=FULL makes every commit durable.
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            if fresh:
                self.conn.executescript(_DDL)
                self.conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('format_version', ?)", (FORMAT_VERSION,)
                )
            row = self.conn.execute("SELECT value FROM meta WHERE name = 'format_version'").fetchone()
            if row is not None and row[0] == FORMAT_VERSION:
                for prop in sorted(set(indexed)):
                    # The schema's indexed properties (validated names) as expression indexes, so that
                    # find() by such a property is a seek, not a scan.
                    self.conn.execute(
                        f"CREATE INDEX IF NOT EXISTS nodes_by_{prop} ON nodes ({_path_sql(prop)}, label)"
                    )
        except sqlite3.DatabaseError as exc:
            raise FormatError(f"{path} is not a shadowfleet graph database: {exc}") from exc
        if row is None or row[0] != FORMAT_VERSION:
            raise FormatError(f"{path} is not a shadowfleet graph database of format {FORMAT_VERSION}")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def data_version(self) -> int:
        """Changes whenever another connection commits (SQLite's ``PRAGMA data_version``)."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    # ---- transactions -----------------------------------------------------------------------

    def begin(self) -> None:
        """Start a write transaction, taking the write lock at once (a second writer waits)."""
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit the open transaction."""
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        """Abandon the open transaction, if any."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    # ---- nodes ------------------------------------------------------------------------------

    def nodes(self, label: str, keys: Sequence[str]) -> dict[str, NodeTuple]:
        """Stored nodes of ``label`` among ``keys``."""
        out: dict[str, NodeTuple] = {}
        for chunk in _chunks(keys):
            for key, props, prov, claims in self.conn.execute(
                "SELECT key, props, prov, claims FROM nodes "
                "WHERE label = ? AND key IN (SELECT value FROM json_each(?))",
                (label, chunk),
            ):
                out[key] = (label, key, json.loads(props), json.loads(prov), json.loads(claims))
        return out

    def existing_keys(self, label: str, keys: Sequence[str]) -> set[str]:
        """The subset of ``keys`` stored under ``label``."""
        found: set[str] = set()
        for chunk in _chunks(keys):
            found.update(
                k
                for (k,) in self.conn.execute(
                    "SELECT key FROM nodes WHERE label = ? AND key IN (SELECT value FROM json_each(?))",
                    (label, chunk),
                )
            )
        return found

    def put_nodes(self, rows: Iterable[NodeTuple]) -> None:
        """Insert or replace whole node rows."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO nodes (label, key, props, prov, claims) VALUES (?, ?, ?, ?, ?)",
            (
                (label, key, _dumps(props), _dumps(prov), _dumps(claims))
                for label, key, props, prov, claims in rows
            ),
        )

    def scan_keys(self, label: str) -> list[str]:
        """Every key of ``label``, in key order."""
        return [
            k for (k,) in self.conn.execute("SELECT key FROM nodes WHERE label = ? ORDER BY key", (label,))
        ]

    def find(self, label: str, prop: str, values: Sequence[Any]) -> list[NodeTuple]:
        """Nodes of ``label`` whose property ``prop`` equals one of ``values`` (in key order)."""
        # Sorted here, not with ORDER BY: that makes SQLite walk the (label, key) index over every node
        # of the label instead of seeking the property's expression index (measured: 135 ms against
        # 0.03 ms at 100,000 vessels).
        found = self.conn.execute(
            f"SELECT key, props, prov, claims FROM nodes WHERE {_path_sql(prop)} IN "
            "(SELECT value FROM json_each(?)) AND label = ?",
            (_dumps(list(values)), label),
        ).fetchall()
        return [
            (label, key, json.loads(props), json.loads(prov), json.loads(claims))
            for key, props, prov, claims in sorted(found)
        ]

    def all_nodes(self) -> Iterator[NodeTuple]:
        """Every node (to build the in-memory graph)."""
        for label, key, props, prov, claims in self.conn.execute(
            "SELECT label, key, props, prov, claims FROM nodes"
        ):
            yield label, key, json.loads(props), json.loads(prov), json.loads(claims)

    def node_counts(self) -> dict[str, int]:
        """Number of nodes per label."""
        return dict(self.conn.execute("SELECT label, count(*) FROM nodes GROUP BY label").fetchall())

    # ---- relationships ----------------------------------------------------------------------

    def edges_from(
        self, label: str, keys: Sequence[str], types: Sequence[str] | None, direction: str
    ) -> list[EdgeTuple]:
        """Relationships leaving (``out``) or entering (``in``) the given nodes, optionally of some types."""
        end_label, end = ("src_label", "src") if direction == "out" else ("dst_label", "dst")
        sql = (
            f"SELECT {_EDGE_COLUMNS} FROM edges WHERE {end_label} = ? "
            f"AND {end} IN (SELECT value FROM json_each(?))"
        )
        type_filter = types is not None
        if type_filter:
            sql += " AND type IN (SELECT value FROM json_each(?))"
        sql += " ORDER BY src_label, src, type, dst_label, dst, key"
        out: list[EdgeTuple] = []
        for chunk in _chunks(keys):
            params: tuple[Any, ...] = (
                (label, chunk, _dumps(list(types or ()))) if type_filter else (label, chunk)
            )
            out.extend(_edge(row) for row in self.conn.execute(sql, params))
        return out

    def edges_between(
        self, rel_type: str, src_label: str, dst_label: str, srcs: Sequence[str]
    ) -> list[EdgeTuple]:
        """Stored relationships of one type and end labels whose source is among ``srcs``."""
        out: list[EdgeTuple] = []
        for chunk in _chunks(srcs):
            out.extend(
                _edge(row)
                for row in self.conn.execute(
                    f"SELECT {_EDGE_COLUMNS} FROM edges WHERE src_label = ? "
                    "AND src IN (SELECT value FROM json_each(?)) AND type = ? AND dst_label = ?",
                    (src_label, chunk, rel_type, dst_label),
                )
            )
        return out

    def put_edges(self, rows: Iterable[EdgeTuple]) -> None:
        """Insert or replace whole relationship rows."""
        self.conn.executemany(
            f"INSERT OR REPLACE INTO edges ({_EDGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ((sl, s, t, dl, d, k, _dumps(props), _dumps(prov)) for sl, s, t, dl, d, k, props, prov in rows),
        )

    def all_edges(self) -> Iterator[EdgeTuple]:
        """Every relationship (to build the in-memory graph)."""
        for row in self.conn.execute(f"SELECT {_EDGE_COLUMNS} FROM edges"):
            yield _edge(row)

    def edge_counts(self) -> dict[str, int]:
        """Number of relationships per type."""
        return dict(self.conn.execute("SELECT type, count(*) FROM edges GROUP BY type").fetchall())

    def delete(
        self, nodes: Sequence[tuple[str, str]], edges: Sequence[tuple[str, str, str, str, str, str]]
    ) -> None:
        """Delete relationships (type, src label, src, dst label, dst, key), then nodes and whatever
        relationships still touch them, inside the open transaction."""
        self.conn.executemany(
            "DELETE FROM edges WHERE type = ? AND src_label = ? AND src = ? AND dst_label = ? AND dst = ? "
            "AND key = ?",
            edges,
        )
        self.conn.executemany("DELETE FROM edges WHERE src_label = ? AND src = ?", nodes)
        self.conn.executemany("DELETE FROM edges WHERE dst_label = ? AND dst = ?", nodes)
        self.conn.executemany("DELETE FROM nodes WHERE label = ? AND key = ?", nodes)

    def clear(self) -> None:
        """Delete every node and relationship in one transaction."""
        self.begin()
        try:
            self.conn.execute("DELETE FROM edges")
            self.conn.execute("DELETE FROM nodes")
            self.commit()
        except BaseException:
            self.rollback()
            raise


def _path_sql(prop: str) -> str:
    """``json_extract`` of one property, with the name inlined so an expression index can serve it.
    Property names come from the validated schema (letters, digits, underscores) and are checked here."""
    if not prop.replace("_", "").isalnum() or not prop.isascii():
        raise ValueError(f"not a property name: {prop!r}")
    return f"json_extract(props, '$.{prop}')"


def _edge(row: tuple[Any, ...]) -> EdgeTuple:
    sl, s, t, dl, d, k, props, prov = row
    return sl, s, t, dl, d, k, json.loads(props), json.loads(prov)
