"""What every loader shares: options, rejects, results, file reading helpers and the format registry.

A loader is a pure transform: it reads its files (its only I/O) and returns graph records plus the
rows it rejected. It never touches a store. A file that is not the named format raises LoadError
before any record is produced; a single bad row becomes a Reject and the load goes on.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from graph.records import Provenance, Record

ProgressFn = Callable[[int], None]

# FORMAT name on the command line -> module in this package exposing `load(paths, options)`.
FORMATS: dict[str, str] = {
    "records": "loaders.records",
    "registry": "loaders.registry",
    "ofac": "loaders.ofac",
    "un": "loaders.un",
    "ftm": "loaders.ftm",
    "ownership": "loaders.ownership",
    "icij": "loaders.icij",
    "events": "loaders.events",
}


class LoadError(ValueError):
    """The input as a whole cannot be loaded; the message is one line naming the file and why."""


@dataclass(frozen=True)
class Reject:
    """A row that was not loaded, and why."""

    file: str
    line: int
    reason: str
    raw: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": self.reason, "raw": self.raw}


@dataclass
class LoadOptions:
    """Options common to loaders. ``retrieved_at`` defaults to each file's modification time."""

    mapping: Path | None = None
    as_of: str | None = None
    retrieved_at: str | None = None
    source: str | None = None
    progress: ProgressFn | None = None


@dataclass
class LoadOutput:
    """What a loader produced from its files."""

    records: list[Record] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    rows_read: int = 0
    # file name -> the retrieval time its records cite, and where that time came from
    retrieved: dict[str, str] = field(default_factory=dict)

    def extend(self, other: LoadOutput) -> None:
        self.records.extend(other.records)
        self.rejects.extend(other.rejects)
        self.rows_read += other.rows_read
        self.retrieved.update(other.retrieved)


class Loader(Protocol):
    def __call__(self, paths: Sequence[Path], options: LoadOptions) -> LoadOutput: ...


def get_loader(fmt: str) -> Loader:
    """The loader function registered for ``fmt``."""
    try:
        module = importlib.import_module(FORMATS[fmt])
    except KeyError:
        raise LoadError(f"unknown format {fmt!r}; choose one of {', '.join(sorted(FORMATS))}") from None
    load: Loader = module.load

    @functools.wraps(load)
    def load_and_mark(paths: Sequence[Path], options: LoadOptions) -> LoadOutput:
        output = load(paths, options)
        # Lazy: the reference table is read only when a loader has run.
        from loaders.registered_agents import marks

        output.records.extend(marks(output.records))
        return output

    return load_and_mark


def retrieved_at(path: Path, options: LoadOptions) -> str:
    """When the source file was retrieved: the explicit option, else the file's modification time (UTC)."""
    return retrieval(path, options)[0]


def retrieval(path: Path, options: LoadOptions, published: str | None = None) -> tuple[str, str]:
    """The time a file's records cite as retrieved, and where it came from: ``--retrieved-at``, else
    the publication time the file states (``published``: a list's own date), else the file's
    modification time, which on a copy or a checkout says little (the load summary says so)."""
    if options.retrieved_at:
        return options.retrieved_at, "--retrieved-at"
    if published:
        try:
            stamp = datetime.fromisoformat(published.replace("Z", "+00:00"))
        except ValueError:
            stamp = None
        if stamp is not None:
            stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
            text = stamp.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
            return text, "the publication time the file states"
    stamp = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    text = stamp.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return text, "the file's modification time: give --retrieved-at to state when it was obtained"


def provenance(source: str, path: Path, record_id: str | int, when: str) -> Provenance:
    """Provenance naming the source, the file and the row or record id within it."""
    return Provenance(source, f"{path.name}#{record_id}", when)


def require_file(path: Path) -> None:
    """Raise LoadError unless ``path`` is a readable file."""
    if not path.is_file():
        raise LoadError(f"{path}: no such file")


def read_text(path: Path, encodings: Sequence[str] = ("utf-8-sig",)) -> str:
    """Read a text file trying each encoding in turn; LoadError if none fits."""
    require_file(path)
    data = path.read_bytes()
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoadError(f"{path}: not valid {' or '.join(encodings)} text")


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any | Reject]]:
    """Yield (line number, parsed object or Reject) for each non-blank line of a JSON-lines file."""
    text = read_text(path)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, Reject(str(path), number, f"invalid JSON: {exc.msg}", line[:500])
