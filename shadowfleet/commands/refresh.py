"""`shadowfleet refresh CONFIG`: bring the graph up to date with every configured source.

Exit codes (docs/refresh.md): 0 every source refreshed (or unchanged) and no watchlist alert; 1 error
(bad configuration, store unreachable); 2 usage error; 3 at least one source failed (the others were
applied); 4 another refresh is running; 5 the run's changes matched the watchlist. When sources failed
and alerts were raised, 3 wins: the alerts are printed all the same.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from graph.config import open_store
from shadowfleet.commands.load import write_rejects
from shadowfleet.output import emit_document, emit_rows
from shadowfleet.refresh import Refresher, RefreshLocked, RunReport, load_config, refresh_root, run_lock
from shadowfleet.refresh.watchlist import DEFAULT_THRESHOLD, WatchEntry, alert_line, load_watchlist, match

EXIT_SOURCE_FAILED = 3
EXIT_LOCKED = 4
EXIT_ALERT = 5


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "refresh",
        parents=[common],
        help="refresh the sources named in a config: incremental, with a change log",
        description=(
            "Load the current snapshot of every configured source, work out what changed since its last "
            "run, and apply it (facts, end-dates and ChangeEvents) in one write per source. Exit codes: "
            "0 ok, 1 error, 2 usage, 3 a source failed, 4 another refresh is running, 5 watchlist alert."
        ),
    )
    parser.add_argument("config", metavar="CONFIG", type=Path, help="refresh configuration (YAML)")
    parser.add_argument("--as-of", help="snapshot date of this run, YYYY-MM-DD (default: today, UTC)")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="refresh only this source (repeatable)"
    )
    parser.add_argument("--watchlist", type=Path, help="alert on matching changes (overrides the config's)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"fuzzy name-match score for watchlist names, 0-100 (default {DEFAULT_THRESHOLD:g})",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="work out and print the changes; write nothing"
    )
    parser.add_argument(
        "--show",
        type=int,
        default=50,
        metavar="N",
        help="change lines to print (default 50; the log has all)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    err = Console(stderr=True, highlight=False)
    config = load_config(args.config)
    for name in args.only or []:
        config.source(name)
    watch_path = args.watchlist or config.watchlist
    watchlist = load_watchlist(watch_path) if watch_path else []
    root = refresh_root()
    try:
        with run_lock(root), open_store(args.store) as store:
            refresher = Refresher(
                store,
                config,
                root,
                as_of=args.as_of,
                dry_run=args.dry_run,
                say=lambda msg: err.print(msg, markup=False),
            )
            report = refresher.run(args.only)
    except RefreshLocked as exc:
        err.print(f"shadowfleet refresh: {exc}; not starting a second one", markup=False)
        return EXIT_LOCKED
    for src in report.sources:
        if src.rejects:
            path = write_rejects(src.rejects, f"refresh-{src.name}", None)
            err.print(f"{src.name}: {len(src.rejects)} row(s) rejected, kept in {path}", markup=False)
    alerts = _alerts(report, watchlist, args.threshold)
    _emit(report, alerts, args)
    if report.failed:
        names = ", ".join(s.name for s in report.failed)
        err.print(f"shadowfleet refresh: {len(report.failed)} source(s) failed: {names}", markup=False)
        return EXIT_SOURCE_FAILED
    return EXIT_ALERT if alerts else 0


def _alerts(report: RunReport, watchlist: list[WatchEntry], threshold: float) -> list[dict[str, Any]]:
    out = []
    for change in report.changes:
        hits = match(change, watchlist, threshold) if watchlist else []
        if hits:
            out.append({"watch": hits, "line": alert_line(change, hits), "change": change})
    return out


def _emit(report: RunReport, alerts: list[dict[str, Any]], args: argparse.Namespace) -> None:
    if args.format == "json":
        doc = report.as_dict()
        doc["changes"] = report.changes
        doc["alerts"] = [{"watch": a["watch"], "line": a["line"], "key": a["change"]["key"]} for a in alerts]
        emit_document(doc, "json")
        return
    if args.format == "csv":
        columns = ["as_of", "source", "what", "entity_label", "entity_key", "entity_name", "imo", "mmsi"]
        columns += ["relation", "old_value", "new_value", "summary", "key", "run_id"]
        emit_rows(report.changes, columns, "csv")
        return
    rows = [
        {
            "source": s.name,
            "status": s.status,
            "as of": s.as_of,
            "entities": f"{s.bundles:,}" if s.bundles else "",
            "new/changed/gone": f"{s.added:,}/{s.changed:,}/{s.removed:,}" if s.bundles else "",
            "changes": len(s.changes),
            "seconds": f"{s.seconds:.1f}",
        }
        for s in report.sources
    ]
    title = f"refresh {report.run_id} as of {report.as_of}"
    emit_rows(rows, list(rows[0]) if rows else None, "table", title=title)
    out = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    for s in report.sources:
        for note in (s.message, s.recovered):
            if note:
                out.print(f"{s.name}: {note}", markup=False)
    changes = report.changes
    if changes:
        out.print(f"{len(changes)} change(s):", markup=False)
        for change in changes[: max(args.show, 0)]:
            out.print(f"  {change['source']}  {change['as_of']}  {change['summary']}", markup=False)
        if len(changes) > args.show:
            out.print(
                f"  ... and {len(changes) - args.show} more (shadowfleet changes --since {report.as_of})"
            )
    for alert in alerts:
        out.print(alert["line"], markup=False)
