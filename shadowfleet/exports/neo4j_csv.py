"""CSV files in the layout of ``neo4j-admin database import full``, for loading a big graph offline.

One file per node label (``nodes_<Label>.csv``) and per relationship type with its end labels
(``rels_<TYPE>_<From>_<To>.csv``). Headers carry ``key:ID(<Label>)`` (one id space per label, so keys
only need to be unique within their label, as in the stores), ``:START_ID(<Label>)``/``:END_ID(<Label>)``,
``key:string`` on relationships, every property the schema declares with its type (dates stay ISO
strings, lists become ``string[]``) and ``provenance:string[]`` holding the encoded provenance entries
exactly as the stores keep them. Every string is quoted; an empty cell is an absent property.

The export folder also holds ``import.sh`` (the neo4j-admin command with the right options),
``constraints.cypher`` (the schema's constraints and indexes, to run once after the import) and
``export.json`` (format, counts per file, options). :func:`write_import_csv` writes the same layout
straight from records (the ingest benchmark's bulk path).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from graph.files import fsync_dir
from graph.records import NodeRecord, Record
from graph.schema import Schema, default_schema
from shadowfleet.exports.source import ExportError, ExportStats, GraphSource, ProgressFn, tick

FORMAT = "neo4j-csv"
MANIFEST = "export.json"
#: The export's default array delimiter: the ASCII unit separator, which no text value carries, so
#: list values (aliases, evidence, provenance) never clash with it. ``write_import_csv`` keeps ";".
EXPORT_ARRAY_DELIMITER = "\x1f"

_NEO4J_TYPES = {
    "string": "string",
    "date": "string",  # dates are ISO strings in both stores
    "int": "long",
    "float": "double",
    "bool": "boolean",
    "string_list": "string[]",
}


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _formatter(kind: str, delimiter: str) -> Callable[[Any], str]:
    if kind in ("string", "date"):
        return _quote
    if kind == "int":
        return str
    if kind == "float":
        return lambda v: repr(float(v))
    if kind == "bool":
        return lambda v: "true" if v else "false"

    def as_array(values: Any) -> str:
        for value in values:
            if delimiter in value:
                raise ExportError(f"array value {value!r} contains the array delimiter {delimiter!r}")
        return _quote(delimiter.join(values))

    return as_array


def delimiter_option(delimiter: str) -> str:
    """The delimiter as neo4j-admin's ``--array-delimiter`` takes it (``U+001F`` for a control char)."""
    if delimiter == "\t":
        return "TAB"
    if delimiter.isprintable() and not delimiter.isspace():
        return delimiter
    return f"U+{ord(delimiter):04X}"


@dataclass
class ImportFiles:
    """CSV files written for ``neo4j-admin database import full``."""

    directory: Path
    nodes: dict[str, Path] = field(default_factory=dict)
    relationships: dict[tuple[str, str, str], Path] = field(default_factory=dict)
    array_delimiter: str = ";"
    bytes: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    multiline: bool = False

    def options(self) -> list[str]:
        """The import options these files need (array delimiter; multi-line fields when present)."""
        out = [f"--array-delimiter={delimiter_option(self.array_delimiter)}"]
        if self.multiline:
            out.append("--multiline-fields=true")
        return out

    def file_args(self, relative: bool = False) -> list[str]:
        """``--nodes=Label=file`` and ``--relationships=TYPE=file``, sorted."""

        def name(path: Path) -> str:
            return path.name if relative else str(path)

        args = [f"--nodes={label}={name(path)}" for label, path in sorted(self.nodes.items())]
        args += [f"--relationships={g[0]}={name(path)}" for g, path in sorted(self.relationships.items())]
        return args

    def admin_args(self, database: str, report: Path) -> list[str]:
        """Arguments of ``neo4j-admin`` importing these files into ``database`` (overwriting it)."""
        # The database goes first: after a variable-arity --nodes/--relationships list it would be
        # read as one more file.
        args = ["database", "import", "full", database, "--overwrite-destination=true", *self.options()]
        return [*args, f"--report-file={report}", *self.file_args()]


class ImportCsvWriter:
    """Writes nodes and relationships to per-label and per-type CSV files (each one at most once)."""

    def __init__(self, directory: Path, schema: Schema | None = None, array_delimiter: str = ";") -> None:
        self.schema = schema or default_schema()
        self.delimiter = array_delimiter
        directory.mkdir(parents=True, exist_ok=True)
        self.files = ImportFiles(directory, array_delimiter=array_delimiter)
        self._handles: dict[Any, TextIO] = {}
        self._columns: dict[Any, list[tuple[str, Callable[[Any], str]]]] = {}

    def _quote(self, text: str) -> str:
        if "\n" in text or "\r" in text:
            self.files.multiline = True
        return '"' + text.replace('"', '""') + '"'

    def _format(self, kind: str) -> Callable[[Any], str]:
        if kind in ("string", "date"):
            return self._quote
        if kind == "string_list":
            return self._array
        return _formatter(kind, self.delimiter)

    def _array(self, values: Sequence[str]) -> str:
        for value in values:
            if self.delimiter in value:
                raise ExportError(
                    f"array value {value[:80]!r} contains the array delimiter {self.delimiter!r}"
                )
        return self._quote(self.delimiter.join(values))

    def _open(self, group: Any, name: str, head: list[str], declared: Mapping[str, str]) -> TextIO:
        self._columns[group] = [(p, self._format(k)) for p, k in declared.items()]
        path = self.files.directory / name
        out = self._handles[group] = path.open("w", encoding="utf-8", newline="")
        out.write(",".join([*head, *(f"{p}:{_NEO4J_TYPES[k]}" for p, k in declared.items())]))
        out.write(",provenance:string[]\n")
        self.files.rows[name] = 0
        return out

    def _cells(self, group: Any, props: Mapping[str, Any], provenance: Sequence[str]) -> str:
        cells = ["" if props.get(name) is None else fmt(props[name]) for name, fmt in self._columns[group]]
        cells.append(self._array(provenance) if provenance else "")
        return ",".join(cells)

    def node(self, label: str, key: str, props: Mapping[str, Any], provenance: Sequence[str]) -> None:
        """Write one node."""
        out = self._handles.get(label)
        if out is None:
            name = f"nodes_{label}.csv"
            out = self._open(label, name, [f"key:ID({label})"], self.schema.node(label).properties)
            self.files.nodes[label] = self.files.directory / name
        out.write(f"{self._quote(key)},{self._cells(label, props, provenance)}\n")
        self.files.rows[f"nodes_{label}.csv"] += 1

    def edge(
        self,
        rel_type: str,
        ends: tuple[str, str, str, str],
        key: str,
        props: Mapping[str, Any],
        provenance: Sequence[str],
    ) -> None:
        """Write one relationship; ``ends`` is (start label, start key, end label, end key)."""
        src_label, src, dst_label, dst = ends
        group = (rel_type, src_label, dst_label)
        name = f"rels_{rel_type}_{src_label}_{dst_label}.csv"
        out = self._handles.get(group)
        if out is None:
            head = [f":START_ID({src_label})", f":END_ID({dst_label})", "key:string"]
            out = self._open(group, name, head, self.schema.rel(rel_type).properties)
            self.files.relationships[group] = self.files.directory / name
        cells = self._cells(group, props, provenance)
        out.write(f"{self._quote(src)},{self._quote(dst)},{self._quote(key)},{cells}\n")
        self.files.rows[name] += 1

    def close(self, sync: bool = False) -> ImportFiles:
        """Close every file (flushed to disk first when ``sync``) and return what was written."""
        for out in self._handles.values():
            if sync:
                out.flush()
                os.fsync(out.fileno())
            out.close()
        self._handles.clear()
        paths = [*self.files.nodes.values(), *self.files.relationships.values()]
        self.files.bytes = sum(p.stat().st_size for p in paths)
        return self.files

    def abort(self) -> None:
        """Close the files after a failure."""
        for out in self._handles.values():
            out.close()
        self._handles.clear()


def write_import_csv(
    records: Iterable[Record], directory: Path, schema: Schema | None = None, array_delimiter: str = ";"
) -> ImportFiles:
    """Write records as neo4j-admin import CSV: one file per label and per (type, from, to).

    Each node and relationship must appear once (as the generator yields them); a record's single
    provenance entry becomes the ``provenance`` array.
    """
    writer = ImportCsvWriter(directory, schema, array_delimiter)
    try:
        for r in records:
            prov = [r.provenance.encode()] if r.provenance else []
            if isinstance(r, NodeRecord):
                writer.node(r.label, r.key, r.props, prov)
            else:
                writer.edge(r.type, (r.src_label, r.src, r.dst_label, r.dst), r.key, r.props, prov)
    except BaseException:
        writer.abort()
        raise
    return writer.close()


# ---- the export: a folder replaced as a whole --------------------------------------------------------


def _script(files: ImportFiles) -> str:
    options = " ".join(files.options())
    lines = [
        "#!/bin/sh",
        "# Import this folder into a Neo4j 5 database with neo4j-admin (the server must be stopped).",
        "#   sh import.sh [DATABASE] [more neo4j-admin options, e.g. --overwrite-destination=true]",
        "# Set NEO4J_ADMIN to the neo4j-admin binary if it is not on PATH. After the import, start the",
        "# server and run constraints.cypher once (or any `shadowfleet load ... --store neo4j`, which",
        "# creates the same constraints).",
        "set -e",
        'cd "$(dirname "$0")"',
        'db="${1:-neo4j}"',
        "[ $# -gt 0 ] && shift",
        f'exec "${{NEO4J_ADMIN:-neo4j-admin}}" database import full "$db" "$@" {options} \\',
        "  " + " \\\n  ".join(files.file_args(relative=True)),
        "",
    ]
    return "\n".join(lines)


def _check_target(target: Path) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise ExportError(f"{target} exists and is not a folder; neo4j-csv writes a folder")
    if any(target.iterdir()) and not (target / MANIFEST).is_file():
        raise ExportError(f"{target} is a folder that holds other files; choose an empty or new -o folder")


def _replace_folder(staged: Path, target: Path) -> None:
    """Move the finished folder into place; a previous export there is removed only afterwards."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
        os.replace(target, old / "export")
    os.replace(staged, target)
    fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write(
    source: GraphSource,
    target: Path | None,
    progress: ProgressFn | None = None,
    array_delimiter: str = EXPORT_ARRAY_DELIMITER,
) -> ExportStats:
    """Write ``source`` as a neo4j-admin import folder at ``target``, crash-safely.

    The files are written to a temporary folder beside ``target`` and moved into place when complete:
    a crash leaves the previous export (or nothing), never half a folder. ``target`` must be new, empty,
    or an earlier neo4j-csv export.
    """
    if target is None:
        raise ExportError("neo4j-csv writes a folder of files; give it with -o FOLDER")
    target = target.resolve()
    _check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{target.name}-", suffix=".tmp", dir=target.parent))
    nodes = edges = 0
    try:
        writer = ImportCsvWriter(staged, source.schema, array_delimiter)
        try:
            for node_batch, edge_batch in source.walk():
                for n in node_batch:
                    writer.node(n.label, n.key, n.props, n.provenance)
                for e in edge_batch:
                    writer.edge(
                        e.type, (e.src_label, e.src, e.dst_label, e.dst), e.key, e.props, e.provenance
                    )
                nodes += len(node_batch)
                edges += len(edge_batch)
                tick(progress, len(node_batch) + len(edge_batch))
        except BaseException:
            writer.abort()
            raise
        files = writer.close(sync=True)
        (staged / "import.sh").write_text(_script(files), encoding="utf-8")
        (staged / "constraints.cypher").write_text(
            ";\n".join(source.schema.constraints_cypher()) + ";\n", encoding="utf-8"
        )
        manifest = {
            "format": FORMAT,
            "nodes": nodes,
            "relationships": edges,
            "array_delimiter": delimiter_option(array_delimiter),
            "multiline_fields": files.multiline,
            "rows": dict(sorted(files.rows.items())),
            "arguments": [*files.options(), *files.file_args(relative=True)],
        }
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        for name in ("import.sh", "constraints.cypher", MANIFEST):
            with open(staged / name, "rb") as handle:
                os.fsync(handle.fileno())
        fsync_dir(staged)
        _replace_folder(staged, target)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(staged)
        raise
    stats = ExportStats(FORMAT, str(target), nodes, edges)
    stats.extra = {"files": len(files.rows)}
    return stats


def read_manifest(folder: Path) -> dict[str, Any]:
    """The ``export.json`` of a neo4j-csv export folder."""
    data: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return data


def import_args(
    folder: Path, database: str = "neo4j", overwrite: bool = False, report: Path | None = None
) -> list[str]:
    """``neo4j-admin`` arguments importing the export in ``folder`` (absolute paths), as import.sh runs
    it; the import report goes to ``report`` (default: ``folder/import.report``, not the working folder)."""
    folder = folder.resolve()
    args = ["database", "import", "full", database]
    if overwrite:
        args.append("--overwrite-destination=true")
    args.append(f"--report-file={(report or folder / 'import.report').resolve()}")
    for arg in read_manifest(folder)["arguments"]:
        if arg.startswith(("--nodes=", "--relationships=")):
            option, name = arg.rsplit("=", 1)
            arg = f"{option}={folder / name}"
        args.append(arg)
    return args
