"""The UN Security Council Consolidated List (XML): individuals and entities under every UN regime.

``INDIVIDUALS/INDIVIDUAL`` becomes a Person and ``ENTITIES/ENTITY`` a Company; each entry's listing
(``UN_LIST_TYPE``, e.g. DPRK for the 1718 Committee's list, ``REFERENCE_NUMBER``, ``LISTED_ON``) becomes
a Sanction node. The list date (the root's ``dateGenerated``, or ``--as-of``) dates the observed
addresses and any ownership links.

The list has no vessel entries. DPRK shipping companies carry their 7-digit IMO *company* numbers in
``COMMENTS1`` ("IMO number: 5145892."): those become ``Company.imo_company_number`` (checked with the
company check digit, and the key when valid), never ship numbers. A vessel is linked only when the
comment gives its name with a check-digit-valid IMO ship number ("the tanker X (IMO 1234567)"); the
vessel node then gets only its IMO, and the name a NAMED link with ``status: alias`` (the comment's
name may be an old one).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from graph.keys import address_key, company_key, is_valid_imo, name_key, person_key, vessel_key
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from loaders.base import LoadError, LoadOptions, LoadOutput, Reject, provenance, require_file, retrieval
from loaders.countries import Country, lookup_country
from loaders.identifiers import extract_imo, identity_anomalies

SOURCE = "un-consolidated"
ROOT = "CONSOLIDATED_LIST"
ENTRY_TAGS = {"INDIVIDUAL": "Person", "ENTITY": "Company"}
NAME_TAGS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^\d{4}$")
_VESSEL = re.compile(
    r"(?P<name>[A-Z0-9][A-Z0-9'\-]*(?: [A-Z0-9][A-Z0-9'\-]*)*)\s*(?:,\s*|\(\s*)"
    r"IMO[\s:.#]*(?:(?:ship\s+)?(?:number|no)\b[\s:.#]*)?(?P<num>\d{7})(?!\d)"
)
ROLES = (
    (re.compile(r"registered owner", re.I), "REGISTERED_OWNER_OF"),
    (re.compile(r"\bship (?:and commercial )?manager", re.I), "SHIP_MANAGER_OF"),
    (re.compile(r"commercial manager", re.I), "COMMERCIAL_MANAGER_OF"),
    (re.compile(r"\bISM manager", re.I), "ISM_MANAGER_OF"),
    (re.compile(r"\boperator\b", re.I), "OPERATOR_OF"),
)


def clean(text: str | None) -> str | None:
    """Text with runs of blanks (and line breaks) collapsed; None when empty."""
    if text is None:
        return None
    out = " ".join(text.split())
    return out or None


@dataclass
class UnEntry:
    """One INDIVIDUAL or ENTITY element as plain data."""

    tag: str
    line: int = 0
    dataid: str | None = None
    names: list[str] = field(default_factory=list)
    list_type: str | None = None
    reference_number: str | None = None
    listed_on: str | None = None
    comments: str | None = None
    list_name: str | None = None
    nationalities: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    addresses: list[dict[str, str]] = field(default_factory=list)
    birth_dates: list[dict[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        return clean(" ".join(self.names))

    @property
    def reference(self) -> str | None:
        """REFERENCE_NUMBER with every space removed ("KPe.052 " → "KPe.052")."""
        if self.reference_number is None:
            return None
        return "".join(self.reference_number.split()) or None


def _text(elem: ET.Element, tag: str) -> str | None:
    return clean(elem.findtext(tag))


def _fields(elem: ET.Element) -> dict[str, str]:
    return {child.tag: text for child in elem if (text := clean(child.text))}


def parse_entry(elem: ET.Element, line: int = 0) -> UnEntry:
    """Read an INDIVIDUAL or ENTITY element into a UnEntry."""
    prefix = elem.tag
    entry = UnEntry(
        elem.tag,
        line,
        dataid=_text(elem, "DATAID"),
        names=[t for tag in NAME_TAGS if (t := _text(elem, tag))],
        list_type=_text(elem, "UN_LIST_TYPE"),
        reference_number=elem.findtext("REFERENCE_NUMBER"),
        listed_on=_text(elem, "LISTED_ON"),
        comments=_text(elem, "COMMENTS1"),
        list_name=_text(elem, "LIST_TYPE/VALUE"),
    )
    entry.nationalities = [t for v in elem.findall("NATIONALITY/VALUE") if (t := clean(v.text))]
    entry.aliases = [t for a in elem.findall(f"{prefix}_ALIAS") if (t := _text(a, "ALIAS_NAME"))]
    original = _text(elem, "NAME_ORIGINAL_SCRIPT")
    if original:
        entry.aliases.append(original)
    entry.addresses = [f for a in elem.findall(f"{prefix}_ADDRESS") if (f := _fields(a))]
    entry.birth_dates = [f for d in elem.findall(f"{prefix}_DATE_OF_BIRTH") if (f := _fields(d))]
    return entry


def _country(raw: str | None) -> Country | None:
    return lookup_country(raw) if raw else None


def birth_date(dates: list[dict[str, str]]) -> str | None:
    """The first exact date of birth (YYYY-MM-DD, or a year alone); approximate and ranges are skipped."""
    for item in dates:
        if item.get("TYPE_OF_DATE", "EXACT").upper() != "EXACT":
            continue
        if _DATE.match(item.get("DATE", "")):
            return item["DATE"]
        if _YEAR.match(item.get("YEAR", "")):
            return item["YEAR"]
    return None


def address_full(fields: dict[str, str]) -> str | None:
    """One line for an address with a street; None for a city or country alone (not a postal address)."""
    if "STREET" not in fields:
        return None
    parts = (fields.get(k) for k in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY"))
    return ", ".join(p for p in parts if p)


def jurisdiction(entry: UnEntry) -> str | None:
    """The one country all of an entity's addresses share, if they do."""
    codes = {c.code for a in entry.addresses if (c := _country(a.get("COUNTRY")))}
    return codes.pop() if len(codes) == 1 else None


@dataclass(frozen=True)
class VesselMention:
    """A vessel named in free text together with its IMO ship number, and the roles the sentence gives."""

    name: str
    imo: str
    roles: tuple[str, ...]
    relation: str


def vessel_mentions(text: str | None, exclude: Sequence[str] = ()) -> list[VesselMention]:
    """Vessels written as "NAME (IMO 1234567)" or "NAME, IMO 1234567" with a valid IMO ship number.

    Numbers in ``exclude`` (the entity's own company number) are skipped. The roles come from the
    sentence up to the mention ("Registered owner of ...", "Ship and commercial manager of ...").
    """
    if not text:
        return []
    found: list[VesselMention] = []
    for match in _VESSEL.finditer(text):
        number = match["num"]
        if number in exclude or not is_valid_imo(number):
            continue
        sentence_start = max(text.rfind(". ", 0, match.start()), text.rfind("; ", 0, match.start())) + 1
        sentence = text[sentence_start : match.start()]
        roles = tuple(dict.fromkeys(rel for pattern, rel in ROLES if pattern.search(sentence)))
        relation = "named with its IMO number in COMMENTS1"
        found.append(VesselMention(match["name"].strip(), number, roles, relation))
    return found


def company_imo(entry: UnEntry) -> tuple[str | None, tuple[str, ...]]:
    """The entity's IMO company number from COMMENTS1: (valid number or None, numbers failing the check).

    Numbers attached to a vessel name are ship numbers and are left out.
    """
    text = entry.comments or ""
    for match in reversed(list(_VESSEL.finditer(text))):
        text = text[: match.start()] + " " + text[match.end() :]
    found = extract_imo(text, company=True, require_prefix=True)
    return found.valid, found.claimed


def entry_records(entry: UnEntry, prov: Provenance, as_of: str | None = None) -> list[Record]:
    """All records for one UN entry; ValueError when it lacks a name or a reference number."""
    name, reference = entry.name, entry.reference
    if name is None:
        raise ValueError("no name")
    if reference is None:
        raise ValueError("no REFERENCE_NUMBER")
    label = ENTRY_TAGS[entry.tag]
    aliases = list(dict.fromkeys(a for a in entry.aliases if a != name)) or None
    out: list[Record] = []
    if label == "Person":
        countries = [c for raw in entry.nationalities if (c := _country(raw))]
        nationality = countries[0].code if countries else None
        dob = birth_date(entry.birth_dates)
        key = person_key(name, dob, nationality)
        props = {"name": name, "nationality": nationality, "birth_date": dob, "aliases": aliases}
        out.append(NodeRecord("Person", key, props, prov))
        for country in {c.code: c for c in countries}.values():
            out.append(country.record())
            out.append(EdgeRecord("NATIONAL_OF", "Person", key, "Country", country.code, "", {}, prov))
    else:
        valid, claimed = company_imo(entry)
        juris = jurisdiction(entry)
        key = company_key(name, juris, imo_company_number=valid)
        props = {
            "name": name,
            "jurisdiction": juris,
            "aliases": aliases,
            "imo_company_number": valid or (claimed[0] if claimed else None),
        }
        out.append(NodeRecord("Company", key, props, prov))
        out += identity_anomalies(
            "Company", key, provenance=prov, imo_company_numbers=claimed, observed=as_of
        )
        exclude = [n for n in (valid, *claimed) if n]
        for mention in vessel_mentions(entry.comments, exclude):
            vkey = vessel_key(imo=mention.imo)
            out.append(NodeRecord("Vessel", vkey, {"imo": mention.imo}, prov))
            if name_key(mention.name):
                vn = name_key(mention.name)
                out.append(NodeRecord("VesselName", vn, {"name": vn}, prov))
                named = {"status": "alias"}
                out.append(EdgeRecord("NAMED", "Vessel", vkey, "VesselName", vn, "alias", named, prov))
            for rel in mention.roles:
                out.append(EdgeRecord(rel, "Company", key, "Vessel", vkey, "", {}, prov, observed=as_of))
            if not mention.roles:
                props_link = {"relation": mention.relation, "stated_by": "UN"}
                out.append(EdgeRecord("LINKED_TO", "Company", key, "Vessel", vkey, "UN", props_link, prov))
    skey = f"un:{reference}"
    sanction = {
        "authority": "UN",
        "program": entry.list_type,
        "list_name": entry.list_name or "UN List",
        "list_reference": reference,
        "listing_date": entry.listed_on if entry.listed_on and _DATE.match(entry.listed_on) else None,
        "remarks": entry.comments,
    }
    out.append(NodeRecord("Sanction", skey, sanction, prov))
    out.append(EdgeRecord("SANCTIONED_AS", label, key, "Sanction", skey, "", {"listed_name": name}, prov))
    for fields in entry.addresses:
        full = address_full(fields)
        if full is None:
            continue
        country = _country(fields.get("COUNTRY"))
        akey = address_key(full)
        aprops = {"full": full, "city": fields.get("CITY"), "country": country.code if country else None}
        out.append(NodeRecord("Address", akey, aprops, prov))
        out.append(EdgeRecord("REGISTERED_AT", label, key, "Address", akey, "", {}, prov, observed=as_of))
        if country is not None:
            out.append(country.record())
            out.append(EdgeRecord("LOCATED_IN", "Address", akey, "Country", country.code, "", {}, prov))
    return out


class _LineReader:
    """A binary file that hands iterparse one line per read, so the current line number is known."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.line = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.readline()
        if data:
            self.line += 1
        return data


def read_entries(path: Path) -> tuple[str | None, list[UnEntry]]:
    """Parse the file: (the list's dateGenerated, its entries); LoadError when it is not this format."""
    require_file(path)
    entries: list[UnEntry] = []
    generated: str | None = None
    starts: dict[int, int] = {}
    with path.open("rb") as handle:
        reader = _LineReader(handle)
        root: ET.Element | None = None
        try:
            for event, elem in ET.iterparse(reader, events=("start", "end")):
                if root is None:
                    if elem.tag != ROOT:
                        raise LoadError(f"{path}: root element is <{elem.tag}>, not <{ROOT}>")
                    root, generated = elem, elem.get("dateGenerated")
                elif elem.tag in ENTRY_TAGS:
                    if event == "start":
                        starts[id(elem)] = reader.line
                    else:
                        entries.append(parse_entry(elem, starts.pop(id(elem), reader.line)))
                        elem.clear()
        except ET.ParseError as exc:
            raise LoadError(f"{path}: not well-formed XML ({exc})") from None
    if root is None:
        raise LoadError(f"{path}: empty document")
    return generated, entries


# https://scsanctions.un.org/resources/xml/en/consolidated.xml
PUBLISHED_NAME = Path("consolidated.xml")


def load(paths: Sequence[Path], options: LoadOptions) -> LoadOutput:
    """Load UN Security Council Consolidated List XML files."""
    parsed = [(Path(p), *read_entries(Path(p))) for p in paths]
    out = LoadOutput()
    for path, generated, entries in parsed:
        # The list says when it was generated: its records cite that, not the copy's modification time.
        when, how = retrieval(path, options, generated)
        out.retrieved[path.name] = f"{when} ({how})"
        as_of = options.as_of or (generated[:10] if generated and _DATE.match(generated[:10]) else None)
        for entry in entries:
            out.rows_read += 1
            record_id = entry.reference or f"DATAID-{entry.dataid}"
            try:
                # Cited by the name the UN publishes the file under, whatever the copy is called, so a
                # dated snapshot cites the same records (the refresh job matches entries on them).
                prov = provenance(options.source or SOURCE, PUBLISHED_NAME, record_id, when)
                out.records += entry_records(entry, prov, as_of)
            except ValueError as exc:
                raw = f"{entry.tag} DATAID {entry.dataid}: {entry.name or ''}"
                out.rejects.append(Reject(str(path), entry.line, str(exc), raw))
            if options.progress:
                options.progress(1)
    return out
