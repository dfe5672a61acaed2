"""Gather a case file from a store: the canned queries' rows, turned into claims, timeline, map and graph.

Only canned queries are read (the ``vessel`` dossier and the query a report is about), so each claim can
cite the query and the row that states it, and the same case file comes out of either store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from graph.store import NodeView, Store
from queries.browser_kit import key_columns
from queries.casefile.model import CaseFile, Claim, Mark, PictureEdge, PictureNode, Place, Section, Span
from queries.engine import run_query
from queries.registry import get

Row = dict[str, Any]

# Identity periods drawn as bars, by relationship type: (timeline row, caption).
IDENTITY = {"NAMED": "name", "FLAGGED": "flag", "HAS_MMSI": "MMSI", "HAS_CALL_SIGN": "call sign"}
PLURALS = {"name": "Names", "flag": "Flags", "MMSI": "MMSIs", "call sign": "Call signs"}
CONTROL = {
    "REGISTERED_OWNER_OF": "registered owner",
    "BENEFICIAL_OWNER_OF": "beneficial owner",
    "SHIP_MANAGER_OF": "ship manager",
    "ISM_MANAGER_OF": "ISM manager",  # capitalised as written
    "OPERATOR_OF": "operator",
    "COMMERCIAL_MANAGER_OF": "commercial manager",
}
EVENTS = {
    "PARTICIPATED_IN": "sts",
    "MADE_CALL": "port call",
    "WENT_DARK": "ais gap",
    "LOITERED": "loitering",
    "SANCTIONED_AS": "designation",
    "HAS_ANOMALY": "anomaly",
}
MAX_VESSELS = 12
MAX_TABLE_ROWS = 200


def vessel_case(store: Store, vessel: str, as_of: str | None = None) -> CaseFile:
    """The case file of one vessel (its key), as the facts stood on ``as_of`` (default today)."""
    params = get("vessel").bind({"vessel": vessel, **({"as_of": as_of} if as_of else {})})
    case = _new_case(store, f"Vessel {vessel}", vessel, params["as_of"])
    name = _add_vessel(case, store, vessel, params["as_of"])
    case.title = f"Case file: {name}"
    case.subject = name
    _finish(case, store)
    return case


def query_case(store: Store, query: str, params: Mapping[str, Any] | None = None) -> CaseFile:
    """The case file of a canned query's findings, with a section on each vessel they name."""
    spec = get(query)
    values = spec.bind(dict(params or {}))
    as_of = values.get("as_of") or get("vessel").bind({"vessel": "-"})["as_of"]
    rows = run_query(store, query, values)
    case = _new_case(store, f"Case file: {spec.title}", spec.title, as_of)
    case.query_name, case.query_params = query, _plain(values)
    case.table_columns = spec.column_names
    case.table_rows = rows[:MAX_TABLE_ROWS]
    summary = Section("Findings", anchor="findings")
    case.sections.append(summary)
    if not rows:
        summary.claims.append(Claim(f"The query {query} returns no rows with these parameters."))
    if len(rows) > MAX_TABLE_ROWS:
        case.caveats.append(
            f"The query returned {len(rows)} rows; the table shows the first {MAX_TABLE_ROWS}."
        )
    keys = key_columns(spec)
    for row in rows:
        expect = {c: row[c] for c in keys if c in row} or {c: row[c] for c in spec.column_names[:2]}
        note = case.cite(query, case.query_params, expect)
        summary.claims.append(Claim(_row_sentence(store, query, row), [note]))
    if rows:
        every_row = [n for claim in summary.claims for n in claim.footnotes]
        summary.claims.insert(0, Claim(_overview(query, spec.title, rows), every_row))
    vessels = _vessel_keys(store, rows, keys)
    if len(vessels) > MAX_VESSELS:
        case.caveats.append(
            f"The findings name {len(vessels)} vessels; this file describes the first {MAX_VESSELS}."
        )
    for key in vessels[:MAX_VESSELS]:
        _add_vessel(case, store, key, as_of)
    _finish(case, store)
    return case


# ---- one vessel --------------------------------------------------------------------------------------


def _add_vessel(case: CaseFile, store: Store, key: str, as_of: str) -> str:
    params = {"vessel": key, "as_of": as_of}
    rows = run_query(store, "vessel", params)
    props = {r["fact"]: r for r in rows if r["kind"] == "property"}
    name = str(props["name"]["value"]) if "name" in props else key
    section = Section(f"{name} ({_imo(key, props)})", anchor=_anchor(key))
    case.sections.append(section)
    case.nodes.append(PictureNode(key, "Vessel", name))

    def cite(row: Row) -> int:
        if row["kind"] == "property":
            expect = {"kind": "property", "fact": row["fact"], "value": row["value"]}
        else:
            expect = {"kind": "relationship", "fact": row["fact"], "other": row["other"]}
            expect["date_from"] = row["date_from"]
            expect["date_to"] = row["date_to"]
        return case.cite("vessel", params, expect, row.get("sources") or [])

    described = [f for f in ("vessel_type", "deadweight", "build_year", "imo") if f in props]
    if described:
        section.claims.append(Claim(_description(name, props), [cite(props[f]) for f in described]))
    rels = [r for r in rows if r["kind"] == "relationship"]
    unknown_shares: list[str] = []
    for fact, caption in IDENTITY.items():
        periods = [r for r in rels if r["fact"] == fact]
        if periods:
            section.claims.append(
                Claim(_periods_sentence(caption, periods, as_of), [cite(r) for r in periods])
            )
        for r in periods:
            _span(case, name, caption, r)
            if fact == "HAS_MMSI":
                case.mmsis.setdefault(name, []).append(str(r["value"]))
    for fact, caption in CONTROL.items():
        for r in (r for r in rels if r["fact"] == fact):
            section.claims.append(Claim(_control_sentence(caption, r), [cite(r)]))
            _span(case, name, "owner" if "owner" in caption else "manager", r, kind=fact)
            case.nodes.append(PictureNode(r["other"], r["other_label"], str(r["value"])))
            case.edges.append(PictureEdge(r["other"], key, fact))
            if fact.endswith("OWNER_OF") and (r.get("detail") or {}).get("share_pct") is None:
                unknown_shares.append(f"{r['value']} ({caption})")
    for r in (r for r in rels if r["fact"] == "LINKED_TO"):
        section.claims.append(Claim(_listed_link_sentence(name, r), [cite(r)]))
        case.nodes.append(PictureNode(r["other"], r["other_label"], str(r["value"])))
        case.edges.append(PictureEdge(r["other"], key, "LINKED_TO"))
    for fact, kind in EVENTS.items():
        for r in (r for r in rels if r["fact"] == fact):
            section.claims.append(Claim(_event_sentence(kind, r), [cite(r)]))
            label = _mark_label(kind, r)
            if r["date_from"]:
                case.marks.append(Mark(name, str(r["date_from"])[:10], _day(r["date_to"]), label, kind))
            else:
                case.caveats.append(f"{name}: the {kind} {label!r} has no date.")
            if kind in {"sts", "designation"}:  # port calls crowd the picture; the map and timeline hold them
                node_label = r["other_label"]
                case.nodes.append(PictureNode(r["other"], node_label, _event_caption(kind, r)))
                case.edges.append(PictureEdge(key, r["other"], fact))
    for r in (r for r in rels if r["fact"] == "FLAGGED" and r["current"]):
        case.nodes.append(PictureNode(r["other"], "Country", str(r["value"])))
        case.edges.append(PictureEdge(key, r["other"], "FLAGGED"))
    for r in (r for r in rels if r["fact"] == "POSSIBLY_SAME_AS"):
        detail = r.get("detail") or {}
        case.caveats.append(
            f"{name} may be the same as {r['value']} ({r['other']}): an unconfirmed match "
            f"(score {detail.get('score')}, {detail.get('method') or 'method not recorded'})."
        )
        section.claims.append(Claim(f"Possibly the same vessel as {r['value']} (not confirmed).", [cite(r)]))
    undated = [
        f"{r['fact']} {r['value']}"
        + (f" ({r['detail']['status']})" if (r.get("detail") or {}).get("status") else "")
        for r in rels
        if r["fact"] in {**IDENTITY, **CONTROL} and _period(r).startswith("undated")
    ]
    if undated:
        case.caveats.append(f"{name}: these facts carry no dates in any source: {'; '.join(undated)}.")
    if unknown_shares:
        case.caveats.append(
            f"{name}: no ownership percentage is stated for {'; '.join(unknown_shares)}, so the 50% rule "
            "cannot be applied to these links."
        )
    return name


def _description(name: str, props: Mapping[str, Row]) -> str:
    parts = [name]
    kind = props.get("vessel_type", {}).get("value")
    parts.append(f"is {_article(str(kind))} {kind}" if kind else "is a vessel")
    if "deadweight" in props:
        parts.append(f"of {float(props['deadweight']['value']):,.0f} t deadweight")
    if "build_year" in props:
        parts.append(f"built in {props['build_year']['value']}")
    if "imo" in props:
        parts.append(f"with IMO number {props['imo']['value']}")
    return " ".join(parts) + "."


def _periods_sentence(caption: str, rows: list[Row], as_of: str) -> str:
    dated = [r for r in rows if r["date_from"] or r["date_to"]]
    items = [f"{r['value']} ({_period(r)})" for r in rows]
    changes = max(0, len({(r["value"], r["date_from"]) for r in dated}) - 1)
    tail = (
        f"; {changes} change{'s' if changes != 1 else ''} on record up to {as_of}"
        if caption == "flag"
        else ""
    )
    return f"{PLURALS[caption]}: " + "; ".join(items) + tail + "."


def _control_sentence(caption: str, row: Row) -> str:
    detail = row.get("detail") or {}
    share = detail.get("share_pct")
    share_text = f", {share:g}%" if isinstance(share, int | float) else ""
    return f"{caption[0].upper()}{caption[1:]}: {row['value']} ({_period(row)}{share_text})."


def _listed_link_sentence(name: str, row: Row) -> str:
    """A link a sanctions list states, in the list's words: never called an ownership."""
    detail = row.get("detail") or {}
    authority = detail.get("stated_by") or "A sanctions list"
    quoted = f' ("{detail["relation"]}")' if detail.get("relation") else ""
    meaning = (
        ": OFAC's term for a party associated with, owned or controlled by the other"
        if authority == "OFAC"
        else ""
    )
    return (
        f"{authority} links {name} to {row['value']}{quoted}{meaning}; the list does not say it is the "
        "registered owner."
    )


def _event_sentence(kind: str, row: Row) -> str:
    detail = row.get("detail") or {}
    when = _period(row)
    if kind == "sts":
        with_ = ", ".join(detail.get("counterparts") or []) or "an unidentified vessel"
        role = f" as {detail['role']}" if detail.get("role") else ""
        evidence = "; ".join(detail.get("evidence") or []) or detail.get("detector") or "no evidence recorded"
        conf = (
            f", confidence {detail['confidence']:g}"
            if isinstance(detail.get("confidence"), int | float)
            else ""
        )
        return f"Ship-to-ship transfer{role} with {with_} ({when}); evidence: {evidence}{conf}."
    if kind == "port call":
        port = detail.get("port") or row["value"]
        draught = ""
        if detail.get("draught_in") is not None or detail.get("draught_out") is not None:
            draught = (
                f", draught {detail.get('draught_in', '?')} m in, {detail.get('draught_out', '?')} m out"
            )
        return f"Port call at {port} ({when}{draught})."
    if kind == "ais gap":
        hours = f", {detail['hours']:.0f} h" if isinstance(detail.get("hours"), int | float) else ""
        flag = "; suspected disabling" if detail.get("suspected_disabling") else ""
        return f"AIS dark ({when}{hours}){flag}."
    if kind == "loitering":
        return f"Loitering ({when})."
    if kind == "designation":
        parts = [detail.get("authority"), detail.get("list_name"), detail.get("list_reference")]
        listed = ", ".join(str(p) for p in parts if p)
        return f"Designated: {row['value']} ({listed}; listed {row['date_from'] or 'on a date not given'})."
    return f"Anomaly: {detail.get('anomaly') or row['value']} ({when})."


def _mark_label(kind: str, row: Row) -> str:
    detail = row.get("detail") or {}
    if kind == "sts":
        return "STS " + ", ".join(detail.get("counterparts") or [])
    if kind == "port call":
        return f"call {detail.get('port') or row['value']}"
    if kind == "designation":
        return f"listed {detail.get('authority') or row['value']}"
    return kind


def _event_caption(kind: str, row: Row) -> str:
    detail = row.get("detail") or {}
    if kind == "port call":
        return f"{detail.get('port') or 'call'} {_day(row['date_from']) or ''}".strip()
    if kind == "designation":
        return str(detail.get("authority") or row["value"])
    return f"STS {_day(row['date_from']) or ''}".strip()


def _span(case: CaseFile, lane: str, row_name: str, row: Row, kind: str | None = None) -> None:
    start, end = _day(row["date_from"]), _day(row["date_to"])
    detail = row.get("detail") or {}
    if start is None and end is None:
        # Seen in snapshots without stated dates: drawn over the time the sources saw it.
        start, end = _day(detail.get("first_seen")), _day(detail.get("last_seen"))
    if start is None and end is None:
        return
    case.spans.append(
        Span(lane, row_name, str(row["value"]), start, end, kind or row["fact"], row.get("current"))
    )


# ---- the query's rows ----------------------------------------------------------------------------------


def _row_sentence(store: Store, query: str, row: Row) -> str:
    if query == "supply-chains":
        route = " → ".join(row["route"])
        return (
            f"Cargo moved from {row['route'][0]} ({_plain_evidence(row['supplier_evidence'])}) "
            f"to {row['route'][-1]} ({_plain_evidence(row['receiver_evidence'])}) "
            f"in {_transfers(row)}: {route}."
        )
    cells = [f"{k} {_short(v)}" for k, v in row.items() if v not in (None, [], {}, "")]
    return "; ".join(cells[:8]) + "."


def _overview(query: str, title: str, rows: list[Row]) -> str:
    if query == "supply-chains" and rows:
        suppliers = {r["supplier"] for r in rows}
        receivers = {r["receiver"] for r in rows}
        middle = {v for r in rows for v in r["vessels"][1:-1]}
        transfers = {t for r in rows for t in r["transfers"]}
        first, last = min(r["first_date"] for r in rows), max(r["last_date"] for r in rows)
        parts = [
            _count(len(rows), "chain"),
            "carried cargo from",
            _count(len(suppliers), "Russian-linked supplier"),
            "to",
            _count(len(receivers), "DPRK-linked receiver"),
            "through",
            _count(len(middle), "intermediary vessel"),
            "and",
            _count(len(transfers), "ship-to-ship transfer") + ",",
            f"{first} to {last}.",
        ]
        return " ".join(parts)
    return f"{title}: {_count(len(rows), 'row')}."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _plain_evidence(items: list[str]) -> str:
    words = {f"{fact} ": f"{caption} " for fact, caption in CONTROL.items()}
    out = []
    for item in items:
        for fact, caption in words.items():
            item = item.replace(fact, caption)
        out.append(item)
    return "; ".join(out)


def _transfers(row: Row) -> str:
    if row["hops"] == 1:
        return f"one ship-to-ship transfer on {row['first_date']}"
    return f"{row['hops']} ship-to-ship transfers between {row['first_date']} and {row['last_date']}"


def _vessel_keys(store: Store, rows: Iterable[Row], columns: list[str]) -> list[str]:
    ordered: list[str] = []
    for row in rows:
        for column in columns:
            value = row.get(column)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item not in ordered:
                    ordered.append(item)
    found = store.get_nodes("Vessel", ordered)
    return [k for k in ordered if k in found]


# ---- places, picture, finishing --------------------------------------------------------------------


def _finish(case: CaseFile, store: Store) -> None:
    _add_places(case, store)
    seen: set[str] = set()
    nodes = []
    for node in case.nodes:
        if node.key not in seen:
            seen.add(node.key)
            nodes.append(node)
    case.nodes = nodes
    case.edges = list(dict.fromkeys(case.edges))
    case.caveats = list(dict.fromkeys(case.caveats))
    case.caveats.append(
        "Port calls are drawn at the port's position, not the ship's; the map's coastline is Natural Earth "
        "1:50m, so small islands and harbour works are not shown."
    )
    if not any(p.kind == "track" for p in case.places):
        case.caveats.append("No AIS tracks were given to this report: the map shows event positions only.")


def _add_places(case: CaseFile, store: Store) -> None:
    by_kind: dict[str, list[str]] = {"sts": [], "port call": [], "ais gap": [], "loitering": []}
    labels = {"sts": "StsTransfer", "port call": "PortCall", "ais gap": "AisGap", "loitering": "Loitering"}
    keys_by_mark: dict[str, set[str]] = {k: set() for k in by_kind}
    for note in case.footnotes:
        if note.query != "vessel" or note.expect.get("kind") != "relationship":
            continue
        kind = EVENTS.get(str(note.expect.get("fact")))
        if kind in keys_by_mark:
            keys_by_mark[kind].add(str(note.expect["other"]))
    for kind, keys in keys_by_mark.items():
        if not keys:
            continue
        nodes = store.get_nodes(labels[kind], sorted(keys))
        if kind == "port call":
            ports = {e.src: e.dst for e in store.edges("PortCall", sorted(nodes), ["AT_PORT"])}
            port_nodes = store.get_nodes("Port", sorted(set(ports.values())))
            calls: dict[str, tuple[NodeView, list[str]]] = {}
            for view in (nodes[k] for k in sorted(nodes)):
                port = port_nodes.get(ports.get(view.key, ""))
                if port and _has(port.props, "lat", "lon"):
                    calls.setdefault(port.key, (port, []))[1].append(_day(view.props.get("arrival")) or "?")
            for port, dates in calls.values():
                name = port.props.get("name") or port.key
                label = f"{name}: {len(dates)} call{'s' if len(dates) != 1 else ''}"
                place = Place(kind, label, ((port.props["lat"], port.props["lon"]),), min(dates))
                case.places.append(place)
        elif kind == "ais gap":
            for view in (nodes[k] for k in sorted(nodes)):
                p = view.props
                if _has(p, "start_lat", "start_lon", "end_lat", "end_lon"):
                    pts = ((p["start_lat"], p["start_lon"]), (p["end_lat"], p["end_lon"]))
                    case.places.append(Place(kind, f"dark {_day(p.get('start'))}", pts, _day(p.get("start"))))
        else:
            for view in (nodes[k] for k in sorted(nodes)):
                p = view.props
                if _has(p, "lat", "lon"):
                    label = f"{'STS' if kind == 'sts' else kind} {_day(p.get('start')) or ''}".strip()
                    case.places.append(Place(kind, label, ((p["lat"], p["lon"]),), _day(p.get("start"))))


def add_tracks(case: CaseFile, tracks: Mapping[str, list[tuple[float, float]]]) -> None:
    """Draw AIS tracks (vessel name → positions in time order) on the case file's map."""
    for name, points in sorted(tracks.items()):
        if len(points) > 1:
            case.places.append(Place("track", name, tuple(points)))
    case.caveats = [c for c in case.caveats if not c.startswith("No AIS tracks")]


# ---- small helpers -------------------------------------------------------------------------------------


def _new_case(store: Store, title: str, subject: str, as_of: str) -> CaseFile:
    generated = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return CaseFile(title, subject, str(as_of), generated, f"{store.backend} store at {store.location}")


def _period(row: Row) -> str:
    start, end = _day(row.get("date_from")), _day(row.get("date_to"))
    if start is None and end is None:
        detail = row.get("detail") or {}
        if detail.get("first_seen"):
            return f"seen in sources {_day(detail['first_seen'])} to {_day(detail.get('last_seen'))}"
        return f"undated, {detail['status']}" if detail.get("status") else "undated"
    detail = row.get("detail") or {}
    # A change seen between two snapshots is dated by the interval the snapshots give.
    if start and detail.get("began_after"):
        start = f"between {_day(detail['began_after'])} and {start}"
    if end and detail.get("ended_after"):
        end = f"between {_day(detail['ended_after'])} and {end}"
    if end is None:
        return f"from {start}" + (", current" if row.get("current") else "")
    if start == end:
        return f"on {start}"
    return f"{start or 'unknown start'} to {end}"


def _day(value: Any) -> str | None:
    return None if value in (None, "") else str(value)[:10]


def _imo(key: str, props: Mapping[str, Row]) -> str:
    return f"IMO {props['imo']['value']}" if "imo" in props else key


def _anchor(key: str) -> str:
    return "v-" + "".join(ch if ch.isalnum() else "-" for ch in key)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _has(props: Mapping[str, Any], *names: str) -> bool:
    return all(isinstance(props.get(n), int | float) for n in names)


def _short(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_short(v) for v in value[:6]) + (" …" if len(value) > 6 else "")
    if isinstance(value, dict):
        return ", ".join(f"{k}={_short(v)}" for k, v in list(value.items())[:4])
    return str(value)


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}
