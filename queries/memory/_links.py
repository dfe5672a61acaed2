"""Country links of vessels, parties and ports on a date, as in the supply-chains and cap-tally Cypher."""

from __future__ import annotations

from queries.memory._graph import G, Node, coalesce, eprops
from queries.temporal import day, days_between, in_force, valid_at

# Relationships through which a party owns or runs a vessel.
CONTROL = ("REGISTERED_OWNER_OF", "BENEFICIAL_OWNER_OF", "OPERATOR_OF", "COMMERCIAL_MANAGER_OF")
# A link a sanctions list states (either way): associated with, owned or controlled by.
LISTED_LINK = ("LINKED_TO",)


def controllers(g: G, vessel: Node) -> list[tuple[Node, str, dict]]:
    """(party, relationship type, relationship data) of every controller and listed link of a vessel."""
    found = list(g.inc(vessel, CONTROL))
    found += [(other, rel_type, data) for other, rel_type, data, _ in g.both(vessel, LISTED_LINK)]
    return found


def control_text(g: G, party: Node, rel_type: str, data: dict) -> str:
    """Evidence text of a controller: ``TYPE name``, or ``linked by AUTHORITY to name`` for a listed link."""
    name = coalesce(g.get(party, "name"), party[1])
    if rel_type in LISTED_LINK:
        return "linked by " + coalesce(eprops(data).get("stated_by"), "a list") + " to " + name
    return rel_type + " " + name


def party_in(g: G, party: Node, cc: str) -> bool:
    """``o.jurisdiction = cc OR o.nationality = cc OR (o)-[:INCORPORATED_IN|NATIONAL_OF]->({key: cc})``."""
    props = g.props(party)
    if props.get("jurisdiction") == cc or props.get("nationality") == cc:
        return True
    return any(True for _ in g.between(party, ("Country", cc), ("INCORPORATED_IN", "NATIONAL_OF")))


def port_in(g: G, port: Node, cc: str) -> bool:
    """``p.country = cc OR (p)-[:LOCATED_IN]->(:Country {key: cc})``."""
    if g.get(port, "country") == cc:
        return True
    return any(True for _ in g.between(port, ("Country", cc), ("LOCATED_IN",)))


def flagged(g: G, vessel: Node, cc: str, d: str) -> bool:
    """The vessel flew ``cc``'s flag on ``d``."""
    return any(in_force(eprops(data), d) for data in g.between(vessel, ("Country", cc), ("FLAGGED",)))


def flag_and_control(g: G, vessel: Node, cc: str, d: str) -> set[str]:
    """Evidence: ``flag CC``, and ``<TYPE> <party name>`` per controller of nationality ``cc`` on ``d``."""
    found: set[str] = set()
    if flagged(g, vessel, cc, d):
        found.add("flag " + cc)
    for party, rel_type, data in controllers(g, vessel):
        if valid_at(eprops(data), d) and party_in(g, party, cc):
            found.add(control_text(g, party, rel_type, data))
    return found


def linked(g: G, vessel: Node, cc: str, d: str) -> bool:
    """The vessel flew ``cc``'s flag or had a controller of that nationality on ``d``."""
    if flagged(g, vessel, cc, d):
        return True
    return any(
        valid_at(eprops(data), d) and party_in(g, party, cc) for party, _, data in controllers(g, vessel)
    )


def port_calls(g: G, vessel: Node) -> list[tuple[Node, Node]]:
    """(port call, port) pairs of a vessel."""
    out: list[tuple[Node, Node]] = []
    for call, _, _ in g.out(vessel, ("MADE_CALL",)):
        for port, _, _ in g.out(call, ("AT_PORT",)):
            out.append((call, port))
    return out


def supplier_evidence(g: G, vessel: Node, cc: str, d: str, window: int) -> list[str]:
    """Why ``vessel`` is a supplier on ``d``: a recent loading call in ``cc``, its flag or its controllers."""
    found = flag_and_control(g, vessel, cc, d)
    for call, port in port_calls(g, vessel):
        props = g.props(call)
        sailed = day(coalesce(props.get("departure"), props.get("arrival")))
        if sailed is None or sailed > d or days_between(sailed, d) > window or not port_in(g, port, cc):
            continue
        found.add("loaded at " + coalesce(g.get(port, "name"), port[1]) + " " + sailed)
    return sorted(found)


def receiver_evidence(g: G, vessel: Node, cc: str, d: str, window: int, as_of: str) -> list[str]:
    """Why ``vessel`` is a receiver on ``d``: its flag, its controllers or a call in ``cc`` soon after."""
    found = flag_and_control(g, vessel, cc, d)
    for call, port in port_calls(g, vessel):
        arrived = day(g.get(call, "arrival"))
        if arrived is None or arrived < d or arrived > as_of or days_between(d, arrived) > window:
            continue
        if port_in(g, port, cc):
            found.add("called at " + coalesce(g.get(port, "name"), port[1]) + " " + arrived)
    return sorted(found)


def ever_linked(g: G, cc: str) -> set[Node]:
    """Vessels that ever flew ``cc``'s flag or had a controller of that nationality (any date).

    A superset of the vessels :func:`linked` accepts on some date, found from the Country node and the
    parties' jurisdiction or nationality, so a query need not visit every vessel.
    """
    country = ("Country", cc)
    found = {v for v, _, data in g.inc(country, ("FLAGGED",)) if eprops(data).get("status") is None}
    parties = {o for o, _, _ in g.inc(country, ("INCORPORATED_IN", "NATIONAL_OF"))}
    parties.update(c for c in g.nodes("Company") if g.get(c, "jurisdiction") == cc)
    parties.update(q for q in g.nodes("Person") if g.get(q, "nationality") == cc)
    for party in parties:
        found.update(v for v, _, _ in g.out(party, CONTROL) if v[0] == "Vessel")
        found.update(v for v, _, _, _ in g.both(party, LISTED_LINK) if v[0] == "Vessel")
    return {v for v in found if v[0] == "Vessel"}
