"""`shadowfleet vessel IMO|NAME` and `shadowfleet company NAME|KEY`: every dated fact about one entity.

A name that matches several entities lists them (exit 1) instead of guessing; run again with the key.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from graph.store import NodeView, Store, StoreError
from queries.engine import find_companies, find_vessels, run_query
from shadowfleet.commands.query import add_known_at, describe, lookup, open_view, present
from shadowfleet.output import emit_rows


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    vessel = sub.add_parser(
        "vessel", parents=[common], help="dossier of one vessel: every dated fact with its sources"
    )
    vessel.add_argument("vessel", nargs="+", help="IMO number, MMSI, key, or current or former name")
    vessel.add_argument(
        "--as-of", dest="as_of", metavar="DATE", help="as the facts stood on DATE (default today)"
    )
    add_known_at(vessel)
    vessel.set_defaults(handler=run_vessel)
    company = sub.add_parser(
        "company", parents=[common], help="dossier of one company: every dated fact with its sources"
    )
    company.add_argument("company", nargs="+", help="company name, alias or key")
    company.add_argument(
        "--as-of", dest="as_of", metavar="DATE", help="as the facts stood on DATE (default today)"
    )
    add_known_at(company)
    company.set_defaults(handler=run_company)


def run_vessel(args: argparse.Namespace) -> int:
    return _dossier(
        args, "vessel", " ".join(args.vessel), find_vessels, ["key", "imo", "name", "mmsi", "flag"]
    )


def run_company(args: argparse.Namespace) -> int:
    return _dossier(
        args, "company", " ".join(args.company), find_companies, ["key", "name", "jurisdiction", "aliases"]
    )


def _dossier(
    args: argparse.Namespace,
    query: str,
    text: str,
    finder: Any,
    candidate_columns: list[str],
) -> int:
    spec = lookup(query)
    params: dict[str, Any] = {}
    if args.as_of:
        as_of = spec.param("as_of")
        assert as_of is not None
        params["as_of"] = as_of.convert(args.as_of, query)  # a bad date fails before the store is opened
    with open_view(args) as store:
        found: list[NodeView] = finder(store, text)
        if not found:
            raise StoreError(f"no {query} matches {text!r}")
        if len(found) > 1:
            list_candidates(store, query, text, found, candidate_columns, args.format)
            return 1
        params[query] = found[0].key
        rows = run_query(store, query, params)
    values = spec.bind(params)
    title = f"{query} {found[0].props.get('name') or found[0].key} ({describe(values)})"
    if args.format == "table":
        print_table(rows, title)
    else:
        emit_rows(present(rows, args.format), spec.column_names, args.format, title=title)
    return 0


def print_table(rows: list[dict[str, Any]], title: str) -> None:
    """A dossier for the terminal: one line per fact, with its period, details and sources."""
    table = Table(title=title, show_lines=False)
    for name in ("when", "fact", "detail", "sources"):
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(_when(row), _fact(row), _detail(row.get("detail")), _sources(row.get("sources") or []))
    console = Console()
    console.print(table)
    if not rows:
        console.print("[dim]no rows[/dim]")


def _when(row: dict[str, Any]) -> str:
    start, end = row.get("date_from"), row.get("date_to")
    detail = row.get("detail") or {}
    # A change seen between two snapshots is an interval ("between D1 and D2"), never a made-up day.
    interval = False
    if start and detail.get("began_after"):
        start, interval = f"between {detail['began_after']} and {start}", True
    if end and detail.get("ended_after"):
        end, interval = f"between {detail['ended_after']} and {end}", True
    text = "" if start is None and end is None else f"{start or ''} - {end or ''}".strip()
    if interval and row.get("current") is None:
        return text + " (unknown on the date asked)"
    return text + (" (current)" if row.get("current") else "")


def _fact(row: dict[str, Any]) -> str:
    if row["kind"] == "property":
        value = row["value"]
        return f"{row['fact']} = {'; '.join(map(str, value)) if isinstance(value, list) else value}"
    arrow = "->" if row["direction"] == "out" else "<-"
    other = f" ({row['other']})" if row["other"] != row["value"] else ""
    return f"{row['fact']} {arrow} {row['value']}{other}"


def _detail(detail: dict[str, Any] | None) -> str:
    if not detail:
        return ""
    return ", ".join(f"{k}={'; '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in detail.items())


def _sources(sources: list[dict[str, str]]) -> str:
    return "; ".join(f"{s['source']} {s['record']} ({s['retrieved_at'][:10]})".strip() for s in sources)


def list_candidates(
    store: Store, query: str, text: str, found: list[NodeView], columns: list[str], fmt: str
) -> None:
    """Print the entities a name matched (a table, JSON or CSV) and say to run again with a key."""
    rows = [{"key": view.key, **{c: view.props.get(c) for c in columns if c != "key"}} for view in found]
    emit_rows(present(rows, fmt), columns, fmt, title=f"{len(found)} {query} records match {text!r}")
    Console(stderr=True).print(
        f"shadowfleet: {len(found)} {query} records match {text!r}; run again with one of the keys",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
