"""dark-activity on the embedded store."""

from __future__ import annotations

from typing import Any

from graph.store import Store
from queries.memory._graph import G, Node, coalesce
from queries.memory._links import port_calls, port_in
from queries.temporal import day, parse_day


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of dark-activity; see queries/dark-activity.yaml."""
    g = G(store)
    as_of, since, margin = p["as_of"], p["since"], p["margin_days"]
    countries = p["port_countries"].split(",")
    rows: list[dict[str, Any]] = []
    for v in g.nodes("Vessel"):
        gaps = [gap for gap, _, _ in g.out(v, ("WENT_DARK",)) if gap[0] == "AisGap"]
        if not gaps:
            continue
        events: list[tuple[str, Node, Any, Any, Any, list[str]]] = []
        for e, _, _ in g.out(v, ("PARTICIPATED_IN",)):
            if e[0] == "StsTransfer" and _on_or_before(g.get(e, "start"), as_of):
                others = sorted(
                    w[1] for w, _, _ in g.inc(e, ("PARTICIPATED_IN",)) if w[0] == "Vessel" and w != v
                )
                events.append(("sts", e, g.get(e, "start"), g.get(e, "end"), None, others))
        for e, port in port_calls(g, v):
            if not _on_or_before(g.get(e, "arrival"), as_of):
                continue
            if any(port_in(g, port, cc) for cc in countries):
                place = coalesce(g.get(port, "name"), port[1])
                events.append(("port-call", e, g.get(e, "arrival"), g.get(e, "departure"), place, []))
        for gap in gaps:
            props = g.props(gap)
            start, hours = props.get("start"), props.get("hours")
            if not _on_or_before(start, as_of) or (since is not None and day(start) < since):
                continue
            if hours is not None and hours < p["min_hours"]:
                continue
            gs = parse_day(start)
            ge = parse_day(coalesce(props.get("end"), start))
            for kind, e, started, ended, place, others in events:
                es, ee = parse_day(started), parse_day(coalesce(ended, started))
                if (es - ge).days > margin or (gs - ee).days > margin:
                    continue
                if es > ge:
                    relation, apart = "event-after-gap", (es - ge).days
                elif ee < gs:
                    relation, apart = "event-before-gap", (gs - ee).days
                else:
                    relation, apart = "overlaps", 0
                rows.append(
                    {
                        "vessel": v[1],
                        "vessel_name": g.get(v, "name"),
                        "gap": gap[1],
                        "gap_start": start,
                        "gap_end": props.get("end"),
                        "gap_hours": hours,
                        "relation": relation,
                        "days_apart": apart,
                        "event_type": kind,
                        "event": e[1],
                        "event_start": started,
                        "event_end": ended,
                        "place": place,
                        "counterparts": others,
                    }
                )
    rows.sort(
        key=lambda r: (r["gap_start"], r["vessel"], r["gap"], r["event_start"], r["event_type"], r["event"])
    )
    return rows


def _on_or_before(value: str | None, as_of: str) -> bool:
    """``left(value, 10) <= as_of`` (false for a missing date)."""
    return value is not None and value[:10] <= as_of
