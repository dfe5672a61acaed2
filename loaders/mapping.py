"""YAML column mappings: which columns of a CSV (or keys of a JSON line) feed which loader field.

A mapping file names the format it is for and maps each field to candidate columns (the first one
present in the file wins, compared without case, spaces or punctuation), or to a constant::

    format: registry
    dates: {order: DMY}          # how to read ambiguous numeric dates: DMY, MDY or YMD
    csv: {delimiter: ";", encodings: [utf-8-sig, cp1252]}
    fields:
      imo: {columns: [IMO, "IMO number"], required: true}
      name: [Name, "Ship name"]
      flag: Flag
      vessel_type: {constant: Crude oil tanker}
      relation: {column: Role, values: {Eigner: registered_owner}}

Each loader declares its fields and their kinds in a catalogue; the mapping is validated against it
when loaded, and any fault raises LoadError naming the mapping file and the fault. Values in
``countries.EMPTY_VALUES`` ("NA", "Unknown", "-", ...) count as empty.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graph.records import Provenance, Record
from loaders.base import (
    LoadError,
    LoadOptions,
    LoadOutput,
    Reject,
    iter_jsonl,
    provenance,
    read_text,
    require_file,
    retrieved_at,
)
from loaders.countries import EMPTY_VALUES, lookup_country
from loaders.dates import ORDERS, parse_date, parse_datetime

MAPPINGS_DIR = Path(__file__).with_name("mappings")
KINDS = frozenset(
    {"text", "raw", "int", "float", "date", "partial_date", "datetime", "country", "list", "pct", "fraction"}
)
JSON_SUFFIXES = frozenset({".jsonl", ".ndjson", ".json"})
_TOP_KEYS = frozenset({"format", "description", "dates", "csv", "fields"})
_FIELD_KEYS = frozenset({"column", "columns", "constant", "required", "values", "separator", "order"})
_SEPARATORS = re.compile(r"\s*[;|\n]\s*")


@dataclass(frozen=True)
class FieldDef:
    """A field a loader accepts: its kind, whether it is required by default, and what it means."""

    kind: str = "text"
    required: bool = False
    doc: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}")


Catalogue = Mapping[str, FieldDef]


@dataclass(frozen=True)
class FieldSpec:
    """One field as a mapping declares it."""

    name: str
    kind: str
    columns: tuple[str, ...] = ()
    constant: Any = None
    required: bool = False
    values: Mapping[str, str] = field(default_factory=dict)
    separator: str | None = None
    order: str | None = None


class RowError(ValueError):
    """A value in a row cannot be read; the message names the field."""


def column_id(name: str) -> str:
    """How column names are compared: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]+", "", name.lower())


def is_empty(value: Any) -> bool:
    """True for None, blank text and the placeholders of ``EMPTY_VALUES``."""
    if value is None:
        return True
    if isinstance(value, str):
        return " ".join(value.split()).upper() in EMPTY_VALUES
    return isinstance(value, list | tuple | dict) and not value


def parse_number(raw: Any) -> float:
    """A number from "45,000", "45 000", "12,5", "45000 t"; ValueError when there is none."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    text = str(raw).strip().replace("\u00a0", " ")
    text = re.sub(r"\s*[A-Za-z%]+\.?$", "", text).strip()
    if re.fullmatch(r"[+-]?\d{1,3}(?:[ ,]\d{3})+(?:\.\d+)?", text):
        text = text.replace(",", "").replace(" ", "")
    elif re.fullmatch(r"[+-]?\d+,\d+", text):
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"not a number: {raw!r}") from None


def convert(kind: str, raw: Any, order: str = "DMY", separator: str | None = None) -> Any:
    """Turn a non-empty raw value into the kind's Python value; ValueError when it cannot."""
    if kind == "raw":
        return raw if isinstance(raw, list) else str(raw).strip()
    if kind == "text":
        return " ".join(str(raw).split())
    if kind == "list":
        if isinstance(raw, list):
            items = raw
        else:
            items = str(raw).split(separator) if separator else _SEPARATORS.split(str(raw))
        return [" ".join(str(i).split()) for i in items if not is_empty(i)]
    if kind == "int":
        number = parse_number(raw)
        if number != int(number):
            raise ValueError(f"not a whole number: {raw!r}")
        return int(number)
    if kind == "float":
        return parse_number(raw)
    if kind == "date":
        return parse_date(str(raw), order)
    if kind == "partial_date":
        return parse_date(str(raw), order, partial=True)
    if kind == "datetime":
        return parse_datetime(str(raw), order)
    if kind == "country":
        found = lookup_country(str(raw))
        if found is None:
            raise ValueError(f"unknown country {raw!r}")
        return found
    if kind in ("pct", "fraction"):
        text = str(raw).strip()
        number = parse_number(text)
        if kind == "fraction" and text.endswith("%"):
            number /= 100
        top = 100.0 if kind == "pct" else 1.0
        if not 0 <= number <= top:
            raise ValueError(f"{raw!r} is outside 0..{top:g}")
        return number
    raise ValueError(f"unknown kind {kind!r}")


@dataclass(frozen=True)
class ColumnMapping:
    """A validated mapping for one loader."""

    path: Path
    format: str
    fields: Mapping[str, FieldSpec]
    date_order: str = "DMY"
    delimiter: str | None = None
    encodings: tuple[str, ...] = ("utf-8-sig", "cp1252")

    def bind(self, header: Sequence[str], source: Path) -> Binding:
        """Pick each field's column in this file's header; LoadError if a required field has none."""
        present = {column_id(c): c for c in header if c}
        columns: dict[str, str] = {}
        for name, spec in self.fields.items():
            found = next((present[column_id(c)] for c in spec.columns if column_id(c) in present), None)
            if found is not None:
                columns[name] = found
            elif spec.required and spec.constant is None:
                wanted = ", ".join(repr(c) for c in spec.columns)
                raise LoadError(f"{source}: no column for required field {name!r} (tried {wanted})")
        return Binding(self, columns)

    def bind_keys(self, obj: Mapping[str, Any]) -> Binding:
        """Bind to the keys of one JSON object (dotted candidates reach into nested objects)."""
        columns: dict[str, str] = {}
        for name, spec in self.fields.items():
            for candidate in spec.columns:
                value = _lookup(obj, candidate)
                if value is not None and not isinstance(value, Mapping):
                    columns[name] = candidate
                    break
        return Binding(self, columns)


@dataclass(frozen=True)
class Binding:
    """A mapping bound to the columns of one file: reads converted field values from rows."""

    mapping: ColumnMapping
    columns: Mapping[str, str]

    def has(self, name: str) -> bool:
        """True when the field has a column in this file or a constant."""
        spec = self.mapping.fields.get(name)
        return spec is not None and (name in self.columns or spec.constant is not None)

    def values(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Converted values of every field (None when empty); RowError on the first bad value."""
        out: dict[str, Any] = {}
        for name, spec in self.mapping.fields.items():
            column = self.columns.get(name)
            raw = _lookup(row, column) if column is not None else None
            if is_empty(raw):
                out[name] = spec.constant
                if out[name] is None and spec.required:
                    raise RowError(f"{name}: missing")
                continue
            if spec.values and isinstance(raw, str):
                raw = spec.values.get(column_id(raw), raw)
            try:
                out[name] = convert(spec.kind, raw, spec.order or self.mapping.date_order, spec.separator)
            except ValueError as exc:
                raise RowError(f"{name}: {exc}") from None
        return out


def _lookup(row: Mapping[str, Any], column: str | None) -> Any:
    if column is None:
        return None
    if column in row:
        return row[column]
    value: Any = row
    for part in column.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _fail(path: Path, message: str) -> LoadError:
    return LoadError(f"{path}: invalid mapping: {message}")


def _field(path: Path, name: str, raw: Any, fdef: FieldDef, order: str) -> FieldSpec:
    where = f"field {name!r}"
    if isinstance(raw, str):
        raw = {"columns": [raw]}
    elif isinstance(raw, list):
        raw = {"columns": raw}
    if not isinstance(raw, dict):
        raise _fail(path, f"{where} must be a column name, a list of names or a mapping")
    unknown = set(raw) - _FIELD_KEYS
    if unknown:
        raise _fail(
            path, f"{where}: unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(_FIELD_KEYS))})"
        )
    if "column" in raw and "columns" in raw:
        raise _fail(path, f"{where}: give 'column' or 'columns', not both")
    columns = raw.get("columns", raw.get("column", []))
    columns = [columns] if isinstance(columns, str) else columns
    if not isinstance(columns, list) or not all(isinstance(c, str | int) for c in columns):
        raise _fail(path, f"{where}: columns must be a list of names")
    has_constant = "constant" in raw and raw["constant"] is not None
    if not columns and not has_constant:
        raise _fail(path, f"{where} needs a column or a constant")
    field_order = raw.get("order")
    if field_order is not None and field_order not in ORDERS:
        raise _fail(path, f"{where}: order must be one of {', '.join(ORDERS)}")
    values = raw.get("values") or {}
    if not isinstance(values, dict):
        raise _fail(path, f"{where}: values must map source values to field values")
    required = raw.get("required", fdef.required)
    if not isinstance(required, bool):
        raise _fail(path, f"{where}: required must be true or false")
    separator = raw.get("separator")
    if separator is not None and (not isinstance(separator, str) or not separator):
        raise _fail(path, f"{where}: separator must be a non-empty string")
    constant = None
    if has_constant:
        try:
            constant = convert(fdef.kind, raw["constant"], field_order or order, separator)
        except ValueError as exc:
            raise _fail(path, f"{where}: constant: {exc}") from None
    return FieldSpec(
        name=name,
        kind=fdef.kind,
        columns=tuple(str(c) for c in columns),
        constant=constant,
        required=required,
        values={column_id(str(k)): str(v) for k, v in values.items()},
        separator=separator,
        order=field_order,
    )


def parse_mapping(data: Any, path: Path, fmt: str, catalogue: Catalogue) -> ColumnMapping:
    """Validate a parsed mapping document against the loader's catalogue."""
    if not isinstance(data, dict):
        raise _fail(path, "the document must be a mapping with 'format' and 'fields'")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _fail(path, f"unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(_TOP_KEYS))})")
    if data.get("format") != fmt:
        raise _fail(path, f"format is {data.get('format')!r}, but this is the {fmt!r} loader")
    dates = data.get("dates") or {}
    order = dates.get("order", "DMY") if isinstance(dates, dict) else None
    if order not in ORDERS:
        raise _fail(path, f"dates.order must be one of {', '.join(ORDERS)}")
    csv_opts = data.get("csv") or {}
    if not isinstance(csv_opts, dict) or set(csv_opts) - {"delimiter", "encodings"}:
        raise _fail(path, "csv accepts only 'delimiter' and 'encodings'")
    delimiter = csv_opts.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise _fail(path, "csv.delimiter must be a single character")
    encodings = csv_opts.get("encodings", ["utf-8-sig", "cp1252"])
    encodings = [encodings] if isinstance(encodings, str) else encodings
    for encoding in encodings:
        try:
            "".encode(encoding)
        except (LookupError, TypeError):
            raise _fail(path, f"unknown encoding {encoding!r}") from None
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        raise _fail(path, "'fields' must map field names to columns")
    fields: dict[str, FieldSpec] = {}
    for name, raw in raw_fields.items():
        if name not in catalogue:
            raise _fail(path, f"unknown field {name!r} (the {fmt} loader knows: {', '.join(catalogue)})")
        fields[name] = _field(path, name, raw, catalogue[name], order)
    for name, fdef in catalogue.items():
        if fdef.required and name not in fields:
            raise _fail(path, f"required field {name!r} is not mapped")
    return ColumnMapping(path, fmt, fields, order, delimiter, tuple(encodings))


def load_mapping(path: Path, fmt: str, catalogue: Catalogue) -> ColumnMapping:
    """Read and validate a mapping file."""
    if not path.is_file():
        raise LoadError(f"{path}: no such mapping file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise _fail(path, f"not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse_mapping(data, path, fmt, catalogue)


def resolve_mapping(options: LoadOptions, fmt: str, catalogue: Catalogue, default: str) -> ColumnMapping:
    """The mapping named by ``options.mapping`` (a path or a shipped mapping's name), else ``default``."""
    path = options.mapping or MAPPINGS_DIR / f"{default}.yaml"
    if not path.is_file() and not path.suffix and (MAPPINGS_DIR / f"{path.name}.yaml").is_file():
        path = MAPPINGS_DIR / f"{path.name}.yaml"
    return load_mapping(path, fmt, catalogue)


def shipped_mappings() -> list[str]:
    """Names of the mappings that come with shadowfleet."""
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


def _sniff(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(
    path: Path, encodings: Sequence[str] = ("utf-8-sig", "cp1252"), delimiter: str | None = None
) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """The header of a CSV file and an iterator of (line number, row) for its non-blank rows.

    The delimiter is sniffed from the header line unless given. A row the csv module cannot parse is
    yielded as ``{"__error__": reason}``.
    """
    text = read_text(path, encodings)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=delimiter or _sniff(first))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise LoadError(f"{path}: empty file, no header row") from None
    except csv.Error as exc:
        raise LoadError(f"{path}: unreadable CSV header ({exc})") from None

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield reader.line_num, {"__error__": f"unreadable CSV row ({exc})"}
                continue
            if any(c.strip() for c in cells):
                yield reader.line_num, dict(zip(header, cells, strict=False))

    return header, rows()


def is_json_lines(path: Path) -> bool:
    """True when the file name says JSON lines."""
    return path.suffix.lower() in JSON_SUFFIXES


def iter_records(
    path: Path, mapping: ColumnMapping
) -> Iterator[tuple[int, Binding | None, dict[str, Any] | Reject]]:
    """Yield (line, binding, row or Reject) for a CSV or JSON-lines file, binding CSV headers once."""
    if is_json_lines(path):
        for number, obj in iter_jsonl(path):
            if isinstance(obj, Reject):
                yield number, None, obj
            elif not isinstance(obj, dict):
                yield number, None, Reject(str(path), number, "a line must be a JSON object", str(obj)[:500])
            else:
                yield number, mapping.bind_keys(obj), obj
        return
    header, rows = read_csv(path, mapping.encodings, mapping.delimiter)
    binding = mapping.bind(header, path)
    for number, row in rows:
        if "__error__" in row:
            yield number, binding, Reject(str(path), number, row["__error__"])
        else:
            yield number, binding, row


def raw_line(row: Mapping[str, Any]) -> str:
    """A short text form of a row for a Reject."""
    return ",".join("" if v is None else str(v) for v in row.values())[:500]


RowHandler = Callable[[dict[str, Any], Provenance], list[Record]]
FileCheck = Callable[[Binding, Path], None]


def load_rows(
    paths: Sequence[Path],
    options: LoadOptions,
    fmt: str,
    mapping: ColumnMapping,
    handler: RowHandler,
    check: FileCheck | None = None,
) -> LoadOutput:
    """Run ``handler`` on the converted values of every row; a ValueError from a row becomes a Reject.

    ``check`` runs once per CSV file, after its header is bound and before any row is read.
    """
    out = LoadOutput()
    source = options.source or fmt
    for path in paths:
        require_file(path)
        when = retrieved_at(path, options)
        checked = False
        for number, binding, row in iter_records(path, mapping):
            out.rows_read += 1
            if options.progress:
                options.progress(1)
            if isinstance(row, Reject) or binding is None:
                out.rejects.append(
                    row if isinstance(row, Reject) else Reject(str(path), number, "unreadable")
                )
                continue
            if check is not None and not checked and not is_json_lines(path):
                check(binding, path)
                checked = True
            try:
                values = binding.values(row)
                out.records.extend(handler(values, provenance(source, path, number, when)))
            except ValueError as exc:
                out.rejects.append(Reject(str(path), number, str(exc), raw_line(row)))
    return out
