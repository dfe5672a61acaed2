"""GeoJSON (RFC 7946) of the positioned events: one Feature per event, coordinates as [lon, lat].

Which nodes: every label the schema marks ``event: true`` (StsTransfer, PortCall, AisGap, Loitering)
and Anomaly. Where a node is, by the first rule that applies:

1. its own ``lat``/``lon`` (an STS transfer, a loitering): a Point;
2. its own ``start_lat``/``start_lon`` and ``end_lat``/``end_lon`` (an AIS gap): a MultiPoint of the
   ends it has, in that order (a Point with one end); the straight line between them is not drawn,
   because nobody knows the path the vessel took while dark;
3. the ``lat``/``lon`` of a node it points to (a port call's Port): a Point, with ``place`` and
   ``place_name`` naming it;
4. nowhere: the event is left out and counted (``without position``; an Anomaly has no coordinates in
   the schema). Coordinates outside [-180, 180] x [-90, 90] are left out and counted too.

Each Feature has ``id`` ``Label:key`` and properties ``key``, ``label``, ``name`` (the caption), every
stored property, ``provenance`` (a list of ``{source, record, retrieved_at}``), and the vessels linked
to the event (``vessels``, ``vessel_names`` and, for STS transfers, ``roles`` in the same order).

Tracks: the graph holds no AIS track points (only the events detected from them), so no LineString
is written; tracks stay in the AIS source files.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from graph.schema import Schema
from graph.store import NodeView, Store
from shadowfleet.exports.source import (
    ExportStats,
    GraphSource,
    ProgressFn,
    caption,
    decode_provenance,
    text_output,
    tick,
)

FORMAT = "geojson"


def event_labels(schema: Schema) -> list[str]:
    """The labels exported as features: the schema's events, and Anomaly."""
    return sorted(label for label, t in schema.nodes.items() if t.event or label == "Anomaly")


def _coordinate(lon: Any, lat: Any) -> list[float] | None:
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        return None
    return [x, y]


def _has(props: dict[str, Any], *names: str) -> bool:
    return all(props.get(n) is not None for n in names)


class _Places:
    """Positioned nodes an event points to (ports), fetched once per key."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.positioned = {
            label
            for label, t in store.schema.nodes.items()
            if "lat" in t.properties and "lon" in t.properties
        }
        self.cache: dict[tuple[str, str], NodeView | None] = {}

    def fetch(self, wanted: set[tuple[str, str]]) -> None:
        by_label: dict[str, set[str]] = defaultdict(set)
        for label, key in wanted - set(self.cache):
            by_label[label].add(key)
        for label, keys in by_label.items():
            found = self.store.get_nodes(label, sorted(keys))
            for key in keys:
                self.cache[(label, key)] = found.get(key)


def _features(
    store: Store, label: str, batch: Sequence[NodeView], places: _Places, counts: dict[str, int]
) -> list[dict[str, Any]]:
    schema = store.schema
    keys = [n.key for n in batch]
    vessels: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for edge in sorted(store.edges(label, keys, None, "in"), key=lambda e: (e.dst, e.src, e.type)):
        if edge.src_label == "Vessel":
            vessels[edge.dst].append((edge.src, edge.props.get("role")))
    pointed: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for edge in sorted(store.edges(label, keys, None, "out"), key=lambda e: (e.src, e.dst_label, e.dst)):
        if edge.dst_label in places.positioned:
            pointed[edge.src].append((edge.dst_label, edge.dst))
    places.fetch({p for targets in pointed.values() for p in targets})
    names = store.get_nodes("Vessel", sorted({v for linked in vessels.values() for v, _ in linked}))
    out = []
    for node in batch:
        props = node.props
        extra: dict[str, Any] = {}
        geometry: dict[str, Any] | None = None
        if _has(props, "lat", "lon"):
            point = _coordinate(props["lon"], props["lat"])
            geometry = {"type": "Point", "coordinates": point} if point else None
            counts["bad_position"] += point is None
        elif _has(props, "start_lat", "start_lon") or _has(props, "end_lat", "end_lon"):
            ends = [
                _coordinate(props.get(f"{end}_lon"), props.get(f"{end}_lat"))
                for end in ("start", "end")
                if _has(props, f"{end}_lat", f"{end}_lon")
            ]
            if all(ends):
                geometry = (
                    {"type": "Point", "coordinates": ends[0]}
                    if len(ends) == 1
                    else {"type": "MultiPoint", "coordinates": ends}
                )
            else:
                counts["bad_position"] += 1
        else:
            place = next((places.cache.get(p) for p in pointed.get(node.key, [])), None)
            if place is not None and _has(place.props, "lat", "lon"):
                point = _coordinate(place.props["lon"], place.props["lat"])
                geometry = {"type": "Point", "coordinates": point} if point else None
                counts["bad_position"] += point is None
                extra = {"place": place.key, "place_name": caption(schema, place)}
            else:
                counts["without_position"] += 1
        if geometry is None:
            continue
        linked = vessels.get(node.key, [])
        properties: dict[str, Any] = {"key": node.key, "label": label, "name": caption(schema, node)}
        properties.update(props)
        properties.update(extra)
        properties["vessels"] = [v for v, _ in linked]
        properties["vessel_names"] = [caption(schema, names[v]) if v in names else v for v, _ in linked]
        if any(role is not None for _, role in linked):
            properties["roles"] = [role for _, role in linked]
        properties["provenance"] = decode_provenance(node.provenance, f"{label} {node.key!r}")
        out.append(
            {"type": "Feature", "id": f"{label}:{node.key}", "geometry": geometry, "properties": properties}
        )
    return out


def write_features(source: GraphSource, out: TextIO, progress: ProgressFn | None = None) -> dict[str, int]:
    """Stream the FeatureCollection; returns counts (features, events without or with a bad position)."""
    store = source.store
    places = _Places(store)
    counts = {"features": 0, "events": 0, "without_position": 0, "bad_position": 0}
    out.write('{"type":"FeatureCollection","features":[\n')
    first = True
    for label in event_labels(source.schema):
        for batch in source.nodes_of(label):
            for feature in _features(store, label, batch, places, counts):
                out.write(("" if first else ",\n") + json.dumps(feature, ensure_ascii=False))
                first = False
                counts["features"] += 1
            counts["events"] += len(batch)
            tick(progress, len(batch))
    out.write("\n]}\n")
    return counts


def write(source: GraphSource, target: Path | None, progress: ProgressFn | None = None) -> ExportStats:
    """Write the events of ``source`` as GeoJSON to ``target`` (None: stdout), crash-safely."""
    with text_output(target) as out:
        counts = write_features(source, out, progress)
    stats = ExportStats(FORMAT, str(target) if target else "stdout", counts["events"], 0)
    stats.extra = {
        "features": counts["features"],
        "events_without_position": counts["without_position"],
        "events_with_bad_position": counts["bad_position"],
    }
    return stats
