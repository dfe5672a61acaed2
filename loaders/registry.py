"""Ship registry snapshots: one row per vessel as a registry showed it on one date.

Each row yields the Vessel and its identity edges (name, flag, MMSI, call sign, registered owner, ship
manager, ISM manager, operator, commercial manager) as observations on the snapshot date, so loading
successive snapshots builds dated history in the store. The snapshot date comes from a mapped column or
from ``--as-of``. Identifiers failing their checks (IMO check digits, an MMSI whose MID belongs to another
flag) also yield Anomaly records, as the list loaders do. The helpers for vessel and company identity
are shared with the other loaders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from graph.keys import (
    clean_imo,
    company_key,
    is_valid_imo,
    is_valid_imo_company,
    name_key,
    normalize_name,
    vessel_key,
)
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from loaders.base import LoadError, LoadOptions, LoadOutput
from loaders.countries import Country
from loaders.dates import parse_date
from loaders.identifiers import call_sign_record, identity_anomalies, mmsi_record
from loaders.mapping import Binding, FieldDef, load_rows, resolve_mapping

ROLES: dict[str, str] = {
    "registered_owner": "REGISTERED_OWNER_OF",
    "ship_manager": "SHIP_MANAGER_OF",
    "ism_manager": "ISM_MANAGER_OF",
    "operator": "OPERATOR_OF",
    "commercial_manager": "COMMERCIAL_MANAGER_OF",
}
CATALOGUE: dict[str, FieldDef] = {
    "imo": FieldDef("raw", doc="IMO ship number; an invalid one is kept in claimed_imos"),
    "name": FieldDef("text", doc="vessel name"),
    "flag": FieldDef("country", doc="flag state: name, ISO code or 'Panama (PAN)'"),
    "mmsi": FieldDef("raw", doc="nine-digit MMSI"),
    "call_sign": FieldDef("text", doc="radio call sign"),
    "vessel_type": FieldDef("text", doc="ship type"),
    "build_year": FieldDef("int", doc="year of build"),
    "deadweight": FieldDef("float", doc="deadweight tonnage"),
    "gross_tonnage": FieldDef("float", doc="gross tonnage"),
    "as_of": FieldDef("date", doc="snapshot date (else --as-of)"),
    **{role: FieldDef("text", doc=f"{role.replace('_', ' ')} name") for role in ROLES},
    **{f"{role}_imo": FieldDef("raw", doc=f"{role.replace('_', ' ')} IMO company number") for role in ROLES},
}
_ZEROS = re.compile(r"^0+$")


def clean_mmsi(raw: Any) -> str | None:
    """The nine digits of an MMSI, None when empty or all zeros; ValueError when malformed."""
    if raw is None:
        return None
    text = re.sub(r"\s+", "", str(raw)).removesuffix(".0")
    if not text or _ZEROS.match(text):
        return None
    if not re.fullmatch(r"\d{9}", text):
        raise ValueError(f"mmsi: {raw!r} is not nine digits")
    return text


def clean_call_sign(raw: Any) -> str | None:
    """A call sign upper-cased without spaces."""
    if raw is None:
        return None
    text = re.sub(r"\s+", "", str(raw)).upper()
    return text or None


def vessel_identity(
    imo: Any = None,
    mmsi: str | None = None,
    name: str | None = None,
    flag: str | None = None,
    call_sign: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """A vessel's key and identifying properties; an IMO failing its check digit goes to claimed_imos.

    ValueError when there is nothing to identify the vessel by.
    """
    text = str(imo).strip() if imo is not None else ""
    number = clean_imo(text)
    if _ZEROS.match(number or text):
        text, number = "", None
    valid = number if is_valid_imo(number) else None
    props: dict[str, Any] = {"imo": valid}
    if text and not valid:
        props["claimed_imos"] = [number or text]
    try:
        key = vessel_key(valid, mmsi, name, flag, call_sign)
    except ValueError:
        raise ValueError("no vessel identifier (IMO, MMSI, name or call sign)") from None
    return key, props


def vessel_ref(imo: Any, mmsi: Any, name: str | None, prov: Provenance | None) -> tuple[str, NodeRecord]:
    """Key and node for a vessel named by another record (an owner's asset, an event's participant).

    Only what the key rests on is set, so a secondary source never overwrites a registry's name.
    """
    mmsi_clean = clean_mmsi(mmsi)
    key, props = vessel_identity(imo, mmsi_clean, name)
    if key.startswith("mmsi:"):
        props["mmsi"] = mmsi_clean
    if key.startswith("vsl:") or (props.get("imo") is None and name):
        props["name"] = name
    return key, NodeRecord("Vessel", key, props, prov)


def company_node(
    name: str | None,
    prov: Provenance | None,
    imo_company_number: Any = None,
    jurisdiction: str | None = None,
    registration_number: str | None = None,
    lei: str | None = None,
) -> NodeRecord | None:
    """The Company node for a name and identifiers; None when there is neither a name nor a valid id."""
    number = clean_imo(str(imo_company_number)) if imo_company_number is not None else None
    number = number if is_valid_imo_company(number) else None
    if not name and not number and not lei and not (registration_number and jurisdiction):
        return None
    key = company_key(name, jurisdiction, registration_number, number, lei)
    props = {
        "name": name,
        "imo_company_number": number,
        "jurisdiction": jurisdiction,
        "registration_number": registration_number,
        "lei": lei.upper() if lei else None,
    }
    return NodeRecord("Company", key, props, prov)


_STRENGTH = {"imoco": 4, "lei": 3, "reg": 2}


def _strength(key: str) -> int:
    return _STRENGTH.get(key.split(":", 1)[0], 0)


def merge_company_aliases(records: list[Record]) -> list[Record]:
    """Within one load, point name-only company keys at the same company's identified key.

    A company named with its IMO company number, LEI or registration number in one row and by name alone
    in another would otherwise become two nodes. A name-only key is rewritten when exactly one stronger
    key carries the same normalised name (and the same jurisdiction, when it has one).
    """
    by_name: dict[str, set[str]] = {}
    by_name_jur: dict[tuple[str, str], set[str]] = {}
    weak: dict[str, tuple[str, str | None]] = {}
    for record in records:
        if isinstance(record, NodeRecord) and record.label == "Company" and record.props.get("name"):
            name, jur = normalize_name(record.props["name"]), record.props.get("jurisdiction")
            if _strength(record.key):
                by_name.setdefault(name, set()).add(record.key)
                if jur:
                    by_name_jur.setdefault((name, jur), set()).add(record.key)
            else:
                weak[record.key] = (name, jur)
    alias: dict[str, str] = {}
    for key, (name, jur) in weak.items():
        found = by_name_jur.get((name, jur), set()) if jur else by_name.get(name, set())
        if len(found) == 1:
            alias[key] = next(iter(found))
    if not alias:
        return records
    out: list[Record] = []
    for record in records:
        if isinstance(record, NodeRecord):
            if record.label == "Company" and record.key in alias:
                record = replace(record, key=alias[record.key])
        else:
            src = alias.get(record.src, record.src) if record.src_label == "Company" else record.src
            dst = alias.get(record.dst, record.dst) if record.dst_label == "Company" else record.dst
            if (src, dst) != (record.src, record.dst):
                record = replace(record, src=src, dst=dst)
        out.append(record)
    return out


def _observe(rel: str, src: tuple[str, str], dst: tuple[str, str], date: str, prov: Provenance) -> EdgeRecord:
    return EdgeRecord(rel, src[0], src[1], dst[0], dst[1], provenance=prov, observed=date)


def snapshot_records(values: Mapping[str, Any], as_of: str, prov: Provenance) -> list[Record]:
    """Records for one registry row observed on ``as_of``; ValueError when the row cannot be used."""
    name: str | None = values.get("name")
    flag: Country | None = values.get("flag")
    mmsi = clean_mmsi(values.get("mmsi"))
    call_sign = clean_call_sign(values.get("call_sign"))
    build_year = values.get("build_year")
    if build_year is not None and not 1800 <= build_year <= 2100:
        raise ValueError(f"build_year: {build_year} is not a plausible year")
    key, props = vessel_identity(values.get("imo"), mmsi, name, flag.code if flag else None, call_sign)
    props.update(
        name=name,
        flag=flag.code if flag else None,
        mmsi=mmsi,
        call_sign=call_sign,
        vessel_type=values.get("vessel_type"),
        build_year=build_year,
        deadweight=values.get("deadweight"),
        gross_tonnage=values.get("gross_tonnage"),
    )
    vessel = ("Vessel", key)
    records: list[Record] = [NodeRecord("Vessel", key, props, prov, observed=as_of)]
    if name and name_key(name):
        records.append(NodeRecord("VesselName", name_key(name), {"name": name_key(name)}, prov))
        records.append(_observe("NAMED", vessel, ("VesselName", name_key(name)), as_of, prov))
    if flag is not None:
        records.append(flag.record())
        records.append(_observe("FLAGGED", vessel, ("Country", flag.code), as_of, prov))
    if mmsi:
        records.append(mmsi_record(mmsi, prov))
        records.append(_observe("HAS_MMSI", vessel, ("Mmsi", mmsi), as_of, prov))
    if call_sign:
        records.append(call_sign_record(call_sign, prov))
        records.append(_observe("HAS_CALL_SIGN", vessel, ("CallSign", call_sign), as_of, prov))
    records += identity_anomalies(
        "Vessel",
        key,
        provenance=prov,
        claimed_imos=props.get("claimed_imos") or (),
        mmsi=mmsi,
        flag=flag.code if flag else None,
        observed=as_of,
    )
    for role, rel in ROLES.items():
        number = values.get(f"{role}_imo")
        company = company_node(values.get(role), prov, number)
        if company is not None:
            records.append(replace(company, observed=as_of))
            records.append(_observe(rel, ("Company", company.key), vessel, as_of, prov))
            cleaned = clean_imo(str(number)) if number is not None else None
            if number is not None and not _ZEROS.match(cleaned or str(number)):
                records += identity_anomalies(
                    "Company",
                    company.key,
                    provenance=prov,
                    imo_company_numbers=[cleaned or str(number)],
                    observed=as_of,
                )
    return records


def option_date(options: LoadOptions) -> str | None:
    """``options.as_of`` as an ISO date; LoadError when it is not a date."""
    if not options.as_of:
        return None
    try:
        return parse_date(options.as_of)
    except ValueError as exc:
        raise LoadError(f"--as-of: {exc}") from None


def load(paths: Sequence[Path], options: LoadOptions) -> LoadOutput:
    """Read registry snapshot CSVs through a column mapping (default: registry-generic)."""
    mapping = resolve_mapping(options, "registry", CATALOGUE, "registry-generic")
    default_as_of = option_date(options)

    def check(binding: Binding, path: Path) -> None:
        if default_as_of is None and not binding.has("as_of"):
            columns = (
                ", ".join(mapping.fields["as_of"].columns) if "as_of" in mapping.fields else "none mapped"
            )
            raise LoadError(f"{path}: no snapshot date: no 'as_of' column ({columns}) and no --as-of given")

    def handle(values: dict[str, Any], prov: Provenance) -> list[Record]:
        as_of = values.get("as_of") or default_as_of
        if as_of is None:
            raise ValueError("as_of: missing snapshot date")
        return snapshot_records(values, as_of, prov)

    out = load_rows(paths, options, "registry", mapping, handle, check)
    out.records = merge_company_aliases(out.records)
    return out
