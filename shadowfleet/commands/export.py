"""`shadowfleet export --format FORMAT [--query NAME --param k=v ...] [--as-of DATE] [-o PATH]`.

FORMAT is graphml, gexf, geojson, jsonl or neo4j-csv. Without --query the whole graph is exported;
with it (repeatable), the subgraph that explains those queries' findings (shadowfleet/exports/subgraph.py).
See docs/formats/exports.md.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from queries.registry import QuerySpec
from shadowfleet.cli import UsageError
from shadowfleet.commands.query import add_param_arguments, lookup, open_view
from shadowfleet.exports import FORMATS, ExportStats, GraphSource, StoreSource, SubgraphSource
from shadowfleet.exports.geojson import event_labels
from shadowfleet.exports.source import DEFAULT_BATCH
from shadowfleet.exports.subgraph import DEFAULT_MAX_DEGREE, Subgraph, explain_query, merge


def _options() -> argparse.ArgumentParser:
    # The shared --format (table/json/csv) means the export format here, so --store and --debug are
    # declared again instead of inheriting the common parent.
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--store",
        choices=("memory", "neo4j"),
        default=argparse.SUPPRESS,
        help="store to use (default: $SHADOWFLEET_STORE or memory)",
    )
    parent.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    return parent


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "export",
        parents=[_options()],
        help="write the graph (or the subgraph behind query findings) as GraphML, GEXF, GeoJSON, JSON lines "
        "or neo4j-admin CSV",
        description="Export the whole graph, or with --query the nodes and relationships that explain a "
        "canned query's findings. See docs/formats/exports.md.",
    )
    parser.add_argument(
        "--format",
        dest="export_format",
        required=True,
        choices=sorted(FORMATS),
        help="graphml, gexf (Gephi, yEd), geojson (events on a map), jsonl (records: loads back with "
        "`shadowfleet load records`), neo4j-csv (a folder for neo4j-admin database import)",
    )
    parser.add_argument(
        "--query",
        "-q",
        dest="queries",
        action="append",
        default=[],
        metavar="NAME",
        help="export only the subgraph behind this query's rows (repeatable; see `shadowfleet query list`)",
    )
    add_param_arguments(
        parser, "a query parameter (repeatable); it goes to every chosen query that declares it"
    )
    parser.add_argument(
        "--output",
        "-o",
        metavar="PATH",
        help="file (a folder for neo4j-csv) to write; '-' for stdout; default: "
        + ", ".join(f"{name} for {fmt}" for fmt, (_, name) in sorted(FORMATS.items())),
    )
    parser.add_argument(
        "--max-degree",
        type=int,
        default=None,
        metavar="N",
        help=f"with --query: do not expand a named node with more than N relationships "
        f"(default {DEFAULT_MAX_DEGREE})",
    )
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, metavar="N", help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def query_params(
    specs: Sequence[QuerySpec], items: Sequence[str], as_of: str | None
) -> dict[str, dict[str, str]]:
    """Each chosen query's parameters: a ``NAME=VALUE`` goes to every query declaring NAME.

    A parameter no chosen query declares, or bad syntax, is a usage error.
    """
    given: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--param expects NAME=VALUE, got {item!r}")
        given[name] = value
    if as_of is not None:
        given["as_of"] = as_of
    for name in given:
        if not any(spec.param(name) for spec in specs):
            queries = ", ".join(spec.name for spec in specs)
            flag = "--as-of" if name == "as_of" and as_of is not None else f"parameter {name!r}"
            raise UsageError(f"{flag} is not declared by {queries} (see `shadowfleet query show NAME`)")
    return {spec.name: {k: v for k, v in given.items() if spec.param(k)} for spec in specs}


def _target(args: argparse.Namespace) -> Path | None:
    if args.output == "-":
        if args.export_format == "neo4j-csv":
            raise UsageError("neo4j-csv writes a folder of files: give -o FOLDER, not '-'")
        return None
    return Path(args.output or FORMATS[args.export_format][1])


def _work(source: GraphSource, fmt: str) -> int:
    if fmt == "geojson":
        counts = source.label_counts()
        return sum(counts.get(label, 0) for label in event_labels(source.schema))
    return sum(source.totals())


def run(args: argparse.Namespace) -> int:
    fmt = args.export_format
    if not args.queries and (args.param or args.as_of or args.max_degree is not None):
        raise UsageError("--param, --as-of and --max-degree apply to --query")
    if args.batch_size < 1 or (args.max_degree is not None and args.max_degree < 0):
        raise UsageError("--batch-size must be at least 1 and --max-degree at least 0")
    specs = [lookup(name) for name in dict.fromkeys(args.queries)]
    params = query_params(specs, args.param, args.as_of)
    for spec in specs:
        spec.bind(params[spec.name])  # a bad value fails (exit 1) before the store is opened
    target = _target(args)
    module = importlib.import_module(FORMATS[fmt][0])
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    sub: Subgraph | None = None
    with open_view(args) as store, Progress(*columns, console=console, transient=True) as progress:
        source: GraphSource
        if specs:
            parts = []
            for spec in specs:
                task = progress.add_task(f"running {spec.name}", total=None)
                parts.append(
                    explain_query(
                        store,
                        spec.name,
                        params[spec.name],
                        max_degree=DEFAULT_MAX_DEGREE if args.max_degree is None else args.max_degree,
                    )
                )
                progress.update(task, total=1, completed=1)
            sub = merge(parts)
            source = SubgraphSource(store, sub.nodes, sub.edges, args.batch_size)
        else:
            source = StoreSource(store, args.batch_size)
        task = progress.add_task(f"writing {fmt}", total=_work(source, fmt))
        stats: ExportStats = module.write(source, target, progress=lambda n: progress.advance(task, n))
    line = stats.summary()
    if sub is not None:
        line += (
            f"; subgraph of {', '.join(s.name for s in specs)}: {len(sub.named):,} nodes named by the rows"
        )
        if sub.capped:
            line += f", {len(sub.capped):,} not expanded (over --max-degree)"
    out = sys.stderr if target is None else sys.stdout
    print(line, file=out)
    return 0
