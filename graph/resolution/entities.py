"""The matcher's view of a Company or Person node: names, country, strong identifiers, retrieval time."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rigour.territories import lookup_territory

from graph.judgements import NodeRef
from graph.keys import is_valid_imo_company
from graph.records import Provenance

RESOLVABLE_LABELS = ("Company", "Person")


@dataclass(frozen=True)
class Entity:
    """What the matcher needs to know about one Company or Person node.

    ``country`` is the jurisdiction of a company or the nationality of a person (ISO alpha-2, lower
    case); ``identifiers`` the strong identifiers by kind; ``retrieved_at`` the latest retrieval time
    in the node's provenance (used as the provenance time of links derived from it, so that re-running
    the resolver on the same data adds nothing).
    """

    label: str
    key: str
    names: tuple[str, ...]
    country: str | None = None
    identifiers: Mapping[str, str] = field(default_factory=dict)
    birth_date: str | None = None
    retrieved_at: str = ""
    # Countries of the entity's registered addresses: evidence of where it is when no jurisdiction is
    # stated (the UN and OFAC give branches of one organisation the same name and different addresses).
    address_countries: frozenset[str] = frozenset()

    @property
    def ref(self) -> NodeRef:
        """The node this entity stands for."""
        return NodeRef(self.label, self.key)


@functools.lru_cache(maxsize=4096)
def country_code(raw: str | None) -> str | None:
    """A jurisdiction or nationality as a lower-case ISO alpha-2 code (names and alpha-3 accepted)."""
    if not raw or not str(raw).strip():
        return None
    territory = lookup_territory(str(raw).strip())
    if territory is not None:
        return str(territory.code).lower()
    return str(raw).strip().lower()


def _latest_retrieval(provenance: Iterable[str]) -> str:
    latest = ""
    for entry in provenance:
        try:
            when = Provenance.decode(entry).retrieved_at
        except (ValueError, KeyError, TypeError):
            continue
        latest = max(latest, when or "")
    return latest


def entity_from_node(
    label: str, key: str, props: Mapping[str, Any], provenance: Iterable[str] = ()
) -> Entity:
    """Build an :class:`Entity` from a node's properties (name, aliases, jurisdiction, identifiers)."""
    names: list[str] = []
    for value in [props.get("name"), *(props.get("aliases") or [])]:
        if value and str(value).strip() and value not in names:
            names.append(str(value))
    identifiers: dict[str, str] = {}
    if label == "Company":
        country = country_code(props.get("jurisdiction"))
        imo = props.get("imo_company_number")
        if imo and is_valid_imo_company(str(imo)):
            identifiers["imo_company_number"] = str(imo)
        if props.get("lei"):
            identifiers["lei"] = str(props["lei"]).upper()
        if props.get("registration_number") and country:
            identifiers["registration_number"] = f"{country}:{str(props['registration_number']).upper()}"
        birth_date = None
    else:
        country = country_code(props.get("nationality"))
        birth_date = str(props["birth_date"]) if props.get("birth_date") else None
    return Entity(label, key, tuple(names), country, identifiers, birth_date, _latest_retrieval(provenance))
