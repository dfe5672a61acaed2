"""flag-hoppers on the embedded store."""

from __future__ import annotations

from typing import Any

from graph.store import Store
from queries.memory._graph import G, coalesce, eprops
from queries.temporal import in_force, is_period, overlaps, shift, started_by


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of flag-hoppers; see queries/flag-hoppers.yaml."""
    g = G(store)
    as_of = p["as_of"]
    since = shift(as_of, -p["window_days"])
    rows: list[dict[str, Any]] = []
    for v in g.nodes("Vessel"):
        flags = [(c, eprops(data)) for c, _, data in g.out(v, ("FLAGGED",)) if c[0] == "Country"]
        if not flags:
            continue
        changes = 0
        for i, (_, r) in enumerate(flags):
            start = r.get("valid_from")
            if start is None or not (since < start <= as_of):
                continue
            if r.get("status") is not None:
                continue
            if any(j != i and is_period(q) and sort_start(q) < start for j, (_, q) in enumerate(flags)):
                changes += 1
        if changes < p["min_changes"]:
            continue
        begun = [(c, f) for c, f in flags if started_by(f, as_of)]
        timeline = sorted((sort_start(f), _period(c[1], f, as_of)) for c, f in begun)
        current = sorted(c[1] for c, f in flags if in_force(f, as_of))
        foc = sorted({c[1] for c, f in begun if g.get(c, "flag_of_convenience") is True})
        mismatches: set[str] = set()
        for n, _, data in g.out(v, ("HAS_MMSI",)):
            m = eprops(data)
            mid_country = g.get(n, "mid_country")
            if n[0] != "Mmsi" or mid_country is None or not started_by(m, as_of):
                continue
            for c, f in begun:
                if mid_country != c[1] and is_period(f) and overlaps(m, f):
                    mismatches.add(f"{coalesce(g.get(n, 'mmsi'), n[1])} MID {mid_country}, flag {c[1]}")
        props = g.props(v)
        rows.append(
            {
                "vessel": v[1],
                "imo": props.get("imo"),
                "name": props.get("name"),
                "flag_changes": changes,
                "timeline": [text for _, text in timeline],
                "current_flag": current[0] if current else None,
                "flags_of_convenience": foc,
                "mid_mismatches": sorted(mismatches),
            }
        )
    rows.sort(key=lambda r: (-r["flag_changes"], r["vessel"]))
    return rows


def sort_start(props: dict[str, Any]) -> str:
    """``coalesce(valid_from, '')``."""
    value = props.get("valid_from")
    return "" if value is None else value


def _period(code: str, props: dict[str, Any], as_of: str) -> str:
    """``CC from..to`` for a period, ``CC (former)`` for an undated list entry."""
    if props.get("status") is not None:
        return f"{code} ({props['status']})"
    return f"{code} {sort_start(props)}..{end_by(props, as_of)}"


def end_by(props: dict[str, Any], as_of: str) -> str:
    """The period's end when it came by as_of, else ''."""
    end = props.get("valid_to")
    return end if end is not None and end <= as_of else ""
