"""OFAC's SDN list in its legacy CSV form: sdn.csv with add.csv (addresses) and alt.csv (aliases).

The files are read exactly as OFAC publishes them: no header row, ``-0-`` for null, CRLF or LF line ends,
an optional trailing 0x1A byte, UTF-8 or (in older files) Latin-1/Windows-1252. Each file is identified
by its column count (sdn 12, add 6, alt 5); add and alt are optional, sdn is required.

Vessels become Vessel nodes (keyed by a check-digit-valid IMO, else by MMSI or name/flag/call sign) with
their identity as periods: current flag, name, MMSI and call sign (observed on ``--as-of`` when given,
else undated), former flags and names (``status: former``), "Other Vessel" flags and call signs
(``status: other``). Individuals become Person nodes, entities Company nodes, aircraft are skipped.
Every program of an entry becomes its own Sanction node. See docs/formats/sanctions.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from graph.keys import (
    address_key,
    company_key,
    is_valid_mmsi,
    name_key,
    normalize_name,
    person_key,
    vessel_key,
)
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from loaders.base import LoadError, LoadOptions, LoadOutput, Reject, provenance, require_file, retrieved_at
from loaders.countries import Country, lookup_country
from loaders.dates import parse_date
from loaders.identifiers import (
    ImoResult,
    call_sign_record,
    clean_mmsi,
    extract_imo,
    identity_anomalies,
    mmsi_record,
)

SOURCE = "ofac-sdn"
NULL = "-0-"
SDN_COLUMNS = (
    "ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign",
    "Vess_type", "Tonnage", "GRT", "Vess_flag", "Vess_owner", "Remarks",
)  # fmt: skip
ADD_COLUMNS = ("ent_num", "add_num", "address", "city_state_postal", "country", "add_remarks")
ALT_COLUMNS = ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks")
KINDS = {len(SDN_COLUMNS): "sdn", len(ADD_COLUMNS): "add", len(ALT_COLUMNS): "alt"}
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
LINKED = "Linked To"
_PROGRAM_SPLIT = re.compile(r"\]\s*\[")
_INT = re.compile(r"^\d+$")
_NUMBER = re.compile(r"^\d[\d,]*(?:\.\d+)?$")


def value(raw: str | None) -> str | None:
    """A field's text without surrounding blanks; None for OFAC's null ``-0-`` and for empty fields."""
    if raw is None:
        return None
    text = " ".join(raw.split())
    return None if not text or text == NULL else text


def number(raw: str | None) -> float | None:
    """A tonnage such as ``99,144`` as a float; None when null or not a number."""
    text = value(raw)
    if text is None or not _NUMBER.match(text):
        return None
    return float(text.replace(",", ""))


def programs(raw: str | None) -> tuple[str, ...]:
    """The programs of an entry: ``SDGT] [IRGC`` (or ``[SDGT] [IRGC]``) → ("SDGT", "IRGC")."""
    text = value(raw)
    if text is None:
        return ()
    parts = _PROGRAM_SPLIT.split(text.strip().removeprefix("[").removesuffix("]"))
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


@dataclass(frozen=True)
class SdnEntry:
    """One row of sdn.csv."""

    ent_num: str
    name: str
    sdn_type: str | None
    programs: tuple[str, ...]
    title: str | None
    call_sign: str | None
    vessel_type: str | None
    tonnage: float | None
    grt: float | None
    vessel_flag: str | None
    vessel_owner: str | None
    remarks: str | None

    @classmethod
    def from_row(cls, row: Sequence[str]) -> SdnEntry:
        """Build an entry from the 12 fields of a row; ValueError when it cannot be one."""
        if len(row) != len(SDN_COLUMNS):
            raise ValueError(f"expected {len(SDN_COLUMNS)} columns, found {len(row)}")
        ent_num = (value(row[0]) or "").strip()
        if not _INT.match(ent_num):
            raise ValueError(f"ent_num {row[0]!r} is not a number")
        name = value(row[1])
        if name is None:
            raise ValueError("no SDN_Name")
        return cls(
            ent_num,
            name,
            (value(row[2]) or "").lower() or None,
            programs(row[3]),
            value(row[4]),
            value(row[5]),
            value(row[6]),
            number(row[7]),
            number(row[8]),
            value(row[9]),
            value(row[10]),
            value(row[11]),
        )

    @property
    def label(self) -> str | None:
        """The node label for this entry's type; None for aircraft and anything else unmodelled."""
        if self.sdn_type is None:
            return "Company"
        return {"vessel": "Vessel", "individual": "Person"}.get(self.sdn_type)


@dataclass(frozen=True)
class SdnAddress:
    """One row of add.csv."""

    ent_num: str
    add_num: str
    address: str | None
    city: str | None
    country: str | None
    remarks: str | None

    @classmethod
    def from_row(cls, row: Sequence[str]) -> SdnAddress:
        """Build from the 6 fields of an add.csv row; ValueError when malformed."""
        if len(row) != len(ADD_COLUMNS):
            raise ValueError(f"expected {len(ADD_COLUMNS)} columns, found {len(row)}")
        ent_num, add_num = (value(row[0]) or ""), (value(row[1]) or "")
        if not (_INT.match(ent_num) and _INT.match(add_num)):
            raise ValueError(f"ent_num {row[0]!r} or add_num {row[1]!r} is not a number")
        return cls(ent_num, add_num, value(row[2]), value(row[3]), value(row[4]), value(row[5]))

    @property
    def full(self) -> str | None:
        """The address as one line, or None without a street line (a city alone is not an address)."""
        if self.address is None:
            return None
        return ", ".join(p for p in (self.address, self.city, self.country) if p)


@dataclass(frozen=True)
class SdnAlias:
    """One row of alt.csv."""

    ent_num: str
    alt_num: str
    alt_type: str | None
    name: str | None
    remarks: str | None

    @classmethod
    def from_row(cls, row: Sequence[str]) -> SdnAlias:
        """Build from the 5 fields of an alt.csv row; ValueError when malformed."""
        if len(row) != len(ALT_COLUMNS):
            raise ValueError(f"expected {len(ALT_COLUMNS)} columns, found {len(row)}")
        ent_num, alt_num = (value(row[0]) or ""), (value(row[1]) or "")
        if not (_INT.match(ent_num) and _INT.match(alt_num)):
            raise ValueError(f"ent_num {row[0]!r} or alt_num {row[1]!r} is not a number")
        alt_type = value(row[2])
        return cls(ent_num, alt_num, alt_type.lower() if alt_type else None, value(row[3]), value(row[4]))


@dataclass
class Remarks:
    """What the Remarks field of an entry says, part by part."""

    imo: ImoResult = field(default_factory=lambda: ImoResult(None))
    company_imo: ImoResult = field(default_factory=lambda: ImoResult(None))
    mmsi: str | None = None
    build_year: int | None = None
    former_flags: list[str] = field(default_factory=list)
    other_flags: list[str] = field(default_factory=list)
    other_call_signs: list[str] = field(default_factory=list)
    linked_to: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    citizenships: list[str] = field(default_factory=list)
    registration_country: str | None = None
    birth_date: str | None = None


def _after(part: str, prefix: str) -> str | None:
    if part.lower().startswith(prefix.lower()):
        return part[len(prefix) :].strip() or None
    return None


def parse_remarks(text: str | None, vessel: bool = False) -> Remarks:
    """Split an entry's remarks on ";" and read the parts this loader uses.

    For vessels, "Vessel Registration Identification [IMO] N" is the ship's IMO number; for other
    entries any "... IMO N" part is an IMO company number. Either way a number failing its check digit
    is kept in ``claimed``, never used as a key.
    """
    out = Remarks()
    if not text:
        return out
    for raw_part in text.split(";"):
        part = raw_part.strip().removesuffix(".").strip()
        alt = part.lower().startswith("alt. ")
        part = part[5:].strip() if alt else part
        if (rest := _after(part, "Vessel Registration Identification")) is not None and vessel:
            found = extract_imo(rest)
            out.imo = ImoResult(out.imo.valid or found.valid, out.imo.claimed + found.claimed)
        elif not vessel and re.search(r"(?<![A-Za-z])IMO(?![A-Za-z])", part):
            found = extract_imo(part, company=True, require_prefix=True)
            out.company_imo = ImoResult(
                out.company_imo.valid or found.valid, out.company_imo.claimed + found.claimed
            )
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
        elif (rest := _after(part, f"{LINKED}:")) is not None:
            out.linked_to.append(rest)
        elif (rest := _after(part, "Nationality of Registration")) is not None:
            out.registration_country = out.registration_country or rest
        elif (rest := _after(part, "nationality")) is not None:
            out.nationalities.append(rest)
        elif (rest := _after(part, "citizen")) is not None:
            out.citizenships.append(rest)
        elif (rest := _after(part, "DOB")) is not None and not alt and out.birth_date is None:
            out.birth_date = _birth_date(rest)
    return out


def _birth_date(text: str) -> str | None:
    try:
        return parse_date(text, "DMY", partial=True)
    except ValueError:
        return None


# ---- reading the files ---------------------------------------------------------------------------------


@dataclass
class CsvFile:
    """A decoded OFAC CSV file: its kind ("sdn", "add" or "alt") and its rows with line numbers."""

    path: Path
    kind: str
    rows: list[tuple[int, list[str]]]


def decode(data: bytes, path: Path) -> str:
    """Text of an OFAC file: UTF-8, else Windows-1252/Latin-1; trailing 0x1A and blank space removed."""
    if b"\x00" in data:
        raise LoadError(f"{path}: binary data (NUL bytes), not an OFAC CSV file")
    for encoding in ENCODINGS[:-1]:
        try:
            return data.decode(encoding).rstrip("\x1a \t\r\n")
        except UnicodeDecodeError:
            continue
    return data.decode(ENCODINGS[-1]).rstrip("\x1a \t\r\n")


def read_csv(path: Path) -> CsvFile:
    """Read and identify one OFAC CSV file; LoadError when it is not one of sdn/add/alt at all."""
    require_file(path)
    text = decode(path.read_bytes(), path)
    if not text.strip():
        raise LoadError(f"{path}: empty file")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if row and any(f.strip() for f in row):
                rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise LoadError(f"{path}: not CSV ({exc} near line {reader.line_num})") from None
    first = rows[0][1][0].strip()
    if not _INT.match(first):
        raise LoadError(
            f"{path}: first row starts with {first[:40]!r}, not an ent_num; "
            "OFAC's CSV files have no header row"
        )
    widths = Counter(len(row) for _, row in rows)
    width, count = widths.most_common(1)[0]
    if width not in KINDS or count * 2 < len(rows):
        raise LoadError(
            f"{path}: not an OFAC sdn/add/alt CSV file (rows have {dict(widths)} columns; "
            f"expected {len(SDN_COLUMNS)}, {len(ADD_COLUMNS)} or {len(ALT_COLUMNS)})"
        )
    return CsvFile(path, KINDS[width], rows)


# ---- records -------------------------------------------------------------------------------------------


@dataclass
class Context:
    """What building one entry's records needs beyond the entry itself."""

    when: str
    sdn_path: Path
    as_of: str | None = None
    add_path: Path | None = None
    alt_path: Path | None = None
    aliases: dict[str, list[SdnAlias]] = field(default_factory=dict)
    addresses: dict[str, list[SdnAddress]] = field(default_factory=dict)
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)
    by_name: dict[str, list[str]] = field(default_factory=dict)
    by_alias: dict[str, list[str]] = field(default_factory=dict)
    whens: dict[Path, str] = field(default_factory=dict)
    source: str = SOURCE

    def prov(self, ent_num: str) -> Provenance:
        return provenance(self.source, self.sdn_path, ent_num, self.when)

    def side_prov(self, path: Path, record_id: str) -> Provenance:
        """Provenance of a row of add.csv or alt.csv."""
        return provenance(self.source, path, record_id, self.whens.get(path, self.when))

    def resolve(self, name: str, exclude: str = "") -> tuple[str, str] | None:
        """The (label, key) of the only entry called ``name`` (by primary name, else by alias)."""
        wanted = normalize_name(name)
        for index in (self.by_name, self.by_alias):
            found = [e for e in dict.fromkeys(index.get(wanted, [])) if e != exclude and e in self.nodes]
            if found:
                return self.nodes[found[0]] if len(found) == 1 else None
        return None


def _country(raw: str | None) -> Country | None:
    return lookup_country(raw) if raw else None


def _edge(
    rel: str,
    src: tuple[str, str],
    dst: tuple[str, str],
    prov: Provenance,
    as_of: str | None = None,
    props: dict[str, object] | None = None,
    key: str = "",
) -> EdgeRecord:
    """An edge; a temporal one is an observation on ``as_of`` when the list date is known."""
    return EdgeRecord(rel, src[0], src[1], dst[0], dst[1], key, props or {}, prov, observed=as_of)


def entry_node(entry: SdnEntry, ctx: Context) -> tuple[str, str] | None:
    """The (label, key) an entry's node gets; None for entries this loader does not model."""
    label = entry.label
    if label is None:
        return None
    remarks = parse_remarks(entry.remarks, vessel=label == "Vessel")
    if label == "Vessel":
        flag = _country(entry.vessel_flag)
        mmsi = remarks.mmsi if remarks.mmsi and is_valid_mmsi(remarks.mmsi) else None
        return label, vessel_key(
            remarks.imo.valid, mmsi, entry.name, flag.code if flag else None, entry.call_sign
        )
    if label == "Person":
        nationality = _first_country(remarks.nationalities or remarks.citizenships)
        return label, person_key(entry.name, remarks.birth_date, nationality.code if nationality else None)
    imo = remarks.company_imo.valid
    return label, company_key(entry.name, _jurisdiction(entry, remarks, ctx), imo_company_number=imo)


def _first_country(values: Iterable[str]) -> Country | None:
    for raw in values:
        country = _country(raw)
        if country is not None:
            return country
    return None


def _jurisdiction(entry: SdnEntry, remarks: Remarks, ctx: Context) -> str | None:
    """The registration country when stated, else the one country all the entry's addresses share."""
    registered = _country(remarks.registration_country)
    if registered is not None:
        return registered.code
    codes = {c.code for a in ctx.addresses.get(entry.ent_num, []) if (c := _country(a.country))}
    return codes.pop() if len(codes) == 1 else None


def entry_records(entry: SdnEntry, ctx: Context) -> list[Record]:
    """Every node and edge record for one SDN entry (with its aliases and addresses)."""
    node = ctx.nodes.get(entry.ent_num) or entry_node(entry, ctx)
    if node is None:
        return []
    label, key = node
    prov = ctx.prov(entry.ent_num)
    vessel = label == "Vessel"
    remarks = parse_remarks(entry.remarks, vessel=vessel)
    aliases = ctx.aliases.get(entry.ent_num, [])
    if vessel:
        out = _vessel_records(entry, key, remarks, aliases, ctx)
    elif label == "Person":
        out = _person_records(entry, key, remarks, aliases, ctx)
    else:
        out = _company_records(entry, key, remarks, aliases, ctx)
    for program in entry.programs:
        skey = f"ofac-sdn:{entry.ent_num}:{program}"
        sprops = {
            "authority": "OFAC",
            "program": program,
            "list_name": "SDN",
            "list_reference": entry.ent_num,
            "remarks": entry.remarks,
        }
        out.append(NodeRecord("Sanction", skey, sprops, prov))
        out.append(_edge("SANCTIONED_AS", node, ("Sanction", skey), prov, props={"listed_name": entry.name}))
    for target in remarks.linked_to:
        other = ctx.resolve(target, exclude=entry.ent_num)
        if other is not None:
            # Keyed by authority: another list stating the same link is a second statement, not this one.
            link = {"relation": LINKED, "stated_by": "OFAC"}
            out.append(_edge("LINKED_TO", node, other, prov, props=link, key="OFAC"))
    return out


def _alias_record(label: str, key: str, aliases: list[SdnAlias], ctx: Context) -> list[Record]:
    names = [a.name for a in aliases if a.name]
    if not names or ctx.alt_path is None:
        return []
    prov = ctx.side_prov(ctx.alt_path, aliases[0].ent_num)
    return [NodeRecord(label, key, {"aliases": list(dict.fromkeys(names))}, prov)]


def _vessel_records(
    entry: SdnEntry, key: str, remarks: Remarks, aliases: list[SdnAlias], ctx: Context
) -> list[Record]:
    prov, as_of, node = ctx.prov(entry.ent_num), ctx.as_of, ("Vessel", key)
    flag = _country(entry.vessel_flag)
    mmsi = remarks.mmsi if remarks.mmsi and is_valid_mmsi(remarks.mmsi) else None
    props = {
        "name": entry.name,
        "imo": remarks.imo.valid,
        "claimed_imos": list(remarks.imo.claimed) or None,
        "vessel_type": entry.vessel_type,
        "build_year": remarks.build_year,
        "tonnage": entry.tonnage,
        "gross_tonnage": entry.grt,
        "mmsi": mmsi,
        "flag": flag.code if flag else None,
        "call_sign": entry.call_sign,
    }
    out: list[Record] = [NodeRecord("Vessel", key, props, prov)]
    if name_key(entry.name):
        vn = ("VesselName", name_key(entry.name))
        out += [NodeRecord(*vn, {"name": vn[1]}, prov), _edge("NAMED", node, vn, prov, as_of)]
    for alias in aliases:
        if alias.name and name_key(alias.name):
            status = "former" if alias.alt_type in ("fka", "f.k.a.") else "alias"
            aprov = ctx.side_prov(ctx.alt_path or ctx.sdn_path, alias.alt_num)
            vn = ("VesselName", name_key(alias.name))
            out.append(NodeRecord(*vn, {"name": vn[1]}, aprov))
            out.append(_edge("NAMED", node, vn, aprov, props={"status": status}, key=status))
    if flag is not None:
        out.append(flag.record())
        out.append(_edge("FLAGGED", node, ("Country", flag.code), prov, as_of))
    former = [c for raw in remarks.former_flags if (c := _country(raw))]
    for status, countries in (("former", former), ("other", [_country(r) for r in remarks.other_flags])):
        for country in countries:
            if country is not None:
                out.append(country.record())
                out.append(
                    _edge(
                        "FLAGGED", node, ("Country", country.code), prov, props={"status": status}, key=status
                    )
                )
    if mmsi is not None:
        out.append(mmsi_record(mmsi, prov))
        out.append(_edge("HAS_MMSI", node, ("Mmsi", mmsi), prov, as_of))
    if entry.call_sign:
        cs = call_sign_record(entry.call_sign, prov)
        out += [cs, _edge("HAS_CALL_SIGN", node, ("CallSign", cs.key), prov, as_of)]
    for other in remarks.other_call_signs:
        cs = call_sign_record(other, prov)
        out += [
            cs,
            _edge("HAS_CALL_SIGN", node, ("CallSign", cs.key), prov, props={"status": "other"}, key="other"),
        ]
    if entry.vessel_owner:
        owner = ctx.resolve(entry.vessel_owner, exclude=entry.ent_num)
        if owner is None or owner[0] == "Vessel":
            owner = ("Company", company_key(entry.vessel_owner))
            out.append(NodeRecord("Company", owner[1], {"name": entry.vessel_owner}, prov))
        out.append(_edge("REGISTERED_OWNER_OF", owner, node, prov, as_of))
    out += identity_anomalies(
        "Vessel",
        key,
        provenance=prov,
        claimed_imos=remarks.imo.claimed,
        mmsi=remarks.mmsi,
        flag=flag.code if flag else None,
        former_flags=[c.code for c in former],
        observed=as_of,
    )
    return out


def _party_common(
    label: str, key: str, entry: SdnEntry, aliases: list[SdnAlias], ctx: Context
) -> list[Record]:
    out = _alias_record(label, key, aliases, ctx)
    for address in ctx.addresses.get(entry.ent_num, []):
        full = address.full
        if full is None or ctx.add_path is None:
            continue
        aprov = ctx.side_prov(ctx.add_path, address.add_num)
        country = _country(address.country)
        akey = address_key(full)
        out.append(
            NodeRecord(
                "Address",
                akey,
                {"full": full, "city": address.city, "country": country.code if country else None},
                aprov,
            )
        )
        out.append(_edge("REGISTERED_AT", (label, key), ("Address", akey), aprov, ctx.as_of))
        if country is not None:
            out.append(country.record())
            out.append(_edge("LOCATED_IN", ("Address", akey), ("Country", country.code), aprov))
    return out


def _person_records(
    entry: SdnEntry, key: str, remarks: Remarks, aliases: list[SdnAlias], ctx: Context
) -> list[Record]:
    prov = ctx.prov(entry.ent_num)
    countries = [c for raw in remarks.nationalities or remarks.citizenships if (c := _country(raw))]
    props = {
        "name": entry.name,
        "nationality": countries[0].code if countries else None,
        "birth_date": remarks.birth_date,
    }
    out: list[Record] = [NodeRecord("Person", key, props, prov)]
    for country in {c.code: c for c in countries}.values():
        out.append(country.record())
        out.append(_edge("NATIONAL_OF", ("Person", key), ("Country", country.code), prov))
    return out + _party_common("Person", key, entry, aliases, ctx)


def _company_records(
    entry: SdnEntry, key: str, remarks: Remarks, aliases: list[SdnAlias], ctx: Context
) -> list[Record]:
    prov = ctx.prov(entry.ent_num)
    imo = remarks.company_imo
    props = {
        "name": entry.name,
        "jurisdiction": _jurisdiction(entry, remarks, ctx),
        "imo_company_number": imo.valid or (imo.claimed[0] if imo.claimed else None),
    }
    out: list[Record] = [NodeRecord("Company", key, props, prov)]
    registered = _country(remarks.registration_country)
    if registered is not None:
        out.append(registered.record())
        out.append(_edge("INCORPORATED_IN", ("Company", key), ("Country", registered.code), prov))
    out += identity_anomalies(
        "Company", key, provenance=prov, imo_company_numbers=imo.claimed, observed=ctx.as_of
    )
    return out + _party_common("Company", key, entry, aliases, ctx)


# ---- the loader ----------------------------------------------------------------------------------------


def load(paths: Sequence[Path], options: LoadOptions) -> LoadOutput:
    """Load an OFAC SDN legacy CSV set (sdn.csv, optionally with add.csv and alt.csv)."""
    files = [read_csv(Path(p)) for p in paths]
    kinds = Counter(f.kind for f in files)
    if kinds["sdn"] == 0:
        names = ", ".join(str(f.path) for f in files) or "none"
        raise LoadError(f"no sdn.csv among the inputs ({names}); add.csv and alt.csv rows refer to it")
    if max(kinds.values()) > 1:
        twice = ", ".join(sorted(k for k, n in kinds.items() if n > 1))
        raise LoadError(f"more than one {twice} file given; load one sdn/add/alt set at a time")
    sdn_files = [f for f in files if f.kind == "sdn"]
    out = LoadOutput()
    entries: dict[str, SdnEntry] = {}
    for file in sdn_files:
        for line, row in file.rows:
            out.rows_read += 1
            try:
                entry = SdnEntry.from_row(row)
            except ValueError as exc:
                out.rejects.append(Reject(str(file.path), line, str(exc), ",".join(row)[:500]))
                continue
            if entry.ent_num in entries:
                out.rejects.append(
                    Reject(str(file.path), line, f"duplicate ent_num {entry.ent_num}", ",".join(row)[:500])
                )
                continue
            entries[entry.ent_num] = entry
            if options.progress:
                options.progress(1)
    aliases: dict[str, list[SdnAlias]] = defaultdict(list)
    addresses: dict[str, list[SdnAddress]] = defaultdict(list)
    side_paths: dict[str, Path] = {}
    for file in files:
        if file.kind == "sdn":
            continue
        side_paths[file.kind] = file.path
        parse = SdnAddress.from_row if file.kind == "add" else SdnAlias.from_row
        for line, row in file.rows:
            out.rows_read += 1
            try:
                item = parse(row)
            except ValueError as exc:
                out.rejects.append(Reject(str(file.path), line, str(exc), ",".join(row)[:500]))
                continue
            if item.ent_num not in entries:
                reason = f"ent_num {item.ent_num} is not in sdn.csv"
                out.rejects.append(Reject(str(file.path), line, reason, ",".join(row)[:500]))
                continue
            if isinstance(item, SdnAddress):
                addresses[item.ent_num].append(item)
            else:
                aliases[item.ent_num].append(item)
            if options.progress:
                options.progress(1)
    out.records = build_records(
        entries.values(),
        aliases,
        addresses,
        sdn_path=sdn_files[0].path,
        when=retrieved_at(sdn_files[0].path, options),
        as_of=options.as_of,
        add_path=side_paths.get("add"),
        alt_path=side_paths.get("alt"),
        whens={p: retrieved_at(p, options) for p in side_paths.values()},
        source=options.source or SOURCE,
    )
    return out


def build_records(
    entries: Iterable[SdnEntry],
    aliases: dict[str, list[SdnAlias]],
    addresses: dict[str, list[SdnAddress]],
    *,
    sdn_path: Path,
    when: str,
    as_of: str | None = None,
    add_path: Path | None = None,
    alt_path: Path | None = None,
    whens: dict[Path, str] | None = None,
    source: str = SOURCE,
) -> list[Record]:
    """All records for a set of entries with their aliases and addresses (no file access)."""
    ctx = Context(
        when,
        sdn_path,
        as_of,
        add_path,
        alt_path,
        dict(aliases),
        dict(addresses),
        whens=whens or {},
        source=source,
    )
    entries = list(entries)
    for entry in entries:
        node = entry_node(entry, ctx)
        if node is None:
            continue
        ctx.nodes[entry.ent_num] = node
        ctx.by_name.setdefault(normalize_name(entry.name), []).append(entry.ent_num)
        for alias in aliases.get(entry.ent_num, []):
            if alias.name:
                ctx.by_alias.setdefault(normalize_name(alias.name), []).append(entry.ent_num)
    records: list[Record] = []
    for entry in entries:
        records += entry_records(entry, ctx)
    return records
