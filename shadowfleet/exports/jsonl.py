"""JSON lines in the native records format, so `shadowfleet load records FILE` loads an export back.

One node or relationship per line, as loaders/records.py reads them::

    {"node": "Vessel", "key": "imo:9289518", "props": {...}, "provenance": [{...}, ...]}
    {"rel": "FLAGGED", "from": ["Vessel", "imo:..."], "to": ["Country", "PA"], "key": "...",
     "props": {...}, "provenance": [{...}, ...]}

Relationships are written as stored: a dated period keeps its valid_from/valid_to/first_seen/last_seen
as plain properties and never carries ``observed``, so loading the file does not fold anything again
and an empty store gets exactly the same graph back (nodes, relationships, properties, provenance in
its stored order). A node or relationship stored without provenance is written with an empty list;
the records loader would give it the export file's line as provenance (see docs/formats/exports.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from graph import evidence
from graph.store import EdgeView, NodeView
from shadowfleet.exports.source import (
    ExportStats,
    GraphSource,
    ProgressFn,
    decode_provenance,
    text_output,
    tick,
)

FORMAT = "jsonl"


def node_line(node: NodeView) -> dict[str, Any]:
    """The records-format object for one node, with its claims (which record states which value)."""
    line = {
        "node": node.label,
        "key": node.key,
        "props": node.props,
        "provenance": decode_provenance(node.provenance, f"{node.label} {node.key!r}"),
    }
    if node.claims:
        line["claims"] = [claim_object(c) for c in node.claims]
    return line


def claim_object(claim: str) -> dict[str, Any]:
    """One claim (graph/evidence.py) as a records-format object."""
    name, _, value, prov, _ = evidence.parse(claim)
    held = claim.split(evidence.SEP, 4)[3] or None
    data = json.loads(prov)
    return {"property": name, "value": value, "held": held, "provenance": data}


def edge_line(edge: EdgeView) -> dict[str, Any]:
    """The records-format object for one relationship."""
    return {
        "rel": edge.type,
        "from": [edge.src_label, edge.src],
        "to": [edge.dst_label, edge.dst],
        "key": edge.key,
        "props": edge.props,
        "provenance": decode_provenance(edge.provenance, f"{edge.type} {edge.src!r}->{edge.dst!r}"),
    }


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=False) + "\n"


def write_lines(source: GraphSource, out: TextIO, progress: ProgressFn | None = None) -> tuple[int, int]:
    """Stream every node and relationship of ``source`` to ``out``; returns (nodes, relationships)."""
    nodes = edges = 0
    for node_batch, edge_batch in source.walk():
        out.write("".join(_dump(node_line(n)) for n in node_batch))
        out.write("".join(_dump(edge_line(e)) for e in edge_batch))
        nodes += len(node_batch)
        edges += len(edge_batch)
        tick(progress, len(node_batch) + len(edge_batch))
    return nodes, edges


def write(source: GraphSource, target: Path | None, progress: ProgressFn | None = None) -> ExportStats:
    """Write ``source`` to ``target`` (None: stdout), replacing the file crash-safely."""
    with text_output(target) as out:
        nodes, edges = write_lines(source, out, progress)
    return ExportStats(FORMAT, str(target) if target else "stdout", nodes, edges)
