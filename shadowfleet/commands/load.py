"""`shadowfleet load FORMAT FILE...`: run a loader and write its records to the store."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from graph.config import data_home, open_store
from graph.store import Store, WriteStats
from loaders.base import FORMATS, LoadError, LoadOptions, LoadOutput, Reject, get_loader, retrieval
from shadowfleet.output import emit_document, emit_rows


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("load", parents=[common], help="load source files into the graph")
    parser.add_argument("fmt", metavar="FORMAT", choices=sorted(FORMATS), help=", ".join(sorted(FORMATS)))
    parser.add_argument("files", metavar="FILE", nargs="+", type=Path, help="files (or, for icij, a folder)")
    parser.add_argument("--mapping", type=Path, help="YAML column mapping (registry, ownership, events)")
    parser.add_argument("--as-of", help="snapshot date (YYYY-MM-DD) when the file has no date column")
    parser.add_argument(
        "--retrieved-at", help="when the source was retrieved (default: file modification time)"
    )
    parser.add_argument("--source", help="source name recorded in provenance (default: per format)")
    parser.add_argument("--rejects", type=Path, help="where to write rejected rows (JSON lines)")
    parser.set_defaults(handler=run)


def _retrievals(files: list[Path], options: LoadOptions) -> dict[str, str]:
    """For each file, the retrieval time its records cite and where it came from."""
    return {p.name: f"{when} ({how})" for p in files if p.is_file() for when, how in [retrieval(p, options)]}


def write_rejects(rejects: list[Reject], fmt: str, target: Path | None) -> Path | None:
    """Keep rejected rows in a JSON-lines file and return its path (None when nothing was rejected)."""
    if not rejects:
        return None
    if target is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = data_home() / "rejects" / f"{fmt}-{stamp}.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as handle:
        for reject in rejects:
            handle.write(json.dumps(reject.as_dict(), ensure_ascii=False) + "\n")
    return target


def load_into(
    store: Store, fmt: str, files: list[Path], options: LoadOptions, console: Console
) -> tuple[LoadOutput, WriteStats]:
    """Read files with the format's loader, then write every record in one transaction."""
    loader = get_loader(fmt)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        reading = progress.add_task(f"reading {fmt}", total=None)
        options.progress = lambda n: progress.advance(reading, n)
        output = loader(files, options)
        progress.update(reading, total=output.rows_read, completed=output.rows_read)
        writing = progress.add_task(f"writing to {store.backend}", total=None)
        stats = store.write(output.records, progress=lambda n: progress.advance(writing, n))
    return output, stats


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    for path in args.files:
        if not path.exists():
            raise LoadError(f"{path}: no such file or folder")
    options = LoadOptions(
        mapping=args.mapping, as_of=args.as_of, retrieved_at=args.retrieved_at, source=args.source
    )
    with open_store(args.store) as store:
        output, stats = load_into(store, args.fmt, args.files, options, console)
    rejects_path = write_rejects(output.rejects, args.fmt, args.rejects)
    summary = {
        "format": args.fmt,
        "files": [str(p) for p in args.files],
        "rows_read": output.rows_read,
        "records_written": stats.records,
        "rows_rejected": len(output.rejects),
        "rejects_file": str(rejects_path) if rejects_path else None,
        "nodes_created": stats.nodes_created,
        "nodes_merged": stats.nodes_merged,
        "relationships_created": stats.edges_created,
        "relationships_merged": stats.edges_merged,
        "new_entities_by_label": stats.created_by_label,
        "retrieved_at": output.retrieved or _retrievals(args.files, options),
    }
    if args.format == "json":
        emit_document(summary, "json")
    else:
        rows = [{"measure": k, "value": v} for k, v in summary.items() if k not in ("files",)]
        emit_rows(rows, ["measure", "value"], args.format, title=f"load {args.fmt}")
    return 0
