"""`shadowfleet detect FILE...`: find STS transfers, AIS gaps, port calls, loitering, draught changes and
identity anomalies in AIS, and write them to the graph with their evidence."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from graph.config import open_store
from graph.store import Store, WriteStats
from loaders.ais.decode import AisBatch, read_ais
from loaders.ais.params import DEFAULT_PRESET, PRESETS, ParameterError, resolve
from loaders.ais.pipeline import DETECTORS, Detection, run_detectors
from loaders.ais.ports import port_list
from loaders.ais.records import RecordBuilder, event_mmsis, iso, resolve_vessels, static_imos
from loaders.base import LoadError, LoadOptions, retrieved_at
from shadowfleet.cli import UsageError
from shadowfleet.commands.load import write_rejects
from shadowfleet.output import emit_document, emit_rows

AIS_FORMATS = ("auto", "nmea", "dma", "noaa", "parquet")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "detect", parents=[common], help="detect STS transfers, AIS gaps, port calls and more in AIS files"
    )
    parser.add_argument("files", metavar="FILE", nargs="*", type=Path, help="NMEA, DMA/NOAA CSV or Parquet")
    parser.add_argument("--preset", default=DEFAULT_PRESET, choices=sorted(PRESETS), help="parameter set")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one parameter (repeatable)",
    )
    parser.add_argument(
        "--ais-format", default="auto", choices=AIS_FORMATS, help="input layout (default: sniff)"
    )
    parser.add_argument("--ports", action="append", default=[], type=Path, help="extra ports CSV (e.g. WPI)")
    parser.add_argument(
        "--only", help=f"comma-separated detectors to run (default all: {', '.join(DETECTORS)})"
    )
    parser.add_argument("--dry-run", action="store_true", help="detect and report, write nothing")
    parser.add_argument("--list-params", action="store_true", help="print the preset's parameters and exit")
    parser.add_argument("--retrieved-at", help="when the AIS was retrieved (default: file modification time)")
    parser.add_argument("--source", default="ais", help="source name in provenance (default: ais)")
    parser.add_argument("--rejects", type=Path, help="where to write rejected lines (JSON lines)")
    parser.set_defaults(handler=run)


def _only(text: str | None) -> tuple[str, ...]:
    if not text:
        return DETECTORS
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [c for c in chosen if c not in DETECTORS]
    if unknown:
        raise UsageError(f"unknown detector(s) {', '.join(unknown)}; choose from {', '.join(DETECTORS)}")
    return chosen


def detect_into(
    store: Store | None,
    files: list[Path],
    params: dict[str, Any],
    *,
    ports: list[Path] = (),  # type: ignore[assignment]
    fmt: str = "auto",
    only: tuple[str, ...] = DETECTORS,
    options: LoadOptions | None = None,
    source: str = "ais",
) -> tuple[AisBatch, Detection, WriteStats | None, int]:
    """Read AIS files, run the detectors and (with a store) write the events; returns what happened."""
    options = options or LoadOptions()
    batch = read_ais(files, fmt)
    detection = run_detectors(batch, port_list(ports), params, only)
    mmsis = event_mmsis(detection, with_positions=False)
    refs = resolve_vessels(mmsis, static_imos(detection), store)
    retrieved = [retrieved_at(path, options) for path in files]
    records = RecordBuilder(detection, files, retrieved, source).build(refs)
    stats = store.write(records) if store is not None else None
    return batch, detection, stats, len(records)


def _event_row(event: Any) -> dict[str, Any]:
    p = event.props
    where = ""
    if "lat" in p:
        where = f"{p['lat']:.4f},{p['lon']:.4f}"
    elif "start_lat" in p:
        where = f"{p['start_lat']:.3f},{p['start_lon']:.3f} → {p['end_lat']:.3f},{p['end_lon']:.3f}"
    elif "port" in p:
        where = p["port"].name
    facts = {
        "encounter": lambda: (
            f"{p['hours']} h, min {p['min_distance_m']} m, {p['median_speed_knots']} kn, "
            f"draughts {p['draughts']}"
        ),
        "loitering": lambda: f"{p['hours']} h at {p['median_speed_knots']} kn",
        "gap": lambda: (
            f"{p['hours']} h, {p['implied_speed_knots']} kn implied"
            + (", suspected disabling" if p["suspected_disabling"] else "")
        ),
        "port_call": lambda: f"{p['hours']} h, draught {p['draught_in']} → {p['draught_out']} m",
        "anomaly": lambda: p["detail"],
    }[event.kind]()
    return {
        "event": event.kind if event.kind != "anomaly" else p["kind"],
        "mmsi": " + ".join(str(m) for m in event.mmsis),
        "start": iso(event.start),
        "end": iso(event.end),
        "where": where,
        "facts": facts,
    }


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    try:
        params = resolve(args.preset, args.param)
    except ParameterError as exc:
        raise UsageError(str(exc)) from None
    if args.list_params:
        emit_document({"preset": args.preset, "parameters": params}, args.format)
        return 0
    if not args.files:
        raise UsageError("detect needs at least one AIS file")
    for path in args.files:
        if not path.is_file():
            raise LoadError(f"{path}: no such file")
    only = _only(args.only)
    options = LoadOptions(retrieved_at=args.retrieved_at, source=args.source)
    with console.status("detecting"):
        if args.dry_run:
            batch, detection, stats, n_records = detect_into(
                None, args.files, params, ports=args.ports, fmt=args.ais_format, only=only, options=options,
                source=args.source,
            )  # fmt: skip
        else:
            with open_store(args.store) as store:
                batch, detection, stats, n_records = detect_into(
                    store, args.files, params, ports=args.ports, fmt=args.ais_format, only=only,
                    options=options, source=args.source,
                )  # fmt: skip
    rejects_path = write_rejects(batch.rejects, "ais", args.rejects)
    summary: dict[str, Any] = {
        "files": [str(p) for p in args.files],
        "preset": args.preset,
        "parameters": params,
        **{f"read_{k}": v for k, v in sorted(batch.counts.items())},
        "lines_rejected": len(batch.rejects),
        "rejects_file": str(rejects_path) if rejects_path else None,
        **detection.counts,
        "records": n_records,
        "written": not args.dry_run,
        "nodes_created": stats.nodes_created if stats else 0,
        "relationships_created": stats.edges_created if stats else 0,
        "seconds": {k: round(v, 3) for k, v in detection.timings.items()},
    }
    rows = [_event_row(e) for e in detection.events]
    if args.format == "json":
        emit_document({**summary, "events": rows}, "json")
        return 0
    measures = [
        {"measure": k, "value": json.dumps(v) if isinstance(v, dict | list) else v}
        for k, v in summary.items()
        if k not in ("files", "parameters")
    ]
    emit_rows(measures, ["measure", "value"], args.format, title=f"detect ({args.preset})")
    if args.format == "table":
        emit_rows(rows, ["event", "mmsi", "start", "end", "where", "facts"], "table", title="events")
    return 0
