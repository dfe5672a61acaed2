"""identity-changes on the embedded store."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from graph.store import Store
from queries.memory._graph import G, Node, coalesce, eprops, sort_key
from queries.temporal import is_period, overlaps, started_by

KINDS = {"NAMED": "rename", "HAS_MMSI": "mmsi-change", "HAS_CALL_SIGN": "call-sign-change"}
SHARED = {"NAMED": "shared-name", "HAS_MMSI": "shared-mmsi"}


def _value(g: G, node: Node) -> Any:
    props = g.props(node)
    return coalesce(props.get("name"), props.get("mmsi"), props.get("call_sign"), node[1])


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of identity-changes; see queries/identity-changes.yaml."""
    g = G(store)
    as_of, since = p["as_of"], p["since"]
    found: list[tuple[str, Node, Any, Any, Any, Node | None]] = []
    for v in g.nodes("Vessel"):
        periods = [(n, t, eprops(d)) for n, t, d in g.out(v, KINDS)]
        for i, (n, rel_type, r) in enumerate(periods):
            start = r.get("valid_from")
            if not is_period(r) or start is None or start > as_of or (since is not None and start < since):
                continue
            before = [
                (sort_key(q.get("valid_from")), _value(g, m))
                for j, (m, t, q) in enumerate(periods)
                if j != i and t == rel_type and is_period(q) and sort_key(q.get("valid_from")) < start
            ]
            if before:
                previous = max(before)[1]
                found.append((KINDS[rel_type], v, start, _value(g, n), previous, None))
        for n, rel_type, data in g.out(v, SHARED):
            r = eprops(data)
            if not is_period(r) or not started_by(r, as_of):
                continue
            for w, q_type, q_data in g.inc(n, (rel_type,)):
                q = eprops(q_data)
                if w[0] != "Vessel" or q_type != rel_type or not v[1] < w[1]:
                    continue
                if is_period(q) and started_by(q, as_of) and overlaps(r, q):
                    starts = [s for s in (r.get("valid_from"), q.get("valid_from")) if s is not None]
                    value = coalesce(g.get(n, "name"), g.get(n, "mmsi"), n[1])
                    found.append((SHARED[rel_type], v, max(starts) if starts else None, value, None, w))
    holders: dict[str, set[Node]] = defaultdict(set)
    for x in g.nodes("Vessel"):
        props = g.props(x)
        for imo in [props.get("imo"), *(props.get("claimed_imos") or [])]:
            if imo is not None:
                holders[imo].add(x)
    for imo, hulls in holders.items():
        for v in hulls:
            for w in hulls:
                if v[1] < w[1]:
                    found.append(("shared-imo", v, None, imo, None, w))
    rows = [
        {
            "kind": kind,
            "vessel": v[1],
            "vessel_name": g.get(v, "name"),
            "date": date,
            "value": value,
            "previous": previous,
            "other_vessel": w[1] if w else None,
            "other_name": g.get(w, "name") if w else None,
        }
        for kind, v, date, value, previous, w in found
    ]
    rows.sort(
        key=lambda r: (
            r["vessel"],
            sort_key(r["date"]),
            r["kind"],
            r["value"],
            sort_key(r["other_vessel"]),
            sort_key(r["previous"]),
        )
    )
    return rows
