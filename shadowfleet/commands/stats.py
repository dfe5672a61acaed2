"""`shadowfleet stats`: counts by label and relationship type."""

from __future__ import annotations

import argparse
from typing import Any

from graph.config import open_store
from shadowfleet.output import emit_document, emit_rows


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("stats", parents=[common], help="count nodes by label and relationships by type")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    with open_store(args.store) as store:
        counts = store.counts().as_dict()
        location = store.location
    if args.format == "json":
        emit_document({"store": location, **counts}, "json")
        return 0
    rows = [{"kind": "node", "name": k, "count": v} for k, v in counts["nodes"].items()]
    rows += [{"kind": "relationship", "name": k, "count": v} for k, v in counts["relationships"].items()]
    emit_rows(rows, ["kind", "name", "count"], args.format, title=f"shadowfleet graph: {location}")
    return 0
