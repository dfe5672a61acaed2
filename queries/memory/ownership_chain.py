"""ownership-chain on the embedded store: every simple path up the ownership links, with its arithmetic."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from graph.store import Store
from queries.memory._graph import G, Node, coalesce, cypher_round, cypher_str, eprops
from queries.memory._sanctions import active_sanction
from queries.temporal import valid_at

UP = ("REGISTERED_OWNER_OF", "BENEFICIAL_OWNER_OF", "SHAREHOLDER_OF")
OWNERS_OF_OWNER = ("SHAREHOLDER_OF", "BENEFICIAL_OWNER_OF")
PARTIES = ("Company", "Person")
HARD_LIMIT = 8


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of ownership-chain; see queries/ownership-chain.yaml."""
    g = G(store)
    as_of, max_hops = p["as_of"], min(p["max_hops"], HARD_LIMIT)
    wanted = p["vessel"]
    rows: list[dict[str, Any]] = []
    for v in g.nodes("Vessel"):
        if v[1] != wanted and g.get(v, "imo") != wanted:
            continue
        paths: dict[Node, list[tuple[int, float | None, str]]] = defaultdict(list)
        _walk(g, v, v, [v], [], paths, p, max_hops)
        for o, found in paths.items():
            known = [pct for _, pct, _ in found if pct is not None]
            unknown_paths = len(found) - len(known)
            total = sum(known) if known else None
            effective = None if total is None else 100.0 if total > 100.0 else cypher_round(total, 2)
            majority = (
                "yes"
                if effective is not None and effective >= 50.0
                else "unknown"
                if unknown_paths > 0
                else "no"
            )
            rows.append(
                {
                    "vessel": v[1],
                    "owner": o[1],
                    "owner_label": o[0],
                    "owner_name": coalesce(g.get(o, "name"), o[1]),
                    "depth": min(hops for hops, _, _ in found),
                    "effective_pct": effective,
                    "majority": majority,
                    "ultimate": not any(
                        valid_at(eprops(data), as_of) for _, _, data in g.inc(o, OWNERS_OF_OWNER)
                    ),
                    "sanctioned": active_sanction(g, o, as_of),
                    "chains": sorted(chain for _, _, chain in found),
                }
            )
    rows.sort(key=lambda r: (r["vessel"], r["depth"], r["owner"]))
    return rows


def _walk(
    g: G,
    v: Node,
    node: Node,
    seen: list[Node],
    steps: list[tuple[str, Any, Node]],
    paths: dict[Node, list[tuple[int, float | None, str]]],
    p: dict[str, Any],
    max_hops: int,
) -> None:
    """Depth-first up the ownership links valid on as_of, recording every simple path to every owner."""
    above = [(owner, rel_type, data) for owner, rel_type, data in g.inc(node, UP)]
    if node == v:  # a link a sanctions list states, either way, unless it restates an ownership
        owners = {o for o, _, data in above if valid_at(eprops(data), p["as_of"])}
        above += [
            (o, t, d) for o, t, d, _ in g.both(node, ("LINKED_TO",)) if o[0] in PARTIES and o not in owners
        ]
    for owner, rel_type, data in above:
        props = eprops(data)
        if owner in seen or not valid_at(props, p["as_of"]):
            continue
        path = [*steps, (rel_type, props, owner)]
        paths[owner].append(_arithmetic(g, v, path))
        if len(path) < max_hops and g.degree(owner) <= p["max_degree"] and not g.is_agent(owner):
            _walk(g, v, owner, [*seen, owner], path, paths, p, max_hops)


def _arithmetic(g: G, v: Node, path: list[tuple[str, Any, Node]]) -> tuple[int, float | None, str]:
    """(hops, effective share or None, the chain text) of one path, exactly as the Cypher builds them."""
    pct: float | None = 100.0
    text = coalesce(g.get(v, "name"), v[1])
    for rel_type, props, owner in path:
        share = None if rel_type == "LINKED_TO" else props.get("share_pct")
        if pct is not None and rel_type != "REGISTERED_OWNER_OF":
            pct = None if share is None else pct * share / 100.0
        if rel_type == "REGISTERED_OWNER_OF":
            label = "owner"
        elif rel_type == "LINKED_TO":
            label = "linked by " + coalesce(props.get("stated_by"), "a list")
        else:
            label = "?%" if share is None else cypher_str(share) + "%"
        text += " <- " + label + " " + coalesce(g.get(owner, "name"), owner[1])
    result = "unknown" if pct is None else cypher_str(cypher_round(pct, 2)) + "%"
    return len(path), pct, text + " = " + result
