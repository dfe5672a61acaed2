"""cap-tally on the embedded store."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from graph.store import Store
from queries.memory._graph import G, Node, cypher_round, role
from queries.memory._links import ever_linked, linked, port_calls, port_in
from queries.temporal import day

SCENARIOS = ((0.33, "33%"), (0.6, "60%"), (0.9, "90%"))


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of cap-tally; see queries/cap-tally.yaml."""
    g = G(store)
    as_of, since, kp = p["as_of"], p["since"], p["receiver_country"]
    wanted = p["vessel_type"].lower()

    def in_range(d: str | None) -> bool:
        return d is not None and d <= as_of and (since is None or d >= since)

    def of_type(v: Node) -> bool:
        return wanted == "" or wanted in (g.get(v, "vessel_type") or "").lower()

    deliveries: set[tuple[Node, Node, str]] = set()
    # Only vessels ever linked to the receiver can deliver; their links are checked per event date.
    for v in sorted(ever_linked(g, kp)):
        if not of_type(v):
            continue
        for e, _, rv in g.out(v, ("PARTICIPATED_IN",)):
            d = day(g.get(e, "start"))
            if e[0] != "StsTransfer" or role(rv) == "giver" or not in_range(d):
                continue
            assert d is not None
            if (v, e, d) in deliveries or not linked(g, v, kp, d):
                continue
            givers = [
                w
                for w, _, rw in g.inc(e, ("PARTICIPATED_IN",))
                if w[0] == "Vessel" and role(rw) != "receiver"
            ]
            if any(w != v and not linked(g, w, kp, d) for w in givers):
                deliveries.add((v, e, d))
        for e, port in port_calls(g, v):
            d = day(g.get(e, "arrival"))
            if in_range(d) and port_in(g, port, p["supplier_country"]) and linked(g, v, kp, d):  # type: ignore[arg-type]
                deliveries.add((v, e, d))  # type: ignore[arg-type]
    years: dict[str, list[Node]] = defaultdict(list)
    for v, _, d in deliveries:
        years[d[:4]].append(v)
    rows: list[dict[str, Any]] = []
    for year in sorted(years):
        vessels = sorted(years[year])
        weights = [g.get(v, "deadweight") for v in vessels]
        dwt = sum(w for w in weights if w is not None)
        barrels = [int(cypher_round(dwt * share * p["bbl_per_tonne"], 0) or 0) for share, _ in SCENARIOS]
        over = next(
            (label for (_, label), bbl in zip(SCENARIOS, barrels, strict=True) if bbl > p["cap_bbl"]), "none"
        )
        rows.append(
            {
                "year": year,
                "deliveries": len(vessels),
                "vessels": len(set(vessels)),
                "deadweight_t": cypher_round(dwt, 1),
                "unknown_deadweight": sum(1 for w in weights if w is None),
                "bbl_33": barrels[0],
                "bbl_60": barrels[1],
                "bbl_90": barrels[2],
                "cap_bbl": p["cap_bbl"],
                "over_cap_at": over,
                "vessel_keys": sorted({v[1] for v in vessels}),
            }
        )
    return rows
