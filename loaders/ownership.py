"""Corporate records: who owns, manages, directs or registers whom, one relation per row.

Each row names a subject (company or person), a relation and an object (a vessel by IMO, a company, or
an address), with optional share percentage, start and end dates, jurisdictions and registration
numbers. Explicit dates become ``valid_from``/``valid_to`` (the relationship's key is its start, or ""
when undated); rows without dates carry none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from graph.keys import address_key, clean_imo, person_key
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from loaders.base import LoadOptions, LoadOutput
from loaders.countries import Country
from loaders.mapping import FieldDef, column_id, load_rows, resolve_mapping
from loaders.registry import company_node, merge_company_aliases, vessel_ref

RELATIONS: dict[str, str] = {
    "registered_owner": "REGISTERED_OWNER_OF",
    "ship_manager": "SHIP_MANAGER_OF",
    "ism_manager": "ISM_MANAGER_OF",
    "commercial_manager": "COMMERCIAL_MANAGER_OF",
    "operator": "OPERATOR_OF",
    "shareholder": "SHAREHOLDER_OF",
    "director": "DIRECTOR_OF",
    "beneficial_owner": "BENEFICIAL_OWNER_OF",
    "registration_agent": "REGISTRATION_AGENT_OF",
    "registered_address": "REGISTERED_AT",
}
VESSEL_RELATIONS = frozenset(
    {"registered_owner", "ship_manager", "ism_manager", "commercial_manager", "operator"}
)
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "registered_owner": ("owner", "ship owner", "shipowner", "registered ship owner"),
    "ship_manager": ("technical manager", "manager", "ship management"),
    "ism_manager": ("ism", "doc company", "doc holder", "safety manager", "ism company"),
    "commercial_manager": ("commercial operator", "charterer manager"),
    "operator": ("ship operator", "vessel operator"),
    "shareholder": ("member", "owner of shares", "stockholder", "partner"),
    "director": ("officer", "secretary", "ceo", "general director", "managing director", "chairman"),
    "beneficial_owner": ("ubo", "ultimate beneficial owner", "psc", "person with significant control"),
    "registration_agent": ("registered agent", "agent", "incorporation agent", "intermediary"),
    "registered_address": ("address", "registered office", "registered at", "office address"),
}
RELATION_NAMES: dict[str, str] = {}
for _canon, _extra in _SYNONYMS.items():
    for _alias in (_canon, _canon.replace("_", " "), *_extra):
        RELATION_NAMES[column_id(_alias)] = _canon
        RELATION_NAMES[column_id(_alias + " of")] = _canon
_COMPANY_TYPES = frozenset(
    {"company", "organisation", "organization", "legalentity", "entity", "corporate", "corporation", "firm"}
)
_PERSON_TYPES = frozenset({"person", "individual", "naturalperson", "human", "people"})
_VESSEL_TYPES = frozenset({"vessel", "ship", "imo"})
_ADDRESS_TYPES = frozenset({"address", "location"})
_TYPE_WORDS = {
    **dict.fromkeys(_COMPANY_TYPES, "Company"),
    **dict.fromkeys(_PERSON_TYPES, "Person"),
    **dict.fromkeys(_VESSEL_TYPES, "Vessel"),
    **dict.fromkeys(_ADDRESS_TYPES, "Address"),
}
_CORPORATE = re.compile(
    r"\b(ltd|limited|inc|incorporated|corp|corporation|co|company|llc|llp|lp|plc|sa|s\s?a|ag|gmbh|bv|nv|"
    r"spa|srl|sarl|oy|ab|as|jsc|ojsc|pjsc|ooo|zao|pte|pvt|fze|fzco|dmcc|holdings?|group|trust|foundation|"
    r"shipping|maritime|marine|navigation|management|services|trading|enterprises?|partners|bank|fund)\b",
    re.I,
)

CATALOGUE: dict[str, FieldDef] = {
    "subject": FieldDef("text", required=True, doc="name of the owner, manager, director or agent"),
    "subject_type": FieldDef("text", doc="company or person (guessed from the name when absent)"),
    "subject_jurisdiction": FieldDef("country", doc="jurisdiction of a company, nationality of a person"),
    "subject_registration_number": FieldDef("text", doc="company registration number"),
    "subject_imo_company_number": FieldDef("raw", doc="IMO company number"),
    "subject_birth_date": FieldDef("partial_date", doc="birth date of a person"),
    "relation": FieldDef("text", required=True, doc="one of " + ", ".join(RELATIONS)),
    "object": FieldDef("text", doc="vessel name or IMO, company name, or address"),
    "object_type": FieldDef("text", doc="vessel, company or address (implied by the relation)"),
    "object_imo": FieldDef("raw", doc="IMO ship number of a vessel object"),
    "object_jurisdiction": FieldDef("country", doc="jurisdiction of a company, country of an address"),
    "object_registration_number": FieldDef("text", doc="company registration number"),
    "object_imo_company_number": FieldDef("raw", doc="IMO company number"),
    "share_pct": FieldDef("pct", doc="percentage held, 0-100 (shareholder, beneficial owner)"),
    "start_date": FieldDef("partial_date", doc="when the relation began"),
    "end_date": FieldDef("partial_date", doc="when it ended"),
    "role": FieldDef("text", doc="director's role as written"),
}


def relation_name(raw: str) -> str:
    """The canonical relation for a written one ("Technical manager" -> ship_manager); ValueError if none."""
    found = RELATION_NAMES.get(column_id(raw))
    if found is None:
        raise ValueError(f"relation: unknown relation {raw!r}")
    return found


def looks_corporate(name: str) -> bool:
    """True when a name carries a legal form or a business word ("Ltd", "S.A.", "Holdings", "Shipping")."""
    return bool(_CORPORATE.search(name.replace(".", "")))


def party_node(
    name: str,
    kind: str,
    prov: Provenance,
    jurisdiction: Country | None = None,
    registration_number: str | None = None,
    imo_company_number: Any = None,
    birth_date: str | None = None,
) -> tuple[NodeRecord, list[Record]]:
    """A Company or Person node for a party, with its INCORPORATED_IN or NATIONAL_OF edge and country."""
    code = jurisdiction.code if jurisdiction else None
    extra: list[Record] = []
    if kind == "Person":
        node = NodeRecord(
            "Person",
            person_key(name, birth_date, code),
            {"name": name, "nationality": code, "birth_date": birth_date},
            prov,
        )
        rel = "NATIONAL_OF"
    else:
        company = company_node(name, prov, imo_company_number, code, registration_number)
        if company is None:
            raise ValueError("a company needs a name")
        node, rel = company, "INCORPORATED_IN"
    if jurisdiction is not None:
        extra.append(jurisdiction.record())
        extra.append(EdgeRecord(rel, node.label, node.key, "Country", jurisdiction.code, provenance=prov))
    return node, extra


def _party_kind(raw: str | None, name: str, relation: str) -> str:
    if raw is not None:
        ident = column_id(raw)
        if ident in _COMPANY_TYPES:
            return "Company"
        if ident in _PERSON_TYPES:
            return "Person"
        raise ValueError(f"subject_type: {raw!r} is neither company nor person")
    if relation in VESSEL_RELATIONS or relation == "registration_agent" or looks_corporate(name):
        return "Company"
    return "Person"


def _object_kind(raw: str | None, relation: str, has_imo: bool) -> str:
    ident = column_id(raw) if raw else ""
    if relation in VESSEL_RELATIONS:
        implied = "Vessel"
    elif relation == "registered_address":
        implied = "Address"
    elif relation == "beneficial_owner" and (has_imo or ident in _VESSEL_TYPES):
        implied = "Vessel"
    else:
        implied = "Company"
    stated = _TYPE_WORDS.get(ident)
    if raw and stated is None:
        raise ValueError(f"object_type: unknown type {raw!r}")
    if stated is not None and stated != implied:
        raise ValueError(f"object_type: a {relation.replace('_', ' ')} relation cannot point at a {raw}")
    return implied


def _dates(start: str | None, end: str | None) -> None:
    if start and end:
        n = min(len(start), len(end))
        if end[:n] < start[:n]:
            raise ValueError(f"end_date {end} is before start_date {start}")


def relation_records(values: Mapping[str, Any], prov: Provenance) -> list[Record]:
    """Records for one ownership row; ValueError when the row cannot be used."""
    relation = relation_name(values["relation"])
    rel_type = RELATIONS[relation]
    subject: str = values["subject"]
    start, end = values.get("start_date"), values.get("end_date")
    _dates(start, end)
    obj_name: str | None = values.get("object")
    obj_imo = values.get("object_imo")
    if obj_imo is None and obj_name and clean_imo(obj_name):
        obj_imo, obj_name = obj_name, None
    kind = _object_kind(values.get("object_type"), relation, obj_imo is not None)
    src, records = party_node(
        subject,
        _party_kind(values.get("subject_type"), subject, relation),
        prov,
        values.get("subject_jurisdiction"),
        values.get("subject_registration_number"),
        values.get("subject_imo_company_number"),
        values.get("subject_birth_date"),
    )
    records.append(src)
    obj_country: Country | None = values.get("object_jurisdiction")
    if kind == "Vessel":
        if obj_imo is None and not obj_name:
            raise ValueError("object: a vessel needs an IMO or a name")
        _, dst = vessel_ref(obj_imo, None, obj_name, prov)
    elif kind == "Address":
        if not obj_name:
            raise ValueError("object: missing address")
        dst = NodeRecord(
            "Address",
            address_key(obj_name),
            {"full": obj_name, "country": obj_country.code if obj_country else None},
            prov,
        )
        if obj_country is not None:
            records.append(obj_country.record())
            records.append(
                EdgeRecord("LOCATED_IN", "Address", dst.key, "Country", obj_country.code, provenance=prov)
            )
    else:
        if not obj_name and values.get("object_imo_company_number") is None:
            raise ValueError("object: missing company")
        dst, extra = party_node(
            obj_name or "",
            "Company",
            prov,
            obj_country,
            values.get("object_registration_number"),
            values.get("object_imo_company_number"),
        )
        records.extend(extra)
    records.append(dst)
    props: dict[str, Any] = {"valid_from": start, "valid_to": end}
    if rel_type in ("SHAREHOLDER_OF", "BENEFICIAL_OWNER_OF"):
        props["share_pct"] = values.get("share_pct")
    if rel_type == "DIRECTOR_OF":
        props["role"] = values.get("role")
    records.append(EdgeRecord(rel_type, src.label, src.key, dst.label, dst.key, start or "", props, prov))
    return records


def load(paths: Sequence[Path], options: LoadOptions) -> LoadOutput:
    """Read corporate-record CSVs through a column mapping (default: ownership-generic)."""
    mapping = resolve_mapping(options, "ownership", CATALOGUE, "ownership-generic")
    out = load_rows(paths, options, "ownership", mapping, relation_records)
    out.records = merge_company_aliases(out.records)
    return out
