"""Crafted query worlds: small YAML files of records under tests/data/queries, loaded into either store.

A world file lists ``nodes`` as ``[Label, key, {props}]`` and ``edges`` as
``[TYPE, "Label:key", "Label:key", {props}, key?]`` (the key defaults to the period's valid_from). Dates
may be written bare; they become ISO strings. Every record gets its own provenance
(``test-<world>``, ``<world>.yaml#<n>``). This module also holds the helpers the query tests share.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.schema import default_schema
from graph.store import Store
from queries.engine import run_query

WORLDS = Path(__file__).resolve().parent / "data" / "queries"
RETRIEVED = "2024-06-01T00:00:00Z"


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _ref(text: str) -> tuple[str, str]:
    label, _, key = text.partition(":")
    return label, key


def world_records(name: str) -> list[Record]:
    """The records of one crafted world."""
    path = WORLDS / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    schema = default_schema()
    records: list[Record] = []
    for i, (label, key, *rest) in enumerate(data.get("nodes") or [], start=1):
        props = {k: _plain(v) for k, v in (rest[0] if rest else {}).items()}
        for prop, kind in schema.node(label).properties.items():
            if kind == "float" and isinstance(props.get(prop), int):
                props[prop] = float(props[prop])
        prov = Provenance(f"test-{name}", f"{name}.yaml#n{i}", RETRIEVED)
        records.append(NodeRecord(label, str(key), props, prov))
    for i, (rel_type, src, dst, *rest) in enumerate(data.get("edges") or [], start=1):
        props = {k: _plain(v) for k, v in (rest[0] if rest else {}).items()}
        for prop, kind in schema.rel(rel_type).properties.items():
            if kind == "float" and isinstance(props.get(prop), int):
                props[prop] = float(props[prop])
        key = str(rest[1]) if len(rest) > 1 else str(props.get("valid_from") or "")
        (src_label, src_key), (dst_label, dst_key) = _ref(src), _ref(dst)
        prov = Provenance(f"test-{name}", f"{name}.yaml#e{i}", RETRIEVED)
        records.append(EdgeRecord(rel_type, src_label, src_key, dst_label, dst_key, key, props, prov))
    return records


def load_world(store: Store, name: str) -> Store:
    """Write a crafted world into an (empty) store and return the store."""
    store.write(world_records(name))
    return store


def run(store: Store, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run a canned query with keyword parameters."""
    return run_query(store, name, params)


def pick(rows: list[dict[str, Any]], *columns: str) -> list[tuple[Any, ...]]:
    """The chosen columns of every row, as tuples, in row order."""
    return [tuple(row[c] for c in columns) for row in rows]


def world_names() -> list[str]:
    """Every crafted world."""
    return sorted(p.stem for p in WORLDS.glob("*.yaml"))


@pytest.mark.parametrize("name", world_names())
def test_world_files_fit_the_schema(name: str) -> None:
    records = world_records(name)
    schema = default_schema()
    keys = {(r.label, r.key) for r in records if isinstance(r, NodeRecord)}
    for record in records:
        if isinstance(record, NodeRecord):
            schema.check_node(record.label, record.props)
        else:
            schema.check_edge(record.type, record.src_label, record.dst_label, record.props)
            assert (record.src_label, record.src) in keys, record
            assert (record.dst_label, record.dst) in keys, record
