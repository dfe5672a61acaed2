"""shell-networks on the embedded store."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from graph.store import Store
from queries.memory._graph import G, Node, caption, eprops
from queries.temporal import valid_at

MANAGERS = ("SHIP_MANAGER_OF", "ISM_MANAGER_OF", "COMMERCIAL_MANAGER_OF", "OPERATOR_OF")
TIES = (("address", "REGISTERED_AT"), ("officer", "DIRECTOR_OF"), ("agent", "REGISTRATION_AGENT_OF"))
# What else two companies may share that says they belong together.
SHARED = ("DIRECTOR_OF", "SHAREHOLDER_OF", "BENEFICIAL_OWNER_OF", "LINKED_TO")


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
        listed_agent = kind == "address" and g.get(t, "registered_agent") is not None
        if (
            listed_agent or (len(members) > p["max_unrelated"] and _agent_like(g, kind, t))
        ) and _corroborated(g, t, members, as_of) < p["min_companies"]:
            continue  # a registered agent, or its address, with unrelated clients
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


def _agent_like(g: G, kind: str, tie: Node) -> bool:
    """A registration agent, or an address one is registered at."""
    if kind == "agent":
        return True
    if kind != "address":
        return False
    return any(g.is_agent(ag) for ag, _, _ in g.inc(tie, ("REGISTERED_AT",)))


def _corroborated(g: G, tie: Node, members: set[Node], as_of: str) -> int:
    """How many members share a director, shareholder, beneficial owner or listed link with another.

    Either directly (one is linked to the other) or through a common neighbour other than the tie.
    """
    count = 0
    for c in members:
        found = False
        for z, _, data, _ in g.both(c, SHARED):
            if not valid_at(eprops(data), as_of):
                continue
            if z in members and z != c:
                found = True
                break
            if z == tie:
                continue
            if any(
                c2 in members and c2 != c and c2[0] == "Company" and valid_at(eprops(d2), as_of)
                for c2, _, d2, _ in g.both(z, SHARED)
            ):
                found = True
                break
        count += found
    return count
