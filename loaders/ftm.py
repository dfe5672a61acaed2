"""FollowTheMoney entities (OpenSanctions exports) as JSON lines.

Handled schemata: Vessel, Company, Organization, LegalEntity (-> Company), Person, Address, and the
link entities Ownership (owner -> asset), Directorship (director -> organization) and Sanction
(entity -> list entry). Link entities refer to others by id; ids are resolved across the files of one
load, and a link whose ends are not there is rejected. Other schemata are rejected as unsupported.

FtM's current identity values (name, flag, MMSI, call sign, owner, operator) become observations on
the entity's ``last_seen`` date (else ``--as-of``, else the file's retrieval date). ``pastFlags`` and
``previousName`` carry no dates: they become FLAGGED/NAMED relationships with ``status: "former"``, no
valid_from/valid_to and the key "former" (as the OFAC loader writes "Former Vessel Flag"), never current
values. FtM values are already normalised, so a
value that cannot be read (an unknown country code, a malformed MMSI) is dropped, not rejected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.keys import address_key, clean_imo, is_valid_imo, name_key, person_key
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.schema import default_schema
from loaders.base import LoadOptions, LoadOutput, Reject, iter_jsonl, provenance, retrieved_at
from loaders.countries import Country, lookup_country
from loaders.identifiers import call_sign_record, identity_anomalies, mmsi_record
from loaders.mapping import parse_number
from loaders.registry import (
    clean_call_sign,
    clean_mmsi,
    company_node,
    merge_company_aliases,
    option_date,
    vessel_identity,
)

COMPANY_SCHEMATA = frozenset({"Company", "Organization", "LegalEntity", "PublicBody"})
LINK_SCHEMATA = frozenset({"Ownership", "Directorship", "Sanction"})
FORMER = "former"
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?")


@dataclass(frozen=True)
class Ref:
    """A node emitted for an FtM entity: its label, key and display name."""

    label: str
    key: str
    name: str | None = None


def _values(entity: Mapping[str, Any], prop: str) -> list[str]:
    raw = (entity.get("properties") or {}).get(prop) or []
    raw = [raw] if isinstance(raw, str) else raw
    return [" ".join(str(v).split()) for v in raw if str(v).strip()]


def _first(entity: Mapping[str, Any], *props: str) -> str | None:
    for prop in props:
        values = _values(entity, prop)
        if values:
            return values[0]
    return None


def ftm_date(raw: str | None) -> str | None:
    """An FtM date or date prefix ("2021", "2021-03", "2021-03-12T...") as an ISO date prefix."""
    m = _DATE.match(raw or "")
    return m.group(0) if m else None


def _country(raw: str | None) -> Country | None:
    return lookup_country(raw) if raw else None


def _number(raw: str | None) -> float | None:
    try:
        return parse_number(raw) if raw else None
    except ValueError:
        return None


def _observe(rel: str, src: tuple[str, str], dst: tuple[str, str], date: str, prov: Provenance) -> EdgeRecord:
    return EdgeRecord(rel, src[0], src[1], dst[0], dst[1], provenance=prov, observed=date)


def _identity(
    rel: str, src: tuple[str, str], dst: tuple[str, str], former: bool, observed: str, prov: Provenance
) -> EdgeRecord:
    if former:
        return EdgeRecord(rel, src[0], src[1], dst[0], dst[1], FORMER, {"status": FORMER}, prov)
    return _observe(rel, src, dst, observed, prov)


def vessel_records(entity: Mapping[str, Any], prov: Provenance, observed: str) -> list[Record]:
    """The Vessel node, its current identity observed on ``observed`` and its undated former flags/names."""
    name = _first(entity, "name")
    imos = _values(entity, "imoNumber")
    try:
        mmsi = clean_mmsi(_first(entity, "mmsi"))
    except ValueError:
        mmsi = None
    call_sign = clean_call_sign(_first(entity, "callSign"))
    flag = _country(_first(entity, "flag"))
    primary = next((i for i in imos if is_valid_imo(clean_imo(i))), imos[0] if imos else None)
    key, props = vessel_identity(primary, mmsi, name, flag.code if flag else None, call_sign)
    claimed = {clean_imo(i) or i for i in imos} - {props.get("imo")}
    props["claimed_imos"] = sorted(claimed) or None
    build = ftm_date(_first(entity, "buildDate"))
    props.update(
        name=name,
        flag=flag.code if flag else None,
        mmsi=mmsi,
        call_sign=call_sign,
        vessel_type=_first(entity, "type"),
        build_year=int(build[:4]) if build else None,
        deadweight=_number(_first(entity, "deadweightTonnage")),
        gross_tonnage=_number(_first(entity, "grossRegisteredTonnage", "tonnage")),
    )
    vessel = ("Vessel", key)
    records: list[Record] = [NodeRecord("Vessel", key, props, prov)]
    names = [(n, False) for n in [name] if n] + [(n, True) for n in _values(entity, "previousName")]
    for value, former in names:
        if name_key(value):
            records.append(NodeRecord("VesselName", name_key(value), {"name": name_key(value)}, prov))
            records.append(
                _identity("NAMED", vessel, ("VesselName", name_key(value)), former, observed, prov)
            )
    flags = [(flag, False)] if flag else []
    flags += [(c, True) for c in map(_country, _values(entity, "pastFlags")) if c is not None]
    for country, former in flags:
        records.append(country.record())
        records.append(_identity("FLAGGED", vessel, ("Country", country.code), former, observed, prov))
    if mmsi:
        records.append(mmsi_record(mmsi, prov))
        records.append(_observe("HAS_MMSI", vessel, ("Mmsi", mmsi), observed, prov))
    if call_sign:
        records.append(call_sign_record(call_sign, prov))
        records.append(_observe("HAS_CALL_SIGN", vessel, ("CallSign", call_sign), observed, prov))
    records += identity_anomalies(
        "Vessel",
        key,
        provenance=prov,
        claimed_imos=props["claimed_imos"] or (),
        mmsi=mmsi,
        flag=flag.code if flag else None,
        former_flags=[c.code for c, former in flags if former],
        observed=observed,
    )
    return records


def _aliases(entity: Mapping[str, Any], name: str | None) -> list[str] | None:
    found = {a for a in _values(entity, "alias") + _values(entity, "previousName") if a != name}
    return sorted(found) or None


def _address_records(owner: NodeRecord, entity: Mapping[str, Any], prov: Provenance) -> list[Record]:
    records: list[Record] = []
    for full in _values(entity, "address"):
        node = NodeRecord("Address", address_key(full), {"full": full}, prov)
        records += [
            node,
            EdgeRecord("REGISTERED_AT", owner.label, owner.key, "Address", node.key, "", {}, prov),
        ]
    return records


def party_records(entity: Mapping[str, Any], prov: Provenance) -> list[Record]:
    """A Company or Person node (first), its country link and literal addresses; ValueError without a name."""
    name = _first(entity, "name")
    if entity.get("schema") == "Person":
        if name is None:
            raise ValueError("Person without a name")
        country = _country(_first(entity, "nationality", "citizenship"))
        birth = ftm_date(_first(entity, "birthDate"))
        code = country.code if country else None
        props = {"name": name, "nationality": code, "birth_date": birth, "aliases": _aliases(entity, name)}
        node = NodeRecord("Person", person_key(name, birth, code), props, prov)
        link = "NATIONAL_OF"
    else:
        country = _country(_first(entity, "jurisdiction", "country"))
        company = company_node(
            name,
            prov,
            _first(entity, "imoNumber"),
            country.code if country else None,
            _first(entity, "registrationNumber"),
            _first(entity, "leiCode"),
        )
        if company is None:
            raise ValueError(f"{entity.get('schema')} without a name or identifier")
        props = {
            **company.props,
            "aliases": _aliases(entity, name),
            "incorporation_date": ftm_date(_first(entity, "incorporationDate")),
            "dissolution_date": ftm_date(_first(entity, "dissolutionDate")),
        }
        node = NodeRecord("Company", company.key, props, prov)
        link = "INCORPORATED_IN"
    records: list[Record] = [node]
    if country is not None:
        records += [
            country.record(),
            EdgeRecord(link, node.label, node.key, "Country", country.code, provenance=prov),
        ]
    return records + _address_records(node, entity, prov)


def address_records(entity: Mapping[str, Any], prov: Provenance) -> list[Record]:
    """An Address node (first) and its country link."""
    full = _first(entity, "full") or ", ".join(
        v for v in (_first(entity, "street"), _first(entity, "postalCode"), _first(entity, "city")) if v
    )
    if not full:
        raise ValueError("Address without text")
    country = _country(_first(entity, "country"))
    code = country.code if country else None
    node = NodeRecord(
        "Address", address_key(full), {"full": full, "city": _first(entity, "city"), "country": code}, prov
    )
    records: list[Record] = [node]
    if country is not None:
        records += [
            country.record(),
            EdgeRecord("LOCATED_IN", "Address", node.key, "Country", code, provenance=prov),
        ]
    return records


def entity_records(entity: Mapping[str, Any], prov: Provenance, observed: str) -> list[Record]:
    """Records for a node entity (its own node first); ValueError for unsupported schemata."""
    schema = entity.get("schema")
    if schema == "Vessel":
        return vessel_records(entity, prov, observed)
    if schema == "Person" or schema in COMPANY_SCHEMATA:
        return party_records(entity, prov)
    if schema == "Address":
        return address_records(entity, prov)
    raise ValueError(f"unsupported schema {schema!r}")


def _resolve(entity: Mapping[str, Any], prop: str, refs: Mapping[str, Ref]) -> Ref:
    target = _first(entity, prop)
    if target is None:
        raise ValueError(f"{entity.get('schema')} without {prop}")
    if target not in refs:
        raise ValueError(f"{entity.get('schema')}: {prop} {target!r} is not in the file")
    return refs[target]


def _interval(entity: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "valid_from": ftm_date(_first(entity, "startDate")),
        "valid_to": ftm_date(_first(entity, "endDate")),
    }


def link_records(entity: Mapping[str, Any], refs: Mapping[str, Ref], prov: Provenance) -> list[Record]:
    """Records for an Ownership, Directorship or Sanction, resolving ids through ``refs``."""
    schema = entity.get("schema")
    if schema == "Sanction":
        subject = _resolve(entity, "entity", refs)
        if subject.label not in ("Vessel", "Company", "Person"):
            raise ValueError(f"Sanction on a {subject.label}")
        datasets = entity.get("datasets") or []
        props = {
            "authority": _first(entity, "authority"),
            "program": _first(entity, "program"),
            "list_name": datasets[0] if datasets else None,
            "list_reference": _first(entity, "authorityId", "unscId"),
            "listing_date": ftm_date(_first(entity, "listingDate", "startDate")),
            "delisting_date": ftm_date(_first(entity, "endDate")),
            "remarks": _first(entity, "reason", "summary"),
        }
        key = f"ftm:{entity['id']}"
        edge = EdgeRecord(
            "SANCTIONED_AS",
            subject.label,
            subject.key,
            "Sanction",
            key,
            "",
            {"listed_name": subject.name},
            prov,
        )
        return [NodeRecord("Sanction", key, props, prov), edge]
    if schema == "Ownership":
        src, dst = _resolve(entity, "owner", refs), _resolve(entity, "asset", refs)
        beneficial = "benef" in (_first(entity, "ownershipType") or "").lower()
        if dst.label == "Vessel":
            rel = "BENEFICIAL_OWNER_OF" if beneficial else "REGISTERED_OWNER_OF"
        else:
            rel = "BENEFICIAL_OWNER_OF" if beneficial else "SHAREHOLDER_OF"
        props = _interval(entity)
        if rel != "REGISTERED_OWNER_OF":
            pct = _number(_first(entity, "percentage"))
            props["share_pct"] = pct if pct is not None and 0 <= pct <= 100 else None
    elif schema == "Directorship":
        src, dst = _resolve(entity, "director", refs), _resolve(entity, "organization", refs)
        rel = "DIRECTOR_OF"
        props = {**_interval(entity), "role": _first(entity, "role")}
    else:
        raise ValueError(f"unsupported schema {schema!r}")
    allowed = default_schema().rel(rel)
    if src.label not in allowed.sources or dst.label not in allowed.targets:
        raise ValueError(f"{schema} from a {src.label} to a {dst.label} is not modelled")
    return [EdgeRecord(rel, src.label, src.key, dst.label, dst.key, props["valid_from"] or "", props, prov)]


def _observed(entity: Mapping[str, Any], fallback: str) -> str:
    seen = ftm_date(str(entity.get("last_seen") or ""))
    return seen if seen and len(seen) == 10 else fallback


def load(paths: Sequence[Path], options: LoadOptions) -> LoadOutput:
    """Read FtM JSON-lines files; link entities are resolved after every file has been read."""
    out = LoadOutput()
    refs: dict[str, Ref] = {}
    links: list[tuple[dict[str, Any], Provenance, str, int]] = []
    owners: list[tuple[dict[str, Any], Ref, Provenance, str]] = []
    default = option_date(options)
    source = options.source or "ftm"
    for path in paths:
        when = retrieved_at(path, options)
        fallback = default or when[:10]
        for number, entity in iter_jsonl(path):
            out.rows_read += 1
            if options.progress:
                options.progress(1)
            if isinstance(entity, Reject):
                out.rejects.append(entity)
                continue
            prov = provenance(source, path, number, when)
            try:
                if not isinstance(entity, dict) or not entity.get("id") or not entity.get("schema"):
                    raise ValueError("not an FtM entity (needs id and schema)")
                if entity["schema"] in LINK_SCHEMATA:
                    links.append((entity, prov, str(path), number))
                    continue
                observed = _observed(entity, fallback)
                records = entity_records(entity, prov, observed)
            except ValueError as exc:
                out.rejects.append(Reject(str(path), number, str(exc), str(entity)[:500]))
                continue
            node = records[0]
            assert isinstance(node, NodeRecord)
            ref = Ref(node.label, node.key, node.props.get("name") or node.props.get("full"))
            refs[str(entity["id"])] = ref
            out.records.extend(records)
            if entity["schema"] == "Vessel" or _values(entity, "addressEntity"):
                owners.append((entity, ref, prov, observed))
    for entity, ref, prov, observed in owners:
        out.records.extend(_reference_records(entity, ref, refs, prov, observed))
    for entity, prov, file, number in links:
        try:
            out.records.extend(link_records(entity, refs, prov))
        except ValueError as exc:
            out.rejects.append(Reject(file, number, str(exc), str(entity)[:500]))
    out.records = merge_company_aliases(out.records)
    return out


def _reference_records(
    entity: Mapping[str, Any], ref: Ref, refs: Mapping[str, Ref], prov: Provenance, observed: str
) -> list[Record]:
    """Edges from properties that name other entities: a vessel's owner and operator, addressEntity."""
    records: list[Record] = []
    if ref.label == "Vessel":
        for prop, rel in (("owner", "REGISTERED_OWNER_OF"), ("operator", "OPERATOR_OF")):
            other = refs.get(_first(entity, prop) or "")
            if other is not None and other.label in ("Company", "Person"):
                records.append(_observe(rel, (other.label, other.key), ("Vessel", ref.key), observed, prov))
    elif ref.label in ("Company", "Person"):
        for target in _values(entity, "addressEntity"):
            other = refs.get(target)
            if other is not None and other.label == "Address":
                records.append(
                    EdgeRecord("REGISTERED_AT", ref.label, ref.key, "Address", other.key, "", {}, prov)
                )
    return records
