"""The native format: graph records as JSON lines, one node or relationship per line.

A node line: ``{"node": "Vessel", "key": "imo:9289518", "props": {...}, "provenance": [...]}``.
A relationship line: ``{"rel": "FLAGGED", "from": ["Vessel", "imo:..."], "to": ["Country", "PA"],
"key": "...", "props": {...}, "provenance": [...]}``. Provenance entries are objects with source,
record and retrieved_at; a line without provenance gets the file and line as its record id. This is
also what `shadowfleet export --format jsonl` writes, so an export loads back into an empty store.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graph.records import EdgeRecord, NodeRecord, Provenance
from graph.schema import SchemaError, default_schema
from loaders.base import LoadOptions, LoadOutput, Reject, iter_jsonl, provenance, retrieved_at


def _provenances(obj: dict[str, Any], default: Provenance) -> list[Provenance]:
    raw = obj.get("provenance") or []
    if isinstance(raw, dict):
        raw = [raw]
    found = [Provenance(p["source"], p["record"], p["retrieved_at"]) for p in raw]
    return found or [default]


def to_records(obj: Any, default: Provenance) -> list[NodeRecord | EdgeRecord]:
    """Turn one parsed line into records (one per provenance entry); raises ValueError when malformed."""
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    schema = default_schema()
    props = obj.get("props") or {}
    if "node" in obj:
        schema.check_node(obj["node"], props)
        return [NodeRecord(obj["node"], str(obj["key"]), props, p) for p in _provenances(obj, default)]
    if "rel" in obj:
        (src_label, src), (dst_label, dst) = obj["from"], obj["to"]
        schema.check_edge(obj["rel"], src_label, dst_label, props)
        return [
            EdgeRecord(
                obj["rel"],
                src_label,
                str(src),
                dst_label,
                str(dst),
                str(obj.get("key", "")),
                props,
                p,
                observed=obj.get("observed"),
            )
            for p in _provenances(obj, default)
        ]
    raise ValueError("a line needs 'node' or 'rel'")


def load(paths: Sequence[Path], options: LoadOptions) -> LoadOutput:
    """Read native JSON-lines record files."""
    out = LoadOutput()
    for path in paths:
        when = retrieved_at(path, options)
        source = options.source or "records"
        for number, obj in iter_jsonl(path):
            out.rows_read += 1
            if isinstance(obj, Reject):
                out.rejects.append(obj)
                continue
            try:
                out.records.extend(to_records(obj, provenance(source, path, number, when)))
            except (ValueError, KeyError, TypeError, SchemaError) as exc:
                out.rejects.append(Reject(str(path), number, f"bad record: {exc}", str(obj)[:500]))
            if options.progress:
                options.progress(1)
    return out
