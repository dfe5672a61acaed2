"""The graph schema: loaded from ``schema.yaml``, validated, and turned into Neo4j constraints.

The schema is the only place labels, relationship types and property names come from. Stores and
queries consult it before they interpolate a label or type into Cypher, so that Cypher never carries a
name that was not declared here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCHEMA_PATH = Path(__file__).with_name("schema.yaml")

PROPERTY_TYPES = frozenset({"string", "int", "float", "bool", "date", "string_list"})
TEMPORAL_PROPERTIES: dict[str, str] = {
    "valid_from": "date",
    "valid_to": "date",
    "first_seen": "date",
    "last_seen": "date",
    # A change seen between two snapshots: the new period began after began_after, by valid_from; the
    # old one ended after ended_after, by valid_to (graph/history.py).
    "began_after": "date",
    "ended_after": "date",
    # The observations a period was folded from (date and provenance), to fold again exactly.
    "sightings": "string_list",
}
# Every relationship may say which key its source gave the end that the identity layer resolved
# (graph/identity): the join stays visible and can be undone.
IDENTITY_PROPERTIES: dict[str, str] = {"resolved_from": "string"}
# Names every store manages itself; a record may not set them as ordinary properties.
RESERVED_PROPERTIES = frozenset({"key", "provenance", "claims", "label"})
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}([T ][0-9:.+\-Z]*)?)?)?$")


class SchemaError(ValueError):
    """The schema file, or a record checked against it, is invalid."""


@dataclass(frozen=True)
class NodeType:
    """A node label with its declared properties."""

    label: str
    description: str
    properties: Mapping[str, str]
    indexes: tuple[str, ...] = ()
    hub: bool = False
    event: bool = False
    caption: str = "key"


@dataclass(frozen=True)
class RelType:
    """A relationship type, the labels allowed at each end, and its declared properties."""

    type: str
    description: str
    sources: frozenset[str]
    targets: frozenset[str]
    properties: Mapping[str, str]
    temporal: bool = False
    timeline: str | None = None
    indexes: tuple[str, ...] = ()

    @property
    def single_valued(self) -> bool:
        """True when one end holds at most one such relationship at a time."""
        return self.timeline is not None


@dataclass(frozen=True)
class Schema:
    """The validated graph model."""

    version: int
    nodes: Mapping[str, NodeType]
    relationships: Mapping[str, RelType]
    path: Path = field(default=SCHEMA_PATH)

    def node(self, label: str) -> NodeType:
        """Return the node type for ``label`` or raise SchemaError naming it."""
        try:
            return self.nodes[label]
        except KeyError:
            raise SchemaError(f"unknown node label {label!r} (not declared in {self.path.name})") from None

    def rel(self, rel_type: str) -> RelType:
        """Return the relationship type or raise SchemaError naming it."""
        try:
            return self.relationships[rel_type]
        except KeyError:
            raise SchemaError(
                f"unknown relationship type {rel_type!r} (not declared in {self.path.name})"
            ) from None

    def check_node(self, label: str, props: Mapping[str, Any]) -> None:
        """Raise SchemaError if ``props`` do not fit the declared properties of ``label``."""
        _check_props(f"node {label}", self.node(label).properties, props)

    def check_edge(self, rel_type: str, src_label: str, dst_label: str, props: Mapping[str, Any]) -> None:
        """Raise SchemaError if the relationship's ends or properties do not fit the schema."""
        rel = self.rel(rel_type)
        if src_label not in rel.sources:
            raise SchemaError(f"{rel_type} cannot start at {src_label} (allowed: {sorted(rel.sources)})")
        if dst_label not in rel.targets:
            raise SchemaError(f"{rel_type} cannot end at {dst_label} (allowed: {sorted(rel.targets)})")
        _check_props(f"relationship {rel_type}", rel.properties, props)

    def constraints_cypher(self) -> list[str]:
        """Cypher statements creating a key uniqueness constraint per label and the declared node indexes.

        Labels and property names come from the validated schema, never from input data.
        """
        statements: list[str] = []
        for label, node in sorted(self.nodes.items()):
            statements.append(
                f"CREATE CONSTRAINT {label.lower()}_key IF NOT EXISTS FOR (n:{label}) REQUIRE n.key IS UNIQUE"
            )
            for prop in node.indexes:
                statements.append(
                    f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"
                )
        for rel_type, rel in sorted(self.relationships.items()):
            for prop in rel.indexes:
                statements.append(
                    f"CREATE INDEX rel_{rel_type.lower()}_{prop} IF NOT EXISTS "
                    f"FOR ()-[r:{rel_type}]-() ON (r.{prop})"
                )
        return statements

    def obsolete_cypher(self) -> list[str]:
        """Statements dropping indexes earlier versions created and that now do harm.

        Relationship-key indexes made the planner seek ``r.key`` for every MERGE: on types whose key is
        always "" each seek returned every relationship of the type, and loads went quadratic. A MERGE
        anchored on its two bound end nodes needs no index.
        """
        return [f"DROP INDEX rel_{rel_type.lower()}_key IF EXISTS" for rel_type in sorted(self.relationships)]


def _check_props(what: str, declared: Mapping[str, str], props: Mapping[str, Any]) -> None:
    for name, value in props.items():
        if name in RESERVED_PROPERTIES:
            raise SchemaError(f"{what}: property {name!r} is managed by the store")
        kind = declared.get(name)
        if kind is None:
            raise SchemaError(f"{what}: undeclared property {name!r}")
        if value is not None and not _fits(kind, value):
            raise SchemaError(f"{what}: property {name!r} expects {kind}, got {value!r}")


def _fits(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "date":
        return isinstance(value, str) and bool(_DATE.match(value))
    if kind == "string_list":
        return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    return False


def _props(where: str, raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SchemaError(f"{where}: properties must be a mapping")
    for name, kind in raw.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise SchemaError(f"{where}: bad property name {name!r}")
        if name in RESERVED_PROPERTIES:
            raise SchemaError(f"{where}: property {name!r} is reserved")
        if kind not in PROPERTY_TYPES:
            raise SchemaError(f"{where}: property {name!r} has unknown type {kind!r}")
    return dict(raw)


def parse_schema(data: Any, path: Path = SCHEMA_PATH) -> Schema:
    """Validate a parsed schema document and build the Schema, raising SchemaError on any fault."""
    if not isinstance(data, dict) or "nodes" not in data or "relationships" not in data:
        raise SchemaError(f"{path}: a schema needs 'nodes' and 'relationships'")
    nodes: dict[str, NodeType] = {}
    for label, spec in (data["nodes"] or {}).items():
        if not _NAME.match(str(label)) or not str(label)[0].isupper():
            raise SchemaError(f"{path}: bad node label {label!r}")
        spec = spec or {}
        props = _props(f"{path}: node {label}", spec.get("properties"))
        indexes = tuple(spec.get("indexes", ()))
        for prop in indexes:
            if prop not in props:
                raise SchemaError(f"{path}: node {label} indexes undeclared property {prop!r}")
        caption = spec.get("caption", "key")
        if caption != "key" and caption not in props:
            raise SchemaError(f"{path}: node {label} captions undeclared property {caption!r}")
        nodes[label] = NodeType(
            label=label,
            description=str(spec.get("description", "")),
            properties=props,
            indexes=indexes,
            hub=bool(spec.get("hub", False)),
            event=bool(spec.get("event", False)),
            caption=caption,
        )
    rels: dict[str, RelType] = {}
    for rel_type, spec in (data["relationships"] or {}).items():
        if not re.match(r"^[A-Z][A-Z0-9_]*$", str(rel_type)):
            raise SchemaError(f"{path}: relationship type {rel_type!r} must be UPPER_SNAKE_CASE")
        spec = spec or {}
        ends: dict[str, frozenset[str]] = {}
        for end in ("from", "to"):
            labels = spec.get(end)
            if not labels:
                raise SchemaError(f"{path}: relationship {rel_type} needs '{end}'")
            for label in labels:
                if label not in nodes:
                    raise SchemaError(f"{path}: relationship {rel_type} refers to unknown label {label!r}")
            ends[end] = frozenset(labels)
        temporal = bool(spec.get("temporal", False))
        timeline = spec.get("timeline")
        if timeline not in (None, "from", "to"):
            raise SchemaError(f"{path}: relationship {rel_type}: timeline must be 'from' or 'to'")
        if timeline and not temporal:
            raise SchemaError(f"{path}: relationship {rel_type}: timeline needs temporal: true")
        props = _props(f"{path}: relationship {rel_type}", spec.get("properties"))
        if temporal:
            props = {**props, **TEMPORAL_PROPERTIES}
        props = {**props, **IDENTITY_PROPERTIES}
        rel_indexes = tuple(spec.get("indexes", ()))
        for prop in rel_indexes:
            if prop not in props or prop == "key":
                raise SchemaError(f"{path}: relationship {rel_type} indexes undeclared property {prop!r}")
        rels[rel_type] = RelType(
            type=rel_type,
            description=str(spec.get("description", "")),
            sources=ends["from"],
            targets=ends["to"],
            properties=props,
            temporal=temporal,
            timeline=timeline,
            indexes=rel_indexes,
        )
    return Schema(version=int(data.get("version", 1)), nodes=nodes, relationships=rels, path=path)


def load_schema(path: Path = SCHEMA_PATH) -> Schema:
    """Read and validate a schema file."""
    with path.open(encoding="utf-8") as handle:
        return parse_schema(yaml.safe_load(handle), path)


@cache
def default_schema() -> Schema:
    """The schema shipped with shadowfleet, loaded once."""
    return load_schema(SCHEMA_PATH)
