"""The dossier of one node: its properties and every relationship, as the vessel/company Cypher has them."""

from __future__ import annotations

from typing import Any

from graph import evidence
from queries.memory._graph import G, Node, coalesce, eprops, sort_key
from queries.temporal import day, in_change_window, valid_at

# Link properties shown in ``detail``, then event/listing/anomaly properties (detail name -> property).
REL_DETAIL = (
    "status",
    "role",
    "share_pct",
    "draught_before",
    "draught_after",
    "listed_name",
    "score",
    "method",
    "first_seen",
    "last_seen",
    "began_after",
    "ended_after",
    "relation",
    "stated_by",
)
OTHER_DETAIL = {
    "authority": "authority",
    "list_name": "list_name",
    "list_reference": "list_reference",
    "remarks": "remarks",
    "cargo": "cargo",
    "confidence": "confidence",
    "evidence": "evidence",
    "hours": "hours",
    "suspected_disabling": "suspected_disabling",
    "draught_in": "draught_in",
    "draught_out": "draught_out",
    "activity": "activity",
    "detector": "detector",
    "anomaly": "detail",
}
# Nodes whose provenance belongs to the fact that leads to them.
OWNED = frozenset({"StsTransfer", "PortCall", "AisGap", "Loitering", "Sanction", "Anomaly"})


def dossier(g: G, subjects: list[Node], as_of: str) -> list[dict[str, Any]]:
    """Rows of the vessel and company queries for the given subject nodes."""
    rows: list[dict[str, Any]] = []
    for n in subjects:
        claims = g.claims(n)
        claimed = {c.split(evidence.SEP, 1)[0] for c in claims}
        for prop, value in g.props(n).items():
            sources = evidence.sources_for(claims, prop, value) if prop in claimed else g.prov(n)
            rows.append(_row(n, "property", prop, None, value, None, None, None, None, sources, ""))
        for (prop, text), sources in evidence.other_values(claims, g.props(n)).items():
            rows.append(_row(n, "claimed", prop, None, text, None, None, None, None, sources, text))
        for o, rel_type, key, data, outgoing in g.all_edges(n):
            r, op = eprops(data), g.props(o)
            date_from = coalesce(
                r.get("valid_from"),
                op.get("start"),
                op.get("arrival"),
                op.get("listing_date"),
                op.get("observed"),
            )
            began_after = r.get("began_after")
            if date_from is not None and day(date_from) > as_of and not (began_after and began_after < as_of):
                continue
            undated = (
                r.get("valid_from") is None and r.get("valid_to") is None and r.get("first_seen") is None
            )
            dated = r.get("status") is None and not undated
            detail: dict[str, Any] = {name: r.get(name) for name in REL_DETAIL}
            detail.update({name: op.get(prop) for name, prop in OTHER_DETAIL.items()})
            detail["port"] = _port(g, o) if o[0] == "PortCall" else None
            detail["counterparts"] = _counterparts(g, o, n) if o[0] == "StsTransfer" else None
            sources = list(data["provenance"]) + (list(g.prov(o)) if o[0] in OWNED else [])
            rows.append(
                _row(
                    n,
                    "relationship",
                    rel_type,
                    "out" if outgoing else "in",
                    coalesce(
                        op.get("name"),
                        op.get("full"),
                        op.get("mmsi"),
                        op.get("call_sign"),
                        op.get("program"),
                        op.get("kind"),
                        o[1],
                    ),
                    o,
                    date_from,
                    coalesce(r.get("valid_to"), op.get("end"), op.get("departure"), op.get("delisting_date")),
                    valid_at(r, as_of) if dated and not in_change_window(r, as_of) else None,
                    sources,
                    key,
                    detail,
                )
            )
    rows.sort(
        key=lambda r: (
            r["subject"],
            r["kind"],
            sort_key(r["date_from"]),
            r["fact"],
            sort_key(r["direction"]),
            sort_key(r["other"]),
            sort_key(r["date_to"]),
            r.pop("_tiebreak"),
        )
    )
    return rows


def _row(
    n: Node,
    kind: str,
    fact: str,
    direction: str | None,
    value: Any,
    other: Node | None,
    date_from: Any,
    date_to: Any,
    current: bool | None,
    sources: list[str],
    tiebreak: str,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "subject": n[1],
        "kind": kind,
        "fact": fact,
        "direction": direction,
        "value": value,
        "other": other[1] if other else None,
        "other_label": other[0] if other else None,
        "date_from": date_from,
        "date_to": date_to,
        "current": current,
        "detail": detail,
        "sources": list(sources),
        "_tiebreak": tiebreak,
    }


def _port(g: G, call: Node) -> Any:
    names = sorted(
        coalesce(g.get(p, "name"), p[1]) for p, _, _ in g.out(call, ("AT_PORT",)) if p[0] == "Port"
    )
    return names[0] if names else None


def _counterparts(g: G, sts: Node, subject: Node) -> list[str]:
    return sorted(
        coalesce(g.get(w, "name"), w[1])
        for w, _, _ in g.inc(sts, ("PARTICIPATED_IN",))
        if w[0] == "Vessel" and w != subject
    )
