"""What the Remarks field of an OFAC SDN entry says: identifiers, names, flags, links.

Remarks are ";"-separated parts, each a label and a value, optionally prefixed "alt." (an alternative
value of the same kind). The parts read here were surveyed on the real lists (2019 and July 2021, see
docs/formats/sanctions.md):

- IMO numbers: "Vessel Registration Identification [IMO] N" on a vessel is its IMO ship number, as is
  any "... IMO N" part of a vessel ("Identification Number IMO N"); on any other entry "Company Number
  IMO N", "Identification Number IMO N" (also ``alt.``) or "Vessel Registration Identification IMO N"
  is an IMO company number. "Company Number N" without the word IMO is an IMO company number when N
  has seven digits and passes the company check digit; otherwise it is a national company number.
- Registration numbers: "Registration Number", "Registration ID", "Company Number", "UK Company
  Number", "Business Registration Number", "Business Registration Document #", "Public Registration
  Number", "Commercial Registry Number", "Central Registration System Number", each with the register's
  country in trailing parentheses when OFAC gives it ("201318227N (Singapore)").
- "MMSI N", "Vessel Year of Build N", "Former Vessel Flag X", "Other Vessel Flag X", "Other Vessel Call
  Sign X", "Linked To: X", "Nationality of Registration X", "nationality X", "citizen X", "DOB ...".
- Names: "a.k.a. 'X'", "f.k.a. 'X'" and "n.k.a. 'X'" (OFAC's weaker aliases, which alt.csv does not
  repeat; on a vessel, f.k.a. is a former name whose dates the list does not give).

Everything else (passports, tax numbers, phone numbers, digital currency addresses...) stays in the
Sanction node's ``remarks`` text, unread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from graph.keys import is_valid_imo_company
from loaders.countries import lookup_country
from loaders.dates import parse_date
from loaders.identifiers import ImoResult, clean_mmsi, extract_imo

LINKED = "Linked To"
# Labels of registration numbers, longest first where one is the end of another.
REGISTRATION_LABELS = (
    "Business Registration Document #",
    "Business Registration Number",
    "Central Registration System Number",
    "Commercial Registry Number",
    "Public Registration Number",
    "UK Company Number",
    "Registration Number",
    "Registration ID",
    "Company Number",
)
_IMO_WORD = re.compile(r"(?<![A-Za-z])IMO(?![A-Za-z])")
_NAME = re.compile(r"^(?P<kind>[afn])\.k\.a\.?\s*'(?P<name>.+)'$")
_TRAILING_PARENS = re.compile(r"^(?P<number>.*?)(?P<groups>(?:\s*\([^()]*\))*)$")
_GROUP = re.compile(r"\(([^()]*)\)")
_SEVEN = re.compile(r"^\d{7}$")


@dataclass(frozen=True)
class Registration:
    """A company registration number as a remark gives it: the label, the number, the register's country
    (ISO alpha-2, None when not given or not a country) and the part as written."""

    label: str
    number: str
    country: str | None
    text: str


@dataclass(frozen=True)
class RemarkName:
    """A name a remark gives: ``kind`` is "aka", "fka" or "nka"."""

    kind: str
    name: str


@dataclass
class Remarks:
    """What the Remarks field of an entry says, part by part."""

    imo: ImoResult = field(default_factory=lambda: ImoResult(None))
    company_imo: ImoResult = field(default_factory=lambda: ImoResult(None))
    # Every IMO company number that passes its check digit, in order (the first is ``company_imo``).
    company_imos: list[str] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    mmsi: str | None = None
    build_year: int | None = None
    former_flags: list[str] = field(default_factory=list)
    other_flags: list[str] = field(default_factory=list)
    other_call_signs: list[str] = field(default_factory=list)
    linked_to: list[str] = field(default_factory=list)
    names: list[RemarkName] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    citizenships: list[str] = field(default_factory=list)
    registration_country: str | None = None
    birth_date: str | None = None

    @property
    def registration(self) -> Registration | None:
        """The registration number used for the company: the first with a country, else the first."""
        with_country = [r for r in self.registrations if r.country]
        return (with_country or self.registrations or [None])[0]


def _after(part: str, prefix: str) -> str | None:
    if part.lower().startswith(prefix.lower()):
        return part[len(prefix) :].strip() or None
    return None


def _merge(a: ImoResult, b: ImoResult) -> ImoResult:
    return ImoResult(a.valid or b.valid, a.claimed + tuple(c for c in b.claimed if c not in a.claimed))


def registration(label: str, rest: str) -> Registration | None:
    """ "201318227N (Singapore)" → number 201318227N, country SG; the last parenthesised group that is a
    country names the register ("3934472 (New York) (United States)" → US)."""
    match = _TRAILING_PARENS.match(rest.strip())
    if match is None:  # pragma: no cover - the pattern matches any text
        return None
    # A final "." before the parentheses belongs to the number ("MAT 46-47 TOMO 460 L. (Mexico)").
    number = match["number"].strip()
    if not number or not any(c.isdigit() for c in number):
        return None
    country = None
    for group in reversed(_GROUP.findall(match["groups"])):
        found = lookup_country(group)
        if found is not None:
            country = found.code
            break
    return Registration(label, number, country, f"{label} {rest.strip()}")


def _company_number(part: str, out: Remarks) -> bool:
    """Read an IMO company number from an entity's part; True when the part was one."""
    if _IMO_WORD.search(part):
        found = extract_imo(part, company=True, require_prefix=True)
    else:
        rest = _after(part, "Company Number")
        number = rest.split("(")[0].strip() if rest else ""
        # Without the word IMO, only seven digits passing the company check digit are an IMO number;
        # a failing or longer number is a national company number (read as a registration).
        if not (_SEVEN.match(number) and is_valid_imo_company(number)):
            return False
        found = ImoResult(number)
    if not (found.valid or found.claimed):
        return False
    out.company_imo = _merge(out.company_imo, found)
    if found.valid and found.valid not in out.company_imos:
        out.company_imos.append(found.valid)
    return True


def parse_remarks(text: str | None, vessel: bool = False) -> Remarks:
    """Split an entry's remarks on ";" and read the parts this loader uses (see the module docstring).

    A number failing its check digit is kept in ``claimed``, never used as a key.
    """
    out = Remarks()
    if not text:
        return out
    for raw_part in text.split(";"):
        part = raw_part.strip().removesuffix(".").strip()
        alt = part.lower().startswith("alt. ")
        part = part[5:].strip() if alt else part
        if (named := _NAME.match(part)) is not None:
            out.names.append(RemarkName(f"{named['kind']}ka", " ".join(named["name"].split())))
        elif (rest := _after(part, f"{LINKED}:")) is not None:  # before IMO: a name may hold the word
            out.linked_to.append(rest)
        elif vessel and (rest := _after(part, "Vessel Registration Identification")) is not None:
            out.imo = _merge(out.imo, extract_imo(rest))
        elif vessel and _IMO_WORD.search(part):
            out.imo = _merge(out.imo, extract_imo(part, require_prefix=True))
        elif not vessel and _company_number(part, out):
            continue
        elif not vessel and (reg := _registration(part)) is not None:
            out.registrations.append(reg)
        elif (rest := _after(part, "MMSI")) is not None:
            out.mmsi = out.mmsi or clean_mmsi(rest) or rest
        elif (rest := _after(part, "Vessel Year of Build")) is not None:
            out.build_year = int(rest) if rest.isdigit() and len(rest) == 4 else out.build_year
        elif (rest := _after(part, "Former Vessel Flag")) is not None:
            out.former_flags.append(rest)
        elif (rest := _after(part, "Other Vessel Flag")) is not None:
            out.other_flags.append(rest)
        elif (rest := _after(part, "Other Vessel Call Sign")) is not None:
            out.other_call_signs.append(rest)
        elif (rest := _after(part, "Nationality of Registration")) is not None:
            out.registration_country = out.registration_country or rest
        elif (rest := _after(part, "nationality")) is not None:
            out.nationalities.append(rest)
        elif (rest := _after(part, "citizen")) is not None:
            out.citizenships.append(rest)
        elif (rest := _after(part, "DOB")) is not None and not alt and out.birth_date is None:
            out.birth_date = _birth_date(rest)
    return out


def _registration(part: str) -> Registration | None:
    for label in REGISTRATION_LABELS:
        if (rest := _after(part, label)) is not None:
            # "Registration IDentification..." is not a registration ID: the label must end a word.
            if part[len(label) : len(label) + 1].isalnum():
                return None
            return registration(label, rest)
    return None


def _birth_date(text: str) -> str | None:
    try:
        return parse_date(text, "DMY", partial=True)
    except ValueError:
        return None
