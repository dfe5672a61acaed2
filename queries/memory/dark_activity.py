"""dark-activity on the embedded store: events of interest first, then the gaps of their vessels."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from graph.store import Store
from queries.memory._graph import G, Node, coalesce
from queries.memory._links import port_calls, port_in
from queries.temporal import day, parse_day

# (kind, event, start, end, place, first day, last day)
Event = tuple[str, Node, Any, Any, Any, date, date]


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of dark-activity; see queries/dark-activity.yaml."""
    g = G(store)
    as_of, since = p["as_of"], p["since"]
    margin = timedelta(days=p["margin_days"])
    countries = p["port_countries"].split(",")
    if since is None:
        events = _events(g, as_of, countries)
    else:  # the recent gaps are few: only their vessels' events are read
        recent = {
            v
            for gap in g.nodes("AisGap")
            if (day(g.get(gap, "start")) or "") >= since
            for v, _, _ in g.inc(gap, ("WENT_DARK",))
            if v[0] == "Vessel"
        }
        events = {v: _vessel_events(g, v, as_of, countries) for v in sorted(recent)}
    rows: list[dict[str, Any]] = []
    for v, found in events.items():
        for gap, _, _ in g.out(v, ("WENT_DARK",)):
            if gap[0] != "AisGap":
                continue
            props = g.props(gap)
            start, hours = props.get("start"), props.get("hours")
            if not _on_or_before(start, as_of) or (since is not None and day(start) < since):
                continue
            if hours is not None and hours < p["min_hours"]:
                continue
            gs = parse_day(start)
            ge = parse_day(coalesce(props.get("end"), start))
            lo, hi = gs - margin, ge + margin
            for kind, e, started, ended, place, es, ee in found:
                if es > hi or ee < lo:
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
                        "counterparts": _counterparts(g, e, v) if kind == "sts" else [],
                    }
                )
    rows.sort(
        key=lambda r: (r["gap_start"], r["vessel"], r["gap"], r["event_start"], r["event_type"], r["event"])
    )
    return rows


def _events(g: G, as_of: str, countries: list[str]) -> dict[Node, list[Event]]:
    """Every transfer and every call at a port of interest up to as_of, by vessel, with parsed days.

    Port calls are reached from the ports of interest, so calls elsewhere are never read.
    """
    events: dict[Node, list[Event]] = defaultdict(list)
    for e in g.nodes("StsTransfer"):
        start = g.get(e, "start")
        if not _on_or_before(start, as_of):
            continue
        end = g.get(e, "end")
        es, ee = parse_day(start), parse_day(coalesce(end, start))
        for v, _, _ in g.inc(e, ("PARTICIPATED_IN",)):
            if v[0] == "Vessel":
                events[v].append(("sts", e, start, end, None, es, ee))
    for port in g.nodes("Port"):
        if not any(port_in(g, port, cc) for cc in countries):
            continue
        place = coalesce(g.get(port, "name"), port[1])
        for call, _, _ in g.inc(port, ("AT_PORT",)):
            if call[0] != "PortCall":
                continue
            arrival, departure = g.get(call, "arrival"), g.get(call, "departure")
            if not _on_or_before(arrival, as_of):
                continue
            es, ee = parse_day(arrival), parse_day(coalesce(departure, arrival))
            for v, _, _ in g.inc(call, ("MADE_CALL",)):
                if v[0] == "Vessel":
                    events[v].append(("port-call", call, arrival, departure, place, es, ee))
    return events


def _vessel_events(g: G, v: Node, as_of: str, countries: list[str]) -> list[Event]:
    """The transfers and the calls at ports of interest of one vessel, up to as_of."""
    found: list[Event] = []
    for e, _, _ in g.out(v, ("PARTICIPATED_IN",)):
        start = g.get(e, "start") if e[0] == "StsTransfer" else None
        if _on_or_before(start, as_of):
            end = g.get(e, "end")
            found.append(("sts", e, start, end, None, parse_day(start), parse_day(coalesce(end, start))))
    for call, port in port_calls(g, v):
        arrival, departure = g.get(call, "arrival"), g.get(call, "departure")
        if _on_or_before(arrival, as_of) and any(port_in(g, port, cc) for cc in countries):
            place = coalesce(g.get(port, "name"), port[1])
            es, ee = parse_day(arrival), parse_day(coalesce(departure, arrival))
            found.append(("port-call", call, arrival, departure, place, es, ee))
    return found


def _counterparts(g: G, sts: Node, v: Node) -> list[str]:
    """The other vessels of a transfer (sorted keys)."""
    return sorted(w[1] for w, _, _ in g.inc(sts, ("PARTICIPATED_IN",)) if w[0] == "Vessel" and w != v)


def _on_or_before(value: str | None, as_of: str) -> bool:
    """``left(value, 10) <= as_of`` (false for a missing date)."""
    return value is not None and value[:10] <= as_of
