"""Sanctions listings in force on a date, shared by the queries that show them."""

from __future__ import annotations

from queries.memory._graph import G, Node


def listing_active(g: G, sanction: Node, as_of: str) -> bool:
    """``(listing_date IS NULL OR listing_date <= D) AND (delisting_date IS NULL OR delisting_date > D)``."""
    props = g.props(sanction)
    listed, delisted = props.get("listing_date"), props.get("delisting_date")
    return (listed is None or listed <= as_of) and (delisted is None or delisted > as_of)


def active_sanction(g: G, entity: Node, as_of: str) -> bool:
    """True when the entity has a listing in force on ``as_of``."""
    return any(
        s[0] == "Sanction" and listing_active(g, s, as_of) for s, _, _ in g.out(entity, ("SANCTIONED_AS",))
    )
