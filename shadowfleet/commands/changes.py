"""`shadowfleet changes`: the changes refresh runs recorded in the graph, with watchlist alerts.

Exit codes: 0 (also with no changes), 1 error, 2 usage error, 5 at least one change matched the
watchlist (the alert lines are printed after the listing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from graph.config import open_store
from graph.store import Store
from loaders.dates import parse_date
from shadowfleet.commands.refresh import EXIT_ALERT
from shadowfleet.output import emit_rows
from shadowfleet.refresh.changes import KINDS
from shadowfleet.refresh.watchlist import DEFAULT_THRESHOLD, alert_line, load_watchlist, match

COLUMNS = ["as_of", "source", "what", "entity_label", "entity_name", "imo", "old_value", "new_value", "alert"]
JSON_COLUMNS = [
    "key",
    "as_of",
    "previous_as_of",
    "source",
    "run_id",
    "what",
    "entity_label",
    "entity_key",
    "entity_name",
    "previous_key",
    "imo",
    "mmsi",
    "relation",
    "old_value",
    "new_value",
    "summary",
    "alert",
]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "changes",
        parents=[common],
        help="list the changes refresh runs found (renames, re-flags, new owners, designations...)",
        description=(
            "List ChangeEvents from the graph, oldest first. With --watchlist, matching changes become "
            "alert lines and the exit code is 5."
        ),
    )
    parser.add_argument("--since", metavar="DATE", help="changes as of this date or later (YYYY-MM-DD)")
    parser.add_argument("--until", metavar="DATE", help="changes as of this date or earlier")
    parser.add_argument("--source", action="append", metavar="NAME", help="only this source (repeatable)")
    parser.add_argument(
        "--what", action="append", choices=KINDS, help="only this kind of change (repeatable)"
    )
    parser.add_argument("--watchlist", type=Path, help="IMOs, MMSIs and names to alert on (docs/refresh.md)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"fuzzy name-match score for watchlist names, 0-100 (default {DEFAULT_THRESHOLD:g})",
    )
    parser.add_argument(
        "--alerts-only", action="store_true", help="list only changes that match the watchlist"
    )
    parser.set_defaults(handler=run)


def _date(raw: str | None, option: str) -> str | None:
    if raw is None:
        return None
    try:
        return parse_date(raw)
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None


def read_changes(
    store: Store,
    since: str | None = None,
    until: str | None = None,
    sources: list[str] | None = None,
    kinds: list[str] | None = None,
) -> list[dict[str, Any]]:
    """ChangeEvents as dicts, filtered and sorted by as-of date, source, entity and kind."""
    rows: list[dict[str, Any]] = []
    for batch in store.scan_nodes("ChangeEvent"):
        for node in batch:
            props = node.props
            as_of = str(props.get("as_of") or "")
            if since and as_of < since:
                continue
            if until and as_of > until:
                continue
            if sources and props.get("source") not in sources:
                continue
            if kinds and props.get("what") not in kinds:
                continue
            rows.append({"key": node.key, **props})
    order = {kind: i for i, kind in enumerate(KINDS)}
    rows.sort(
        key=lambda r: (
            str(r.get("as_of") or ""),
            str(r.get("source") or ""),
            str(r.get("entity_label") or ""),
            str(r.get("entity_key") or ""),
            order.get(str(r.get("what")), 99),
            str(r.get("old_value") or ""),
            str(r.get("new_value") or ""),
        )
    )
    return rows


def run(args: argparse.Namespace) -> int:
    since, until = _date(args.since, "--since"), _date(args.until, "--until")
    watchlist = load_watchlist(args.watchlist) if args.watchlist else []
    with open_store(args.store) as store:
        rows = read_changes(store, since, until, args.source, args.what)
    alerts: list[str] = []
    for row in rows:
        hits = match(row, watchlist, args.threshold) if watchlist else []
        row["alert"] = ", ".join(hits) or None
        if hits:
            alerts.append(alert_line(row, hits))
    if args.alerts_only:
        rows = [r for r in rows if r["alert"]]
    columns = JSON_COLUMNS if args.format in ("json", "csv") else COLUMNS
    if args.format != "table":
        emit_rows(rows, columns, args.format)
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for line in alerts:
            err.print(line, markup=False)
    else:
        if not watchlist:
            columns = [c for c in columns if c != "alert"]
        title = "changes" + (f" since {since}" if since else "") + (f" until {until}" if until else "")
        emit_rows(rows, columns, "table", title=title)
        out = Console(file=sys.stdout, highlight=False, soft_wrap=True)
        for line in alerts:
            out.print(line, markup=False)
    return EXIT_ALERT if alerts else 0
