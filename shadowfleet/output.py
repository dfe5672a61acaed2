"""Rendering rows for the terminal (rich tables) and for scripts (JSON lines or CSV)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

FORMATS = ("table", "json", "csv")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def emit_rows(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str] | None,
    fmt: str,
    *,
    title: str | None = None,
    out: TextIO | None = None,
) -> int:
    """Write rows in the chosen format and return how many were written.

    JSON is streamed one object per line (stable keys, in column order) so scripts can start reading
    before the query ends; CSV has a header row; the table is a rich table.
    """
    out = out or sys.stdout
    count = 0
    if fmt == "json":
        for row in rows:
            keys = columns or list(row)
            out.write(json.dumps({k: row.get(k) for k in keys}, default=str, ensure_ascii=False) + "\n")
            count += 1
        return count
    materialised = list(rows)
    keys = list(columns or (materialised[0].keys() if materialised else []))
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(keys)
        for row in materialised:
            writer.writerow([_cell(row.get(k)) for k in keys])
        return len(materialised)
    console = Console(file=out)
    table = Table(title=title, show_lines=False)
    for key in keys:
        table.add_column(key)
    for row in materialised:
        table.add_row(*(_cell(row.get(k)) for k in keys))
    console.print(table)
    if not materialised:
        console.print("[dim]no rows[/dim]")
    return len(materialised)


def emit_document(doc: Mapping[str, Any], fmt: str, out: TextIO | None = None) -> None:
    """Write one JSON document (for --format json) or a readable dump."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(json.dumps(doc, indent=2, default=str, ensure_ascii=False) + "\n")
    else:
        Console(file=out).print_json(data=doc, default=str)
