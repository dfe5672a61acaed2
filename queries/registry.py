"""Canned queries as data: one YAML file per query in this folder, validated against the graph schema.

A query file holds a name, a title, a description, typed parameters, the ordered output columns and the
Cypher. The Cypher is the one source: it runs on Neo4j, `shadowfleet query show` prints it and the Neo4j
Browser guide holds it. Loading a file checks that

* every label and relationship type written in the Cypher (``:Name``, no space after the colon) is
  declared in ``graph/schema.yaml``, and every ``n.prop`` / ``.prop`` names a declared property;
* every ``$param`` is declared and every declared parameter is used;
* a query that reads a date property takes ``as_of`` (a date);
* a variable-length pattern has a literal upper bound, and the query then takes ``max_hops`` (with a hard
  ``max``) and ``max_degree`` (the hub cap).

Any fault raises :class:`QueryDefinitionError` naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from graph.schema import RESERVED_PROPERTIES, TEMPORAL_PROPERTIES, Schema, default_schema
from queries.temporal import today

QUERIES_DIR = Path(__file__).resolve().parent
PARAM_TYPES = ("string", "int", "float", "date", "bool")
DECODERS = ("provenance",)
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
# Function namespaces that look like ``variable.property`` to the property check.
_NAMESPACES = frozenset({"duration", "date", "datetime", "localdatetime", "localtime", "time", "point", "db"})


class QueryDefinitionError(ValueError):
    """A query file is malformed or does not fit the schema; the message names the file."""


class UnknownQuery(ValueError):
    """No canned query has that name."""


class ParamError(ValueError):
    """A parameter value is missing, unknown or of the wrong type; the message names the parameter."""


@dataclass(frozen=True)
class Param:
    """A declared query parameter."""

    name: str
    type: str
    required: bool = False
    default: Any = None
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None

    def convert(self, raw: Any, query: str = "") -> Any:
        """Convert a raw value (a string from the command line, or a Python value) to the declared type."""
        if raw is None:
            return None
        where = f"query {query}: " if query else ""
        try:
            value = _convert(self.type, raw)
        except (TypeError, ValueError):
            raise ParamError(f"{where}parameter {self.name!r} expects {self.type}, got {raw!r}") from None
        if self.minimum is not None and value < self.minimum:
            raise ParamError(
                f"{where}parameter {self.name!r} must be at least {_num(self.minimum)}, got {value}"
            )
        if self.maximum is not None and value > self.maximum:
            raise ParamError(
                f"{where}parameter {self.name!r} must be at most {_num(self.maximum)}, got {value}"
            )
        return value

    def describe_default(self) -> str:
        """The default as shown to users."""
        return "" if self.default is None else str(self.default)


@dataclass(frozen=True)
class Column:
    """One output column, in order."""

    name: str
    description: str
    decode: str | None = None


@dataclass(frozen=True)
class QuerySpec:
    """A validated canned query."""

    name: str
    title: str
    description: str
    params: tuple[Param, ...]
    columns: tuple[Column, ...]
    cypher: str
    path: Path

    @property
    def module(self) -> str:
        """The embedded store's implementation: ``queries.memory.<name with underscores>``."""
        return "queries.memory." + self.name.replace("-", "_")

    @property
    def column_names(self) -> list[str]:
        """Output column names in order."""
        return [c.name for c in self.columns]

    def param(self, name: str) -> Param | None:
        """The declared parameter called ``name``, if any."""
        return next((p for p in self.params if p.name == name), None)

    def bind(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Every declared parameter with its converted value: given, else default, else None.

        Raises ParamError for an undeclared name, a bad value or a missing required value.
        """
        unknown = sorted(set(raw) - {p.name for p in self.params})
        if unknown:
            known = ", ".join(p.name for p in self.params) or "none"
            raise ParamError(f"query {self.name}: unknown parameter {unknown[0]!r} (parameters: {known})")
        values: dict[str, Any] = {}
        for param in self.params:
            given = raw.get(param.name)
            value = param.convert(given if given is not None else param.default, self.name)
            if value is None and param.required:
                raise ParamError(f"query {self.name}: parameter {param.name!r} is required")
            values[param.name] = value
        return values


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _convert(kind: str, raw: Any) -> Any:
    if kind == "string":
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise TypeError
        return str(raw)
    if kind == "int":
        if isinstance(raw, bool | float):
            raise TypeError
        return int(str(raw).strip()) if isinstance(raw, str) else int(raw)
    if kind == "float":
        if isinstance(raw, bool):
            raise TypeError
        return float(raw.strip()) if isinstance(raw, str) else float(raw)
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError
    if kind == "date":
        if isinstance(raw, datetime):
            return raw.date().isoformat()
        if isinstance(raw, date):
            return raw.isoformat()
        text = str(raw).strip()
        if text.lower() == "today":
            return today()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    raise TypeError


# ---- Cypher analysis ------------------------------------------------------------------------


def strip_cypher(cypher: str) -> str:
    """The Cypher with comments removed and string literals emptied, for the checks below."""
    out: list[str] = []
    i, n = 0, len(cypher)
    while i < n:
        ch = cypher[i]
        if cypher.startswith("//", i):
            j = cypher.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch in "'\"":
            j = i + 1
            while j < n and cypher[j] != ch:
                j += 2 if cypher[j] == "\\" else 1
            out.append(ch + ch)
            i = j + 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_LABELS = re.compile(r"(?<!:):([A-Z][A-Za-z0-9_]*(?:\|[A-Z][A-Za-z0-9_]*)*)")
_PROPS = re.compile(r"(?<![\w$.])([a-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)")
_PROJECTED = re.compile(r"[{,]\s*\.([A-Za-z_][A-Za-z0-9_]*)")
_PARAMS = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_VARLEN = re.compile(r"\[[^\]]*\*\s*(\d*)\s*(\.\.)?\s*(\d*)\s*\]")
_QUANT = re.compile(r"[)\->]\s*\{\s*(\d*)\s*,\s*(\d*)\s*\}")


def referenced_names(cypher: str) -> set[str]:
    """Labels and relationship types written as ``:Name`` in the Cypher."""
    names: set[str] = set()
    for match in _LABELS.finditer(strip_cypher(cypher)):
        names.update(match.group(1).split("|"))
    return names


def referenced_properties(cypher: str) -> set[str]:
    """Property names read as ``var.prop`` or projected as ``.prop``."""
    text = strip_cypher(cypher)
    props = {m.group(2) for m in _PROPS.finditer(text) if m.group(1) not in _NAMESPACES}
    props.update(m.group(1) for m in _PROJECTED.finditer(text))
    return props


def referenced_params(cypher: str) -> set[str]:
    """``$parameter`` names used by the Cypher."""
    return set(_PARAMS.findall(strip_cypher(cypher)))


def _variable_length(cypher: str, where: str) -> bool:
    text = strip_cypher(cypher)
    found = False
    for match in _VARLEN.finditer(text):
        found = True
        low, dots, high = match.groups()
        if not high and (dots or not low):
            raise QueryDefinitionError(f"{where}: variable-length pattern without a literal upper bound")
    for match in _QUANT.finditer(text):
        found = True
        if not match.group(2):
            raise QueryDefinitionError(f"{where}: quantified path pattern without a literal upper bound")
    return found


def _check_cypher(spec: QuerySpec, schema: Schema) -> None:
    where = str(spec.path)
    for name in sorted(referenced_names(spec.cypher)):
        if name not in schema.nodes and name not in schema.relationships:
            raise QueryDefinitionError(
                f"{where}: unknown label or relationship type {name!r} (not declared in {schema.path.name})"
            )
    known = set(TEMPORAL_PROPERTIES) | set(RESERVED_PROPERTIES)
    date_props = set(TEMPORAL_PROPERTIES)
    for node in schema.nodes.values():
        known.update(node.properties)
        date_props.update(p for p, kind in node.properties.items() if kind == "date")
    for rel in schema.relationships.values():
        known.update(rel.properties)
        date_props.update(p for p, kind in rel.properties.items() if kind == "date")
    props = referenced_properties(spec.cypher)
    for prop in sorted(props - known):
        raise QueryDefinitionError(f"{where}: unknown property {prop!r} (not declared in {schema.path.name})")
    used = referenced_params(spec.cypher)
    declared = {p.name for p in spec.params}
    for name in sorted(used - declared):
        raise QueryDefinitionError(f"{where}: parameter ${name} is used but not declared under params")
    for name in sorted(declared - used):
        raise QueryDefinitionError(f"{where}: parameter {name!r} is declared but the Cypher never uses it")
    if props & date_props:
        as_of = spec.param("as_of")
        if as_of is None or as_of.type != "date":
            raise QueryDefinitionError(
                f"{where}: the query reads dates, so it must take an 'as_of' date parameter"
            )
    if _variable_length(spec.cypher, where):
        hops = spec.param("max_hops")
        if hops is None or hops.type != "int" or hops.maximum is None or hops.default is None:
            raise QueryDefinitionError(
                f"{where}: a path query needs an int 'max_hops' parameter with a default and a max"
            )
        if spec.param("max_degree") is None:
            raise QueryDefinitionError(f"{where}: a path query needs a 'max_degree' hub cap parameter")


# ---- loading --------------------------------------------------------------------------------


def _text(data: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise QueryDefinitionError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _param(raw: Any, where: str, query: str) -> Param:
    if not isinstance(raw, Mapping):
        raise QueryDefinitionError(f"{where}: each parameter must be a mapping")
    name = _text(raw, "name", where)
    if not _PARAM_NAME.match(name):
        raise QueryDefinitionError(f"{where}: bad parameter name {name!r}")
    kind = raw.get("type")
    if kind not in PARAM_TYPES:
        raise QueryDefinitionError(f"{where}: parameter {name!r} has type {kind!r}; use one of {PARAM_TYPES}")
    extra = set(raw) - {"name", "type", "required", "default", "description", "min", "max"}
    if extra:
        raise QueryDefinitionError(f"{where}: parameter {name!r} has unknown field {sorted(extra)[0]!r}")
    param = Param(
        name=name,
        type=kind,
        required=bool(raw.get("required", False)),
        default=raw.get("default"),
        description=str(raw.get("description", "")).strip(),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
    )
    if param.default is not None:
        if isinstance(param.default, date):
            param = Param(**{**param.__dict__, "default": param.default.isoformat()})
        try:
            param.convert(param.default, query)
        except ParamError as exc:
            raise QueryDefinitionError(f"{where}: default of {name!r} is invalid ({exc})") from None
    return param


def _column(raw: Any, where: str) -> Column:
    if not isinstance(raw, Mapping):
        raise QueryDefinitionError(f"{where}: each column must be a mapping with name and description")
    decode = raw.get("decode")
    if decode is not None and decode not in DECODERS:
        raise QueryDefinitionError(f"{where}: column {raw.get('name')!r} has unknown decode {decode!r}")
    return Column(_text(raw, "name", where), _text(raw, "description", where), decode)


def load_query(path: Path, schema: Schema | None = None) -> QuerySpec:
    """Read and validate one query file."""
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise QueryDefinitionError(f"{where}: cannot read ({' '.join(str(exc).split())})") from exc
    if not isinstance(data, Mapping):
        raise QueryDefinitionError(f"{where}: a query file must be a mapping")
    extra = set(data) - {"name", "title", "description", "params", "columns", "cypher"}
    if extra:
        raise QueryDefinitionError(f"{where}: unknown field {sorted(extra)[0]!r}")
    name = _text(data, "name", where)
    if not _NAME.match(name) or name != path.stem:
        raise QueryDefinitionError(f"{where}: name {name!r} must be lower-case and match the file name")
    params = tuple(_param(p, where, name) for p in data.get("params") or [])
    if len({p.name for p in params}) != len(params):
        raise QueryDefinitionError(f"{where}: duplicate parameter names")
    columns = tuple(_column(c, where) for c in data.get("columns") or [])
    if not columns or len({c.name for c in columns}) != len(columns):
        raise QueryDefinitionError(f"{where}: 'columns' must list at least one column, each name once")
    spec = QuerySpec(
        name=name,
        title=_text(data, "title", where),
        description=_text(data, "description", where),
        params=params,
        columns=columns,
        cypher=_text(data, "cypher", where),
        path=path,
    )
    _check_cypher(spec, schema or default_schema())
    return spec


def load_all(directory: Path = QUERIES_DIR, schema: Schema | None = None) -> dict[str, QuerySpec]:
    """Every query in ``directory`` by name, in name order."""
    specs = [load_query(path, schema) for path in sorted(directory.glob("*.yaml"))]
    return {spec.name: spec for spec in specs}


@cache
def registry() -> dict[str, QuerySpec]:
    """The shipped queries, loaded and validated once."""
    return load_all()


@cache
def _one(name: str) -> QuerySpec | None:
    path = QUERIES_DIR / f"{name}.yaml"
    if not name.replace("-", "").isalnum() or not path.is_file():
        return None
    spec = load_query(path)
    return spec if spec.name == name else None


def get(name: str) -> QuerySpec:
    """The shipped query called ``name``; raises UnknownQuery listing the available names.

    A query is read from its own file when that file bears its name, so that one command does not
    parse and validate every query (a cold dossier is a tenth of a second faster)."""
    spec = _one(name)
    if spec is not None:
        return spec
    specs = registry()
    if name not in specs:
        raise UnknownQuery(f"unknown query {name!r}; available: {', '.join(specs)}")
    return specs[name]
