"""shell-networks on the embedded store."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from graph.store import Store
from queries.memory._graph import G, Node, caption, eprops
from queries.temporal import valid_at

MANAGERS = ("SHIP_MANAGER_OF", "ISM_MANAGER_OF", "COMMERCIAL_MANAGER_OF", "OPERATOR_OF")
TIES = (("address", "REGISTERED_AT"), ("officer", "DIRECTOR_OF"), ("agent", "REGISTRATION_AGENT_OF"))


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of shell-networks; see queries/shell-networks.yaml."""
    g = G(store)
    as_of = p["as_of"]
    groups: dict[tuple[str, Node], set[Node]] = defaultdict(set)
    for c in g.nodes("Company"):
        for t, _, data in g.out(c, ("REGISTERED_AT",)):
            if t[0] == "Address" and valid_at(eprops(data), as_of):
                groups[("address", t)].add(c)
        for t, rel_type, data in g.inc(c, ("DIRECTOR_OF", "REGISTRATION_AGENT_OF")):
            if valid_at(eprops(data), as_of):
                groups[("officer" if rel_type == "DIRECTOR_OF" else "agent", t)].add(c)
        for v, _, own in g.out(c, ("REGISTERED_OWNER_OF",)):
            if v[0] != "Vessel" or not valid_at(eprops(own), as_of):
                continue
            for t, _, man in g.inc(v, MANAGERS):
                if t != c and valid_at(eprops(man), as_of):
                    groups[("manager", t)].add(c)
    rows: list[dict[str, Any]] = []
    for (kind, t), members in groups.items():
        if not p["min_companies"] <= len(members) <= p["max_companies"]:
            continue
        vessels: set[str] = set()
        single: list[str] = []
        for c in members:
            registered = 0
            for v, rel_type, data in g.out(c, ("REGISTERED_OWNER_OF", "BENEFICIAL_OWNER_OF")):
                if v[0] == "Vessel" and valid_at(eprops(data), as_of):
                    vessels.add(v[1])
                    registered += rel_type == "REGISTERED_OWNER_OF"
            if registered == 1:
                single.append(c[1])
        if len(vessels) < p["min_vessels"]:
            continue
        ordered = sorted(members)
        rows.append(
            {
                "tie_kind": kind,
                "tie": t[1],
                "tie_name": caption(g, t),
                "n_companies": len(members),
                "companies": [c[1] for c in ordered],
                "company_names": [caption(g, c) for c in ordered],
                "single_ship_owners": sorted(single),
                "vessels": sorted(vessels),
            }
        )
    rows.sort(key=lambda r: (-r["n_companies"], r["tie_kind"], r["tie"]))
    return rows
