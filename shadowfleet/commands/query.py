"""`shadowfleet query list | show NAME | run NAME --param k=v ... [--as-of DATE]`: canned investigations."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from rich.console import Console
from rich.table import Table

from graph.config import open_store
from graph.store import Store
from queries.registry import QuerySpec, UnknownQuery, get, registry
from shadowfleet.cli import UsageError
from shadowfleet.output import emit_document, emit_rows


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("query", parents=[common], help="list, show and run the canned investigations")
    actions = parser.add_subparsers(dest="query_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common], help="the canned queries and their parameters")
    listing.set_defaults(handler=run_list)
    show = actions.add_parser("show", parents=[common], help="a query's parameters, columns and Cypher")
    show.add_argument("name", help="query name (see `shadowfleet query list`)")
    show.set_defaults(handler=run_show)
    run = actions.add_parser("run", parents=[common], help="run a query and print its rows")
    add_query_arguments(run)
    run.set_defaults(handler=run_query_command)


# ---- shared with the dossier and report commands ------------------------------------------------


def add_query_arguments(parser: argparse.ArgumentParser) -> None:
    """The query name, ``--param NAME=VALUE`` (repeatable) and ``--as-of DATE``."""
    parser.add_argument("name", help="query name (see `shadowfleet query list`)")
    add_param_arguments(parser)


def add_param_arguments(
    parser: argparse.ArgumentParser,
    param_help: str = "a query parameter (repeatable); see `shadowfleet query show NAME`",
) -> None:
    """``--param NAME=VALUE`` (repeatable) and ``--as-of DATE``."""
    parser.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE", help=param_help)
    parser.add_argument("--as-of", dest="as_of", metavar="DATE", help="shorthand for --param as_of=DATE")
    add_known_at(parser)


def add_known_at(parser: argparse.ArgumentParser) -> None:
    """``--known-at DATE``: run on the facts retrieved by DATE only (graph/known_at.py)."""
    parser.add_argument(
        "--known-at",
        dest="known_at",
        metavar="DATE",
        help="only facts retrieved by DATE, as a backtest would see them (--as-of is when facts held)",
    )


@contextlib.contextmanager
def open_view(args: argparse.Namespace) -> Iterator[Store]:
    """The store the command names, or, with ``--known-at``, the graph as it was known that day."""
    day = getattr(args, "known_at", None)
    if day is not None:
        try:
            day = date.fromisoformat(day).isoformat()
        except ValueError:
            raise UsageError(f"--known-at: not a date (YYYY-MM-DD): {day!r}") from None
    with open_store(args.store) as store:
        if day is None:
            yield store
        else:
            from graph.known_at import known_at

            yield known_at(store, day)


def lookup(name: str) -> QuerySpec:
    """The query called ``name``; an unknown name is a usage error (exit 2)."""
    try:
        return get(name)
    except UnknownQuery as exc:
        raise UsageError(str(exc)) from None


def parse_params(items: Sequence[str], spec: QuerySpec, as_of: str | None = None) -> dict[str, str]:
    """``NAME=VALUE`` strings as a dict; bad syntax or an undeclared name is a usage error."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--param expects NAME=VALUE, got {item!r}")
        if spec.param(name) is None:
            known = ", ".join(p.name for p in spec.params) or "none"
            raise UsageError(f"query {spec.name} has no parameter {name!r} (parameters: {known})")
        params[name] = value
    if as_of is not None:
        if spec.param("as_of") is None:
            raise UsageError(f"query {spec.name} does not take --as-of")
        params["as_of"] = as_of
    return params


def present(rows: Iterable[Mapping[str, Any]], fmt: str) -> list[dict[str, Any]]:
    """Rows for the chosen format: JSON keeps structure; tables and CSV get readable provenance and maps."""
    if fmt == "json":
        return [dict(r) for r in rows]
    return [{k: _readable(v) for k, v in row.items()} for row in rows]


def _readable(value: Any) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"source", "record", "retrieved_at"}:
            return f"{value['source']} {value['record']} ({value['retrieved_at']})"
        return ", ".join(f"{k}={_readable(v)}" for k, v in value.items())
    if isinstance(value, list):
        parts = [_readable(v) for v in value]
        return "; ".join("" if p is None else str(p) for p in parts)
    return value


def describe(params: Mapping[str, Any]) -> str:
    """``k=v`` pairs for a table title."""
    return ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)


# ---- handlers -----------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    rows = [
        {
            "name": spec.name,
            "title": spec.title,
            "parameters": ", ".join(
                p.name
                + ("*" if p.required else "")
                + (f"={p.describe_default()}" if p.default is not None else "")
                for p in spec.params
            ),
        }
        for spec in registry().values()
    ]
    emit_rows(rows, ["name", "title", "parameters"], args.format, title="canned queries (* = required)")
    return 0


def run_show(args: argparse.Namespace) -> int:
    spec = lookup(args.name)
    if args.format == "json":
        emit_document(_document(spec), "json")
        return 0
    console = Console(file=sys.stdout, soft_wrap=True)
    console.print(f"[bold]{spec.name}[/bold]: {spec.title}", highlight=False)
    console.print(spec.description, highlight=False, markup=False)
    params = Table(title="parameters", title_justify="left")
    for column in ("name", "type", "required", "default", "bounds", "description"):
        params.add_column(column)
    for p in spec.params:
        bounds = " ".join(x for x in (_bound(">=", p.minimum), _bound("<=", p.maximum)) if x)
        params.add_row(
            p.name, p.type, "yes" if p.required else "", p.describe_default(), bounds, p.description
        )
    console.print(params)
    columns = Table(title="columns", title_justify="left")
    columns.add_column("name")
    columns.add_column("meaning")
    for c in spec.columns:
        columns.add_row(c.name, c.description)
    console.print(columns)
    console.print("[bold]Neo4j Browser[/bold] (set the parameters first):", highlight=False)
    print(browser_params(spec))
    print()
    print(spec.cypher.rstrip())
    return 0


def _bound(op: str, value: float | None) -> str:
    return "" if value is None else f"{op} {int(value) if float(value).is_integer() else value}"


def _document(spec: QuerySpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "title": spec.title,
        "description": spec.description,
        "params": [
            {
                "name": p.name,
                "type": p.type,
                "required": p.required,
                "default": p.default,
                "min": p.minimum,
                "max": p.maximum,
                "description": p.description,
            }
            for p in spec.params
        ],
        "columns": [{"name": c.name, "description": c.description} for c in spec.columns],
        "cypher": spec.cypher,
    }


def browser_params(spec: QuerySpec) -> str:
    """A ``:params`` command setting every parameter to its default (null when it has none)."""
    values = spec.bind({p.name: p.default for p in spec.params if p.default is not None and not p.required})
    parts = []
    for p in spec.params:
        value = values.get(p.name)
        if value is None and p.required:
            parts.append(f"{p.name}: null /* required */")
        else:
            parts.append(f"{p.name}: {_cypher_literal(value)}")
    return ":params {" + ", ".join(parts) + "}"


def _cypher_literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def run_query_command(args: argparse.Namespace) -> int:
    from queries.engine import run_query

    spec = lookup(args.name)
    params = parse_params(args.param, spec, args.as_of)
    values = spec.bind(params)  # a bad value fails (exit 1) before the store is opened
    with open_view(args) as store:
        rows = run_query(store, spec.name, params)
    emit_rows(
        present(rows, args.format), spec.column_names, args.format, title=f"{spec.title} ({describe(values)})"
    )
    return 0
