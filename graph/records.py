"""Immutable node and edge records: what loaders yield and stores consume.

A record names its label or relationship type from the schema, a key, plain properties and the
provenance of the fact. Stores merge records on their keys, so yielding the same record twice is
harmless: that is what makes loads idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a fact came from: the source, the record within it, and when the source was retrieved.

    ``retrieved_at`` is the time the source data was obtained (by default the file's modification
    time), not the time of the load, so loading the same file twice yields identical provenance.
    """

    source: str
    record: str
    retrieved_at: str

    def encode(self) -> str:
        """Canonical JSON form, as stored in the graph's ``provenance`` list."""
        return _encode_provenance(self)

    @staticmethod
    def decode(text: str) -> Provenance:
        """Inverse of :meth:`encode`."""
        data = json.loads(text)
        return Provenance(data["source"], data["record"], data["retrieved_at"])


@lru_cache(maxsize=65_536)
def _encode_provenance(prov: Provenance) -> str:
    # Many records of one source row share a Provenance; encoding it once is a large part of a load.
    return (
        f'{{"record":{_json_text(prov.record)},"retrieved_at":{_json_text(prov.retrieved_at)},'
        f'"source":{_json_text(prov.source)}}}'
    )


def _json_text(text: str) -> str:
    """``json.dumps(text)``, without its machinery for the common case of plain printable ASCII."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text)


def _freeze(props: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not props:
        return _EMPTY
    clean = {}
    for name, value in props.items():
        if value is None:
            continue
        clean[name] = tuple(value) if isinstance(value, list) else value
    return MappingProxyType(clean)


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """A node: its label, its key (unique within the label), properties and provenance.

    Properties whose value is None are dropped: absence means unknown, and a later source never erases
    what an earlier one stated. ``observed`` is the date the record's statements held when the source
    says so (a registry snapshot's date); it ranks them against other sources' (graph/evidence.py).
    """

    label: str
    key: str
    props: Mapping[str, Any] = field(default_factory=dict)
    provenance: Provenance | None = None
    observed: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "props", _freeze(self.props))
        if not self.key:
            raise ValueError(f"{self.label} record without a key")


@dataclass(frozen=True, slots=True)
class EdgeRecord:
    """A directed relationship between two nodes given by label and key.

    ``key`` tells apart parallel relationships of the same type between the same nodes (for a dated
    identity period it is its start). ``observed`` is set instead of valid_from/valid_to when a
    snapshot only says the fact held on that date; the store folds such observations into periods.
    """

    type: str
    src_label: str
    src: str
    dst_label: str
    dst: str
    key: str = ""
    props: Mapping[str, Any] = field(default_factory=dict)
    provenance: Provenance | None = None
    observed: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "props", _freeze(self.props))
        if not self.src or not self.dst:
            raise ValueError(f"{self.type} record without both ends")

    @property
    def identity(self) -> tuple[str, str, str, str, str, str]:
        """What makes two edge records the same relationship."""
        return (self.type, self.src_label, self.src, self.dst_label, self.dst, self.key)


Record = NodeRecord | EdgeRecord


def plain(value: Any) -> Any:
    """Turn frozen record values (tuples) back into JSON- and Neo4j-friendly lists."""
    return list(value) if isinstance(value, tuple) else value
