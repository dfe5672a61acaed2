"""sanctions-exposure on the embedded store: breadth-first from each sanctioned entity."""

from __future__ import annotations

from typing import Any

from graph.store import Store
from queries.memory._graph import G, Node, caption, coalesce, eprops
from queries.memory._sanctions import listing_active
from queries.temporal import day, valid_at

LINKS = (
    "REGISTERED_OWNER_OF",
    "BENEFICIAL_OWNER_OF",
    "SHIP_MANAGER_OF",
    "ISM_MANAGER_OF",
    "OPERATOR_OF",
    "COMMERCIAL_MANAGER_OF",
    "SHAREHOLDER_OF",
    "DIRECTOR_OF",
    "LINKED_TO",
    "REGISTERED_AT",
    "PARTICIPATED_IN",
)
# A transfer joins two vessels in one link: reaching it costs no hop, leaving it to a vessel costs one.
FREE = ("StsTransfer",)
ENTITIES = ("Vessel", "Company", "Person")
HARD_LIMIT = 4


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of sanctions-exposure; see queries/sanctions-exposure.yaml."""
    g = G(store)
    as_of, authority = p["as_of"], p["authority"]
    listed: dict[Node, set[str]] = {}
    for sanction in g.nodes("Sanction"):
        props = g.props(sanction)
        if not listing_active(g, sanction, as_of) or (
            authority is not None and props.get("authority") != authority
        ):
            continue
        reference = coalesce(props.get("list_reference"), sanction[1])
        listed_on = coalesce(props.get("listing_date"), "?")
        text = (
            f"{coalesce(props.get('authority'), '?')} {coalesce(props.get('program'), '?')} "
            f"{reference} (listed {listed_on})"
        )
        for entity, _, _ in g.inc(sanction, ("SANCTIONED_AS",)):
            listed.setdefault(entity, set()).add(text)
    rows: list[dict[str, Any]] = []
    for s in sorted(listed):
        if p["sanctioned"] is not None and s[1] != p["sanctioned"]:
            continue
        for x, (trail, nodes) in _reach(g, s, p).items():
            if x[0] not in ENTITIES:
                continue
            text = caption(g, s)
            for i in range(1, len(trail), 2):
                text += " " + trail[i] + " " + caption(g, nodes[(i + 1) // 2])
            rows.append(
                {
                    "entity": x[1],
                    "entity_label": x[0],
                    "entity_name": coalesce(g.get(x, "name"), x[1]),
                    "hops": sum(1 for n in nodes[1:] if n[0] not in FREE),
                    "entity_sanctioned": x in listed,
                    "sanctioned": s[1],
                    "sanctioned_name": coalesce(g.get(s, "name"), s[1]),
                    "listings": sorted(listed[s]),
                    "path": text,
                }
            )
    rows.sort(key=lambda r: (r["hops"], r["entity"], r["sanctioned"]))
    return rows


def _reach(g: G, s: Node, p: dict[str, Any]) -> dict[Node, tuple[list[str], list[Node]]]:
    """Every entity within max_hops of ``s`` with its first shortest trail (keys and arrows) and nodes.

    Breadth-first by relationships over (node, hops used) states, as the Cypher's ALL SHORTEST with its
    hop-limit pre-filter: an entity's path is one with the fewest relationships among those within
    max_hops, the first in key order when several tie.
    """
    as_of, max_hops = p["as_of"], min(p["max_hops"], HARD_LIMIT)
    links = LINKS if p.get("via_address") else tuple(t for t in LINKS if t != "REGISTERED_AT")
    State = tuple[Node, int]
    best: dict[State, tuple[list[str], list[Node]]] = {(s, 0): ([s[1]], [s])}
    fewest: dict[Node, int] = {s: 0}  # least hops with which each node has been reached so far
    reached: dict[Node, tuple[list[str], list[Node]]] = {}
    frontier: list[State] = [(s, 0)]
    for _ in range(2 * max_hops):
        found: dict[State, tuple[list[str], list[Node]]] = {}
        for state in frontier:
            u, used = state
            if u != s and (g.degree(u) > p["max_degree"] or g.is_agent(u)):
                continue
            trail, nodes = best[state]
            for other, rel_type, data, outgoing in g.both(u, links):
                hops = used if other[0] in FREE else used + 1
                # A node reached at an earlier depth with no more hops leads nowhere new from here.
                if hops > max_hops or fewest.get(other, max_hops + 1) <= hops:
                    continue
                if not valid_at(eprops(data), as_of):
                    continue
                start = day(g.get(other, "start"))
                if start is not None and start > as_of:
                    continue
                arrow = f"-{rel_type}->" if outgoing else f"<-{rel_type}-"
                candidate = [*trail, arrow, other[1]]
                if (other, hops) not in found or candidate < found[(other, hops)][0]:
                    found[(other, hops)] = (candidate, [*nodes, other])
        level: dict[Node, tuple[list[str], list[Node]]] = {}
        for (node, hops), found_path in sorted(found.items()):
            fewest[node] = min(fewest.get(node, hops), hops)
            if node in reached or node == s or node[0] not in ENTITIES:
                continue
            if node not in level or found_path[0] < level[node][0]:
                level[node] = found_path
        reached.update(level)
        best.update(found)
        frontier = sorted(found)
        if not frontier:
            break
    return reached
