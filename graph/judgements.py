"""Reviewed entity-resolution decisions, kept in a YAML file that can be reviewed in git.

The file (default ``$SHADOWFLEET_HOME/judgements.yaml``) looks like this::

    version: 1
    judgements:
      - left: {label: Company, key: "co:1f2e3d4c5b6a7980"}
        right: {label: Company, key: "imoco:5145892"}
        decision: same            # or: different
        by: alice
        at: "2024-05-01T09:30:00Z"
        note: UN and OFAC spellings of one company

A pair is unordered and has at most one decision: deciding it again replaces the entry in place (git
keeps the history). Entries are otherwise kept in the order they were made, so a review shows up in a
diff as appended lines. ``same`` pairs become POSSIBLY_SAME_AS links with method ``judgement`` and
score 1.0; ``different`` pairs are never proposed again.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from graph.files import write_atomic

FILE_NAME = "judgements.yaml"
FORMAT_VERSION = 1
DECISIONS = ("same", "different")
Decision = Literal["same", "different"]


class JudgementError(ValueError):
    """The judgements file or a decision is malformed; the message names the file and the entry."""


@dataclass(frozen=True, order=True)
class NodeRef:
    """A node by label and key; written ``Label:key`` (``Company:imoco:5145892``)."""

    label: str
    key: str

    def __str__(self) -> str:
        return f"{self.label}:{self.key}"

    @staticmethod
    def parse(text: str) -> NodeRef:
        """Parse ``Label:key``; the label is everything before the first colon."""
        label, sep, key = text.partition(":")
        if not sep or not label or not key:
            raise JudgementError(f"{text!r} is not a node reference of the form Label:key")
        return NodeRef(label, key)

    @staticmethod
    def from_yaml(value: Any, where: str) -> NodeRef:
        if isinstance(value, str):
            return NodeRef.parse(value)
        if isinstance(value, dict) and value.get("label") and value.get("key"):
            return NodeRef(str(value["label"]), str(value["key"]))
        raise JudgementError(f"{where}: expected {{label, key}} or 'Label:key', got {value!r}")

    def to_yaml(self) -> dict[str, str]:
        return {"label": self.label, "key": self.key}


@dataclass(frozen=True)
class Judgement:
    """One reviewed decision about a pair of nodes."""

    left: NodeRef
    right: NodeRef
    decision: Decision
    by: str
    at: str
    note: str = ""

    @property
    def pair(self) -> frozenset[NodeRef]:
        """The unordered pair this decision is about."""
        return frozenset((self.left, self.right))

    def to_yaml(self) -> dict[str, Any]:
        return {
            "left": self.left.to_yaml(),
            "right": self.right.to_yaml(),
            "decision": self.decision,
            "by": self.by,
            "at": self.at,
            "note": self.note,
        }

    @staticmethod
    def from_yaml(entry: Any, where: str) -> Judgement:
        if not isinstance(entry, dict):
            raise JudgementError(f"{where}: expected a mapping, got {entry!r}")
        decision = entry.get("decision")
        if decision not in DECISIONS:
            raise JudgementError(f"{where}: decision must be 'same' or 'different', got {decision!r}")
        left = NodeRef.from_yaml(entry.get("left"), f"{where}.left")
        right = NodeRef.from_yaml(entry.get("right"), f"{where}.right")
        if left == right:
            raise JudgementError(f"{where}: left and right are the same node {left}")
        return Judgement(
            left,
            right,
            decision,
            str(entry.get("by") or ""),
            str(entry.get("at") or ""),
            str(entry.get("note") or ""),
        )


def default_path() -> Path:
    """``$SHADOWFLEET_HOME/judgements.yaml`` (the data directory of ``graph.config.data_home``)."""
    from graph.config import data_home

    return data_home() / FILE_NAME


def current_user() -> str:
    """Who is deciding: ``$SHADOWFLEET_USER``, else the login name."""
    name = os.environ.get("SHADOWFLEET_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def now() -> str:
    """The current UTC time, to the second, ISO-8601 with a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Judgements:
    """The decisions of one judgements file, in file order. A missing file holds no decisions."""

    def __init__(self, items: list[Judgement] | None = None, path: Path | None = None) -> None:
        self.path = path
        self._items: list[Judgement] = []
        self._by_pair: dict[frozenset[NodeRef], int] = {}
        for item in items or []:
            self._put(item)

    def __iter__(self) -> Iterator[Judgement]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def _put(self, item: Judgement) -> None:
        at = self._by_pair.get(item.pair)
        if at is None:
            self._by_pair[item.pair] = len(self._items)
            self._items.append(item)
        else:
            self._items[at] = item

    def get(self, a: NodeRef, b: NodeRef) -> Judgement | None:
        """The decision about a pair, in either order, or None."""
        at = self._by_pair.get(frozenset((a, b)))
        return None if at is None else self._items[at]

    def decide(
        self,
        left: NodeRef,
        right: NodeRef,
        decision: Decision,
        *,
        by: str | None = None,
        note: str = "",
        at: str | None = None,
    ) -> Judgement:
        """Record (or replace) the decision about a pair and return it. Call :meth:`save` to keep it."""
        if decision not in DECISIONS:
            raise JudgementError(f"decision must be 'same' or 'different', got {decision!r}")
        if left == right:
            raise JudgementError(f"cannot judge {left} against itself")
        judgement = Judgement(left, right, decision, by or current_user(), at or now(), note)
        self._put(judgement)
        return judgement

    @classmethod
    def load(cls, path: Path | None = None) -> Judgements:
        """Read a judgements file (default :func:`default_path`); a missing file gives no decisions."""
        path = path or default_path()
        if not path.exists():
            return cls([], path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise JudgementError(f"{path}: not valid YAML ({exc})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("judgements", []), list):
            raise JudgementError(f"{path}: expected a mapping with a 'judgements' list")
        if data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
            raise JudgementError(f"{path}: unsupported version {data.get('version')!r}")
        entries = data.get("judgements") or []
        return cls([Judgement.from_yaml(e, f"{path}: judgements[{i}]") for i, e in enumerate(entries)], path)

    def save(self, path: Path | None = None) -> Path:
        """Write the file atomically (temporary file, then rename) and return its path."""
        target = path or self.path or default_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        doc = {"version": FORMAT_VERSION, "judgements": [j.to_yaml() for j in self._items]}
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=None, width=110)
        write_atomic(target, text.encode("utf-8"))
        self.path = target
        return target


@contextlib.contextmanager
def editing(path: Path | None = None) -> Iterator[Judgements]:
    """Load the file under an exclusive lock, yield it for changes, then save it.

    Two reviewers deciding at the same moment each see the other's decision instead of overwriting it.
    """
    path = path or default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / f".{path.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            judgements = Judgements.load(path)
            yield judgements
            judgements.save(path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
