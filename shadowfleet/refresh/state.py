"""Refresh state on disk: per-source snapshot state, the pending journal, the change log and the lock.

Layout under ``$SHADOWFLEET_HOME/refresh/``::

    refresh.lock                      one run at a time (fcntl; holds the running pid)
    <store>/                          one folder per graph: "memory", or "neo4j-<digest of URI+db>"
      changes.jsonl                   the change log, one JSON object per change
      runs.jsonl                      one line per finished run
      sources/<name>/state.json.gz    what the last applied snapshot said (hash, bundles)
      sources/<name>/pending.json.gz  the next state, written before the graph write
      sources/<name>/download/        fetched files of URL sources

Every file is replaced atomically (temporary file, fsync, rename, fsync the folder). The pending
journal is the next state plus the changes and the change log's length before they are appended; it
becomes the state by a rename once the graph write has committed and the log lines are written.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from graph.files import fsync_dir, write_atomic

STATE_VERSION = 1


class RefreshLocked(RuntimeError):
    """Another refresh holds the lock."""


def _encode(doc: dict[str, Any]) -> bytes:
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return gzip.compress(text.encode("utf-8"), compresslevel=1, mtime=0)


def _decode(path: Path) -> dict[str, Any] | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        doc = json.loads(gzip.decompress(data))
    except (OSError, EOFError, ValueError) as exc:
        raise RuntimeError(
            f"{path}: corrupt refresh state ({exc}); remove it to start that source afresh"
        ) from exc
    if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION:
        raise RuntimeError(f"{path}: not a refresh state of version {STATE_VERSION}")
    return doc


@dataclass
class SourceFiles:
    """The state files of one source."""

    folder: Path

    @property
    def state_path(self) -> Path:
        return self.folder / "state.json.gz"

    @property
    def pending_path(self) -> Path:
        return self.folder / "pending.json.gz"

    @property
    def download_dir(self) -> Path:
        return self.folder / "download"

    def load_state(self) -> dict[str, Any] | None:
        return _decode(self.state_path)

    def load_pending(self) -> dict[str, Any] | None:
        return _decode(self.pending_path)

    def write_pending(self, doc: dict[str, Any]) -> None:
        write_atomic(self.pending_path, _encode({**doc, "version": STATE_VERSION}))

    def commit_pending(self) -> None:
        """The pending journal becomes the state (one rename)."""
        os.replace(self.pending_path, self.state_path)
        fsync_dir(self.folder)

    def discard_pending(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.pending_path.unlink()
            fsync_dir(self.folder)


class StateDir:
    """The refresh folder of one store."""

    def __init__(self, root: Path, store_id: str) -> None:
        self.root = root
        self.folder = root / store_id

    def source(self, name: str) -> SourceFiles:
        return SourceFiles(self.folder / "sources" / name)

    def source_names(self) -> list[str]:
        base = self.folder / "sources"
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    @property
    def log_path(self) -> Path:
        return self.folder / "changes.jsonl"

    @property
    def runs_path(self) -> Path:
        return self.folder / "runs.jsonl"

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def append_log(self, lines: list[dict[str, Any]], offset: int, after_first: Any = None) -> None:
        """Cut the log back to ``offset`` (dropping what a killed run may have half-written), append."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a+b") as handle:
            handle.truncate(offset)
            handle.seek(offset)
            for index, line in enumerate(lines):
                handle.write((json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
                if index == 0 and after_first is not None:
                    handle.flush()
                    after_first()
            handle.flush()
            os.fsync(handle.fileno())

    def append_run(self, line: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.runs_path.open("ab") as handle:
            handle.write((json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())

    def read_log(self) -> list[dict[str, Any]]:
        try:
            text = self.log_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]


@contextlib.contextmanager
def run_lock(root: Path) -> Iterator[IO[str]]:
    """Hold the refresh lock for the duration; RefreshLocked when another run has it."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "refresh.lock"
    handle = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            raise RefreshLocked(f"another refresh is running ({holder}; lock {path})") from None
        handle.seek(0)
        handle.truncate()
        stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        handle.write(f"pid {os.getpid()}, started {stamp}")
        handle.flush()
        yield handle
    finally:
        handle.close()
