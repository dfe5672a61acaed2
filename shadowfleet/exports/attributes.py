"""Typed attribute columns for the XML graph formats (GraphML, GEXF), derived from the schema.

Both formats declare their attributes before the first node, so the columns come from
graph/schema.yaml: a few fixed ones (caption, label or type, key, provenance) and then every property
any label (or relationship type) declares, with its type. A property name means the same type wherever
it is declared (schema.yaml keeps it so; :func:`columns` checks). Lists become JSON arrays in a string
attribute, because neither format has a list type that Gephi, yEd and networkx all read.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graph.schema import Schema
from graph.store import EdgeView, NodeView
from shadowfleet.exports.source import ExportError, caption, provenance_json

# Characters XML 1.0 cannot carry even escaped; they become U+FFFD.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.\-:]")


@dataclass(frozen=True)
class Column:
    """One attribute: its name and schema type (string, int, float, bool, date, string_list)."""

    name: str
    kind: str


NODE_FIXED = (Column("label", "string"), Column("type", "string"), Column("key", "string"))
EDGE_FIXED = (Column("label", "string"), Column("rel_type", "string"), Column("rel_key", "string"))
PROVENANCE = Column("provenance", "string")


def _union(declared: Iterable[Mapping[str, str]], fixed: tuple[Column, ...], what: str) -> list[Column]:
    kinds: dict[str, str] = {}
    for props in declared:
        for name, kind in props.items():
            if kinds.setdefault(name, kind) != kind:
                raise ExportError(f"{what} property {name!r} is declared as {kinds[name]} and as {kind}")
    taken = {c.name for c in fixed} | {PROVENANCE.name}
    clash = sorted(taken & set(kinds))
    if clash:
        raise ExportError(f"{what} property {clash[0]!r} clashes with a fixed export attribute")
    return [*fixed, *(Column(n, kinds[n]) for n in sorted(kinds)), PROVENANCE]


def node_columns(schema: Schema) -> list[Column]:
    """Node attributes: label (the caption), type (the node label), key, every property, provenance."""
    return _union((t.properties for t in schema.nodes.values()), NODE_FIXED, "node")


def edge_columns(schema: Schema) -> list[Column]:
    """Relationship attributes: label and rel_type (the type), rel_key (its key: networkx reserves ``key``),
    every property, provenance."""
    return _union((t.properties for t in schema.relationships.values()), EDGE_FIXED, "relationship")


def clean(text: str) -> str:
    """Text XML 1.0 can hold: illegal control characters replaced by U+FFFD."""
    return _XML_ILLEGAL.sub("\ufffd", text)


def element_id(label: str, key: str) -> str:
    """A node id unique across labels and valid as an XML NMTOKEN: ``Label:key`` with every character
    outside ``[A-Za-z0-9.-:]`` written as ``_HEX_`` (so the mapping is one-to-one)."""
    return f"{label}:" + _ID_UNSAFE.sub(lambda m: f"_{ord(m.group()):x}_", key)


def encode(kind: str, value: Any) -> str:
    """One property value as attribute text."""
    if kind == "string_list" or isinstance(value, list | tuple):
        return json.dumps(list(value), ensure_ascii=False)
    if kind == "bool" or isinstance(value, bool):
        return "true" if value else "false"
    if kind == "float":
        number = float(value)
        return repr(number) if math.isfinite(number) else ("NaN" if math.isnan(number) else str(number))
    return str(value)


def node_values(schema: Schema, node: NodeView, known: set[str]) -> dict[str, str]:
    """Attribute name -> text for one node (absent properties are left out)."""
    where = f"{node.label} {node.key!r}"
    values = {"label": caption(schema, node), "type": node.label, "key": node.key}
    kinds = schema.node(node.label).properties
    for name, value in node.props.items():
        if name not in known:
            raise ExportError(f"{where}: property {name!r} is not declared in the schema")
        if value is not None:
            values[name] = encode(kinds.get(name, "string"), value)
    values["provenance"] = provenance_json(node.provenance, where)
    return values


def edge_values(schema: Schema, edge: EdgeView, known: set[str]) -> dict[str, str]:
    """Attribute name -> text for one relationship."""
    where = f"{edge.type} {edge.src!r}->{edge.dst!r}"
    values = {"label": edge.type, "rel_type": edge.type, "rel_key": edge.key}
    kinds = schema.rel(edge.type).properties
    for name, value in edge.props.items():
        if name not in known:
            raise ExportError(f"{where}: property {name!r} is not declared in the schema")
        if value is not None:
            values[name] = encode(kinds.get(name, "string"), value)
    values["provenance"] = provenance_json(edge.provenance, where)
    return values
