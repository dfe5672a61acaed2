"""`shadowfleet demo`: load the fictional demo case into the embedded store and print what it holds."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from graph.config import open_store
from loaders.base import LoadOptions
from shadowfleet.commands.load import load_into
from shadowfleet.output import emit_rows

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "demo"


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "demo", parents=[common], help="load the fictional demo case and show the findings"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    files = sorted(FIXTURES.glob("*.jsonl"))
    with open_store(args.store) as store:
        output, stats = load_into(store, "records", files, LoadOptions(source="demo"), console)
        counts = store.counts().as_dict()
    console.print(
        f"demo case: {output.rows_read} rows read, {stats.nodes_created} nodes and "
        f"{stats.edges_created} relationships new",
        highlight=False,
    )
    rows = [
        {"label or type": k, "count": v} for k, v in {**counts["nodes"], **counts["relationships"]}.items()
    ]
    emit_rows(rows, ["label or type", "count"], args.format, title="demo graph")
    return 0
