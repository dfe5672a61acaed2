"""supply-chains on the embedded store: from each qualifying first transfer, depth-first forward in time."""

from __future__ import annotations

from functools import cache
from typing import Any

from graph.store import Store
from queries.memory._graph import G, Node, coalesce, role
from queries.memory._links import receiver_evidence, supplier_evidence
from queries.temporal import day, days_between

STS = ("PARTICIPATED_IN",)


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of supply-chains; see queries/supply-chains.yaml."""
    g = G(store)
    as_of, window, max_hops, max_degree = p["as_of"], p["window_days"], p["max_hops"], p["max_degree"]
    found: dict[tuple, dict[str, Any]] = {}

    @cache
    def supplier(vessel: Node, d: str) -> tuple[str, ...]:
        return tuple(supplier_evidence(g, vessel, p["supplier_country"], d, window))

    @cache
    def receiver(vessel: Node, d: str) -> tuple[str, ...]:
        return tuple(receiver_evidence(g, vessel, p["receiver_country"], d, window, as_of))

    def transfer_day(sts: Node) -> str | None:
        return day(g.get(sts, "start"))

    def extend(vessels: list[Node], transfers: list[Node], evidence: tuple[str, ...]) -> None:
        sts = transfers[-1]
        d = transfer_day(sts)
        if d is None or d > as_of:
            return
        for w, _, data in g.inc(sts, STS):
            if w[0] != "Vessel" or role(data) == "giver" or w in vessels:
                continue
            emit([*vessels, w], transfers, evidence)
            if len(transfers) >= max_hops or g.degree(w) > max_degree:
                continue
            for nxt, _, out in g.out(w, STS):
                if nxt[0] != "StsTransfer" or nxt == sts or role(out) == "receiver":
                    continue
                dn = transfer_day(nxt)
                if dn is None or dn < d or days_between(d, dn) > window:
                    continue
                extend([*vessels, w], [*transfers, nxt], evidence)

    def emit(vessels: list[Node], transfers: list[Node], evidence: tuple[str, ...]) -> None:
        ident = (tuple(vessels), tuple(transfers))
        if ident in found:
            return
        d1, dn = transfer_day(transfers[0]), transfer_day(transfers[-1])
        assert d1 is not None and dn is not None
        linked = receiver(vessels[-1], dn)
        if not linked:
            return
        found[ident] = {
            "supplier": vessels[0][1],
            "supplier_evidence": list(evidence),
            "receiver": vessels[-1][1],
            "receiver_evidence": list(linked),
            "hops": len(transfers),
            "route": [coalesce(g.get(v, "name"), v[1]) for v in vessels],
            "vessels": [v[1] for v in vessels],
            "transfers": [t[1] for t in transfers],
            "first_date": d1,
            "last_date": dn,
        }

    for v0 in g.nodes("Vessel"):
        for s1, _, data in g.out(v0, STS):
            if s1[0] != "StsTransfer" or role(data) == "receiver":
                continue
            d1 = transfer_day(s1)
            if d1 is None or d1 > as_of:
                continue
            evidence = supplier(v0, d1)
            if evidence:
                extend([v0], [s1], evidence)
    rows = list(found.values())
    rows.sort(key=lambda r: (r["first_date"], r["vessels"], r["transfers"]))
    return rows
