"""`shadowfleet report vessel IMO|NAME` and `shadowfleet report query NAME --param k=v`: case files.

A case file is one HTML file that opens offline (map, timeline, subgraph, footnoted findings, what the
data does not show) plus a Markdown version and its drawings; see docs/casefiles.md.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from rich.console import Console

from graph.store import NodeView, StoreError
from queries.casefile.collect import add_tracks, query_case, vessel_case
from queries.casefile.model import CaseFile
from queries.casefile.render import write_case
from queries.engine import find_vessels
from shadowfleet.commands.dossier import list_candidates
from shadowfleet.commands.query import add_known_at, add_query_arguments, lookup, open_view, parse_params

MAX_TRACK_POINTS = 3000


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "report", parents=[common], help="write a case file (HTML + Markdown) to hand over"
    )
    kinds = parser.add_subparsers(dest="report_kind", metavar="KIND", required=True)
    vessel = kinds.add_parser("vessel", parents=[common], help="the case file of one vessel")
    vessel.add_argument("vessel", nargs="+", help="IMO number, MMSI, key, or current or former name")
    query = kinds.add_parser("query", parents=[common], help="the case file of a canned query's findings")
    add_query_arguments(query)
    vessel.add_argument("--as-of", dest="as_of", metavar="DATE", help="as the facts stood on DATE")
    add_known_at(vessel)
    for sub_parser in (vessel, query):
        sub_parser.add_argument(
            "-o",
            "--output",
            type=Path,
            metavar="FILE.html",
            help="where to write the HTML (the .md and drawings go beside it)",
        )
        sub_parser.add_argument(
            "--ais",
            nargs="+",
            type=Path,
            default=[],
            metavar="FILE",
            help="AIS files (NMEA, DMA/NOAA CSV, Parquet) whose tracks to draw on the map",
        )
    vessel.set_defaults(handler=run_vessel_report)
    query.set_defaults(handler=run_query_report)


def run_vessel_report(args: argparse.Namespace) -> int:
    text = " ".join(args.vessel)
    with open_view(args) as store:
        found: list[NodeView] = find_vessels(store, text)
        if not found:
            raise StoreError(f"no vessel matches {text!r}")
        if len(found) > 1:
            list_candidates(store, "vessel", text, found, ["key", "imo", "name", "mmsi", "flag"], args.format)
            return 1
        case = vessel_case(store, found[0].key, args.as_of)
    return _write(args, case, f"casefile-{_slug(case.subject)}.html")


def run_query_report(args: argparse.Namespace) -> int:
    spec = lookup(args.name)
    params = parse_params(args.param, spec, args.as_of)
    spec.bind(params)  # a bad value fails before the store is opened
    with open_view(args) as store:
        case = query_case(store, spec.name, params)
    return _write(args, case, f"casefile-{spec.name}.html")


def _write(args: argparse.Namespace, case: CaseFile, default_name: str) -> int:
    if args.ais:
        add_tracks(case, _tracks(case, args.ais))
    written = write_case(case, args.output or Path(default_name))
    console = Console(stderr=True, highlight=False)
    console.print(
        f"case file: {written.html} ({len(case.footnotes)} footnotes, {len(case.caveats)} caveats); "
        f"Markdown: {written.markdown}",
        markup=False,
        soft_wrap=True,
    )
    return 0


def _tracks(case: CaseFile, paths: list[Path]) -> dict[str, list[tuple[float, float]]]:
    """Positions of the case's vessels (matched by MMSI) from AIS files, thinned for drawing."""
    from loaders.ais.decode import read_ais  # polars and pyais load only when tracks are asked for

    wanted = {name: {int(m) for m in mmsis if m.isdigit()} for name, mmsis in case.mmsis.items()}
    if not wanted:
        return {}
    positions = read_ais(paths).positions.sort("mmsi", "t")
    tracks: dict[str, list[tuple[float, float]]] = {}
    for name, mmsis in wanted.items():
        rows = positions.filter(positions["mmsi"].is_in(sorted(mmsis)))
        step = max(1, rows.height // MAX_TRACK_POINTS)
        points = list(zip(rows["lat"].to_list()[::step], rows["lon"].to_list()[::step], strict=True))
        if points:
            tracks[name] = points
    return tracks


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "vessel"
