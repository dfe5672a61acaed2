"""OFAC's SDN list in its legacy CSV form: sdn.csv with add.csv (addresses), alt.csv (aliases) and
sdn_comments.csv (remarks too long for sdn.csv), turned into graph records.

The files and their rows are read by loaders/ofac_files.py (each file identified by its column count,
never by its name; a folder stands for the CSV files in it), what the remarks say by
loaders/ofac_remarks.py; identifiers two entries share are never a silent merge
(loaders/ofac_conflicts.py). Record ids name the files by their role (``sdn.csv#<ent_num>``), not by the
name they were saved under, so a dated copy cites the same records (and refresh matches entries).

Vessels become Vessel nodes (keyed by a check-digit-valid IMO, else by MMSI or name/flag/call sign) with
their identity as periods: current flag, name, MMSI and call sign (observed on ``--as-of`` when given,
else undated), former flags and names (``status: former``, never dated), "Other Vessel" flags and call
signs (``status: other``). Individuals become Person nodes, entities Company nodes, aircraft are
skipped. Every program of an entry becomes its own Sanction node. See docs/formats/sanctions.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
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
from loaders.base import LoadError, LoadOptions, LoadOutput, Reject, retrieval
from loaders.countries import Country, lookup_country
from loaders.identifiers import call_sign_record, identity_anomalies, mmsi_record
from loaders.ofac_conflicts import Claim, anomaly_records, shared
from loaders.ofac_files import (
    COMMENT_COLUMNS,
    INTEGER,
    RECORD_FILES,
    CsvFile,
    SdnAddress,
    SdnAlias,
    SdnEntry,
    input_files,
    programs,
    read_csv,
    value,
)
from loaders.ofac_remarks import LINKED, Registration, Remarks, parse_remarks

__all__ = ["LINKED", "Remarks", "SdnEntry", "load", "parse_remarks", "programs", "value"]

SOURCE = "ofac-sdn"


# ---- records -------------------------------------------------------------------------------------------


@dataclass
class Context:
    """What building one entry's records needs beyond the entry itself."""

    when: str
    as_of: str | None = None
    kinds: frozenset[str] = frozenset({"sdn"})
    aliases: dict[str, list[SdnAlias]] = field(default_factory=dict)
    addresses: dict[str, list[SdnAddress]] = field(default_factory=dict)
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)
    by_name: dict[str, list[str]] = field(default_factory=dict)
    by_alias: dict[str, list[str]] = field(default_factory=dict)
    whens: dict[str, str] = field(default_factory=dict)
    source: str = SOURCE
    remarks: dict[str, Remarks] = field(default_factory=dict)
    # (identifier kind, value) pairs that differently named entries share: never a key.
    unkeyed: set[tuple[str, str]] = field(default_factory=set)

    def record(self, kind: str, record_id: str) -> Provenance:
        """Provenance of a row of the ``kind`` file, named as OFAC names the file."""
        return Provenance(self.source, f"{RECORD_FILES[kind]}#{record_id}", self.whens.get(kind, self.when))

    def prov(self, ent_num: str) -> Provenance:
        return self.record("sdn", ent_num)

    def remarks_of(self, entry: SdnEntry) -> Remarks:
        found = self.remarks.get(entry.ent_num)
        if found is None:
            found = self.remarks[entry.ent_num] = parse_remarks(entry.remarks, vessel=entry.label == "Vessel")
        return found

    def origin(self, entry: SdnEntry, part: Callable[[Remarks], Collection[object]], item: object) -> list:
        """The records stating one item the remarks give (a link, a name, a flag...).

        Without a continuation that is the sdn.csv row. With one, the item is read from sdn.csv's part
        and from the continuation alone: found in one, that file's row states it; found in neither (it
        straddles the cut, as "PROMO RAI" + "Z S.A.S.") or in both, both rows do.
        """
        sdn = self.prov(entry.ent_num)
        if entry.continuation is None:
            return [sdn]
        vessel = entry.label == "Vessel"
        in_head = item in part(parse_remarks(entry.head, vessel=vessel))
        in_tail = item in part(parse_remarks(entry.continuation, vessel=vessel))
        comments = self.record("comments", entry.ent_num)
        return ([sdn] if in_head or not in_tail else []) + ([comments] if in_tail or not in_head else [])

    def node_provs(self, entry: SdnEntry) -> list[Provenance]:
        """The records stating an entry's node properties: the sdn.csv row, and the sdn_comments.csv row
        too when what the remarks give the node differs once the continuation is joined."""
        out = [self.prov(entry.ent_num)]
        if entry.continuation is not None:
            head = parse_remarks(entry.head, vessel=entry.label == "Vessel")
            if _scalars(head) != _scalars(self.remarks_of(entry)):
                out.append(self.record("comments", entry.ent_num))
        return out

    def resolve(self, name: str, exclude: str = "") -> tuple[str, str] | None:
        """The (label, key) of the only entry called ``name`` (by primary name, else by alias)."""
        wanted = normalize_name(name)
        for index in (self.by_name, self.by_alias):
            found = [e for e in dict.fromkeys(index.get(wanted, [])) if e != exclude and e in self.nodes]
            if found:
                return self.nodes[found[0]] if len(found) == 1 else None
        return None


def _scalars(remarks: Remarks) -> tuple[object, ...]:
    """What of the remarks goes into an entry's node properties and key."""
    return (
        remarks.imo,
        remarks.company_imo,
        tuple(remarks.company_imos),
        remarks.registration,
        remarks.mmsi,
        remarks.build_year,
        remarks.registration_country,
        remarks.birth_date,
        tuple(remarks.nationalities),
        tuple(remarks.citizenships),
    )


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


def _registration_value(reg: Registration) -> str:
    """How a registration number is compared between entries: register country and number."""
    return f"{reg.country or '-'}:{reg.number.upper()}"


def _vessel_mmsi(remarks: Remarks) -> str | None:
    return remarks.mmsi if remarks.mmsi and is_valid_mmsi(remarks.mmsi) else None


def claims(entry: SdnEntry, remarks: Remarks) -> list[Claim]:
    """The identifiers an entry gives that another entry might give too."""
    label = entry.label
    out: list[Claim] = []
    if label == "Vessel":
        if remarks.imo.valid:
            out.append(Claim("imo", remarks.imo.valid, entry.ent_num, entry.name))
        if (mmsi := _vessel_mmsi(remarks)) is not None:
            out.append(Claim("mmsi", mmsi, entry.ent_num, entry.name))
    elif label == "Company":
        out += [Claim("imo_company_number", n, entry.ent_num, entry.name) for n in remarks.company_imos]
        out += [
            Claim("registration_number", _registration_value(r), entry.ent_num, entry.name)
            for r in remarks.registrations
        ]
    return out


def company_identity(remarks: Remarks, ctx: Context) -> tuple[str | None, Registration | None]:
    """The IMO company number and the registration a company is keyed on: the first of each that no
    differently named entry shares."""
    imo = next((n for n in remarks.company_imos if ("imo_company_number", n) not in ctx.unkeyed), None)
    reg = remarks.registration
    if reg is not None and ("registration_number", _registration_value(reg)) in ctx.unkeyed:
        reg = None
    return imo, reg


def entry_node(entry: SdnEntry, ctx: Context) -> tuple[str, str] | None:
    """The (label, key) an entry's node gets; None for entries this loader does not model."""
    label = entry.label
    if label is None:
        return None
    remarks = ctx.remarks_of(entry)
    if label == "Vessel":
        flag = _country(entry.vessel_flag)
        return label, vessel_key(
            remarks.imo.valid, _vessel_mmsi(remarks), entry.name, flag.code if flag else None, entry.call_sign
        )
    if label == "Person":
        nationality = _first_country(remarks.nationalities or remarks.citizenships)
        return label, person_key(entry.name, remarks.birth_date, nationality.code if nationality else None)
    imo, reg = company_identity(remarks, ctx)
    number = reg.number if reg is not None and reg.country else None
    jurisdiction = reg.country if number else _jurisdiction(entry, remarks, ctx)
    return label, company_key(entry.name, jurisdiction, number, imo_company_number=imo)


def _first_country(values: Iterable[str]) -> Country | None:
    for raw in values:
        country = _country(raw)
        if country is not None:
            return country
    return None


def _jurisdiction(entry: SdnEntry, remarks: Remarks, ctx: Context) -> str | None:
    """The registration country when stated ("Nationality of Registration", else the country of the
    register the registration number names), else the one country all the entry's addresses share."""
    registered = _country(remarks.registration_country)
    if registered is not None:
        return registered.code
    reg = remarks.registration
    if reg is not None and reg.country:
        return reg.country
    codes = {c.code for a in ctx.addresses.get(entry.ent_num, []) if (c := _country(a.country))}
    return codes.pop() if len(codes) == 1 else None


def entry_records(entry: SdnEntry, ctx: Context) -> list[Record]:
    """Every node and edge record for one SDN entry (with its aliases and addresses)."""
    node = ctx.nodes.get(entry.ent_num) or entry_node(entry, ctx)
    if node is None:
        return []
    label, key = node
    prov = ctx.prov(entry.ent_num)
    remarks = ctx.remarks_of(entry)
    aliases = ctx.aliases.get(entry.ent_num, [])
    if label == "Vessel":
        out = _vessel_records(entry, key, remarks, aliases, ctx)
    elif label == "Person":
        out = _person_records(entry, key, remarks, aliases, ctx)
    else:
        out = _company_records(entry, key, remarks, aliases, ctx)
    # The remarks text is stated by sdn.csv and, when it continues there, by sdn_comments.csv.
    remark_provs = [prov] + ([ctx.record("comments", entry.ent_num)] if entry.continuation else [])
    for program in entry.programs:
        skey = f"ofac-sdn:{entry.ent_num}:{program}"
        sprops = {
            "authority": "OFAC",
            "program": program,
            "list_name": "SDN",
            "list_reference": entry.ent_num,
            "remarks": entry.remarks,
        }
        out += [NodeRecord("Sanction", skey, sprops, p) for p in remark_provs]
        out.append(_edge("SANCTIONED_AS", node, ("Sanction", skey), prov, props={"listed_name": entry.name}))
    for target in remarks.linked_to:
        other = ctx.resolve(target, exclude=entry.ent_num)
        if other is not None:
            # Keyed by authority: another list stating the same link is a second statement, not this one.
            link = {"relation": LINKED, "stated_by": "OFAC"}
            for p in ctx.origin(entry, lambda r: r.linked_to, target):
                out.append(_edge("LINKED_TO", node, other, p, props=link, key="OFAC"))
    return out


def _alias_records(label: str, key: str, entry: SdnEntry, aliases: list[SdnAlias], ctx: Context) -> list:
    """``aliases`` from alt.csv (citing its rows) and from the remarks' a.k.a./f.k.a./n.k.a. names."""
    out: list[Record] = []
    names = [a.name for a in aliases if a.name]
    if names and "alt" in ctx.kinds:
        prov = ctx.record("alt", aliases[0].ent_num)
        out.append(NodeRecord(label, key, {"aliases": list(dict.fromkeys(names))}, prov))
    by_prov: dict[Provenance, list[str]] = defaultdict(list)
    for named in ctx.remarks_of(entry).names:
        for p in ctx.origin(entry, lambda r: r.names, named):
            by_prov[p].append(named.name)
    for p, found in by_prov.items():
        out.append(NodeRecord(label, key, {"aliases": list(dict.fromkeys(found))}, p))
    return out


def _vessel_records(
    entry: SdnEntry, key: str, remarks: Remarks, aliases: list[SdnAlias], ctx: Context
) -> list[Record]:
    prov, as_of, node = ctx.prov(entry.ent_num), ctx.as_of, ("Vessel", key)
    flag = _country(entry.vessel_flag)
    mmsi = _vessel_mmsi(remarks)
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
    out: list[Record] = [NodeRecord("Vessel", key, props, p) for p in ctx.node_provs(entry)]
    if name_key(entry.name):
        vn = ("VesselName", name_key(entry.name))
        out += [NodeRecord(*vn, {"name": vn[1]}, prov), _edge("NAMED", node, vn, prov, as_of)]
    for alias in aliases:
        if alias.name and name_key(alias.name):
            status = "former" if alias.alt_type in ("fka", "f.k.a.") else "alias"
            aprov = ctx.record("alt", alias.alt_num)
            vn = ("VesselName", name_key(alias.name))
            out.append(NodeRecord(*vn, {"name": vn[1]}, aprov))
            out.append(_edge("NAMED", node, vn, aprov, props={"status": status}, key=status))
    # Names in the remarks: f.k.a. is a former name (the list gives no dates), a.k.a./n.k.a. an alias.
    for named in remarks.names:
        if not name_key(named.name):
            continue
        status = "former" if named.kind == "fka" else "alias"
        vn = ("VesselName", name_key(named.name))
        for p in ctx.origin(entry, lambda r: r.names, named):
            out.append(NodeRecord(*vn, {"name": vn[1]}, p))
            out.append(_edge("NAMED", node, vn, p, props={"status": status}, key=status))
    if flag is not None:
        out.append(flag.record())
        out.append(_edge("FLAGGED", node, ("Country", flag.code), prov, as_of))
    former = [c for raw in remarks.former_flags if (c := _country(raw))]
    for status, raws in (("former", remarks.former_flags), ("other", remarks.other_flags)):
        for raw in raws:
            country = _country(raw)
            if country is None:
                continue
            out.append(country.record())
            part = (lambda r: r.former_flags) if status == "former" else (lambda r: r.other_flags)
            for p in ctx.origin(entry, part, raw):
                out.append(
                    _edge("FLAGGED", node, ("Country", country.code), p, props={"status": status}, key=status)
                )
    if mmsi is not None:
        out.append(mmsi_record(mmsi, prov))
        for p in ctx.origin(entry, lambda r: [r.mmsi], mmsi):
            out.append(_edge("HAS_MMSI", node, ("Mmsi", mmsi), p, as_of))
    if entry.call_sign:
        cs = call_sign_record(entry.call_sign, prov)
        out += [cs, _edge("HAS_CALL_SIGN", node, ("CallSign", cs.key), prov, as_of)]
    for other in remarks.other_call_signs:
        cs = call_sign_record(other, prov)
        out.append(cs)
        for p in ctx.origin(entry, lambda r: r.other_call_signs, other):
            out.append(
                _edge("HAS_CALL_SIGN", node, ("CallSign", cs.key), p, props={"status": "other"}, key="other")
            )
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
    out = _alias_records(label, key, entry, aliases, ctx)
    for address in ctx.addresses.get(entry.ent_num, []):
        full = address.full
        if full is None or "add" not in ctx.kinds:
            continue
        aprov = ctx.record("add", address.add_num)
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
    out: list[Record] = [NodeRecord("Person", key, props, p) for p in ctx.node_provs(entry)]
    for country in {c.code: c for c in countries}.values():
        out.append(country.record())
        out.append(_edge("NATIONAL_OF", ("Person", key), ("Country", country.code), prov))
    return out + _party_common("Person", key, entry, aliases, ctx)


def _company_records(
    entry: SdnEntry, key: str, remarks: Remarks, aliases: list[SdnAlias], ctx: Context
) -> list[Record]:
    prov = ctx.prov(entry.ent_num)
    imo = remarks.company_imo
    reg = remarks.registration
    props = {
        "name": entry.name,
        "jurisdiction": _jurisdiction(entry, remarks, ctx),
        "imo_company_number": imo.valid or (imo.claimed[0] if imo.claimed else None),
        "registration_number": reg.number if reg else None,
    }
    out: list[Record] = [NodeRecord("Company", key, props, p) for p in ctx.node_provs(entry)]
    registered = _country(remarks.registration_country)
    if registered is not None:
        out.append(registered.record())
        out.append(_edge("INCORPORATED_IN", ("Company", key), ("Country", registered.code), prov))
    out += identity_anomalies(
        "Company", key, provenance=prov, imo_company_numbers=imo.claimed, observed=ctx.as_of
    )
    return out + _party_common("Company", key, entry, aliases, ctx)


# ---- the loader ----------------------------------------------------------------------------------------


def _reject(file: CsvFile, line: int, reason: str, row: Sequence[str]) -> Reject:
    return Reject(str(file.path), line, reason, ",".join(row)[:500])


def _continuations(files: list[CsvFile], out: LoadOutput, ent_nums: set[str]) -> dict[str, str]:
    """sdn_comments.csv: ent_num → the rest of its remarks (several rows joined in file order)."""
    found: dict[str, str] = {}
    for file in files:
        for line, row in file.rows:
            out.rows_read += 1
            if len(row) != len(COMMENT_COLUMNS):
                out.rejects.append(_reject(file, line, f"expected 2 columns, found {len(row)}", row))
                continue
            ent_num = row[0].strip()
            if not INTEGER.match(ent_num):
                out.rejects.append(_reject(file, line, f"ent_num {row[0]!r} is not a number", row))
                continue
            if ent_num not in ent_nums:
                out.rejects.append(_reject(file, line, f"ent_num {ent_num} is not in sdn.csv", row))
                continue
            found[ent_num] = found.get(ent_num, "") + row[1]
    return found


def load(paths: Sequence[Path], options: LoadOptions) -> LoadOutput:
    """Load an OFAC SDN legacy CSV set (sdn.csv, optionally with add.csv, alt.csv, sdn_comments.csv)."""
    files = [read_csv(p) for p in input_files(paths)]
    kinds = Counter(f.kind for f in files)
    if kinds["sdn"] == 0:
        names = ", ".join(str(f.path) for f in files) or "none"
        raise LoadError(f"no sdn.csv among the inputs ({names}); the other files' rows refer to it")
    if max(kinds.values()) > 1:
        twice = ", ".join(sorted(RECORD_FILES[k] for k, n in kinds.items() if n > 1))
        raise LoadError(f"more than one {twice} file given; load one sdn/add/alt/comments set at a time")
    by_kind = {f.kind: f for f in files}
    sdn_file = by_kind["sdn"]
    out = LoadOutput()
    sdn_ents = {row[0].strip() for _, row in sdn_file.rows if row}
    continued = _continuations([f for f in files if f.kind == "comments"], out, sdn_ents)
    entries: dict[str, SdnEntry] = {}
    for line, row in sdn_file.rows:
        out.rows_read += 1
        try:
            entry = SdnEntry.from_row(row, continued.get(row[0].strip()))
        except ValueError as exc:
            out.rejects.append(_reject(sdn_file, line, str(exc), row))
            continue
        if entry.ent_num in entries:
            out.rejects.append(_reject(sdn_file, line, f"duplicate ent_num {entry.ent_num}", row))
            continue
        entries[entry.ent_num] = entry
        if options.progress:
            options.progress(1)
    if options.progress and continued:
        options.progress(sum(len(f.rows) for f in files if f.kind == "comments"))
    aliases: dict[str, list[SdnAlias]] = defaultdict(list)
    addresses: dict[str, list[SdnAddress]] = defaultdict(list)
    for file in files:
        if file.kind not in ("add", "alt"):
            continue
        parse = SdnAddress.from_row if file.kind == "add" else SdnAlias.from_row
        for line, row in file.rows:
            out.rows_read += 1
            try:
                item = parse(row)
            except ValueError as exc:
                out.rejects.append(_reject(file, line, str(exc), row))
                continue
            if item.ent_num not in entries:
                out.rejects.append(_reject(file, line, f"ent_num {item.ent_num} is not in sdn.csv", row))
                continue
            if isinstance(item, SdnAddress):
                addresses[item.ent_num].append(item)
            else:
                aliases[item.ent_num].append(item)
            if options.progress:
                options.progress(1)
    whens: dict[str, str] = {}
    for file in files:
        when, how = retrieval(file.path, options)
        whens[file.kind] = when
        out.retrieved[file.path.name] = f"{when} ({how})"
    out.records = build_records(
        entries.values(),
        aliases,
        addresses,
        when=whens["sdn"],
        as_of=options.as_of,
        kinds=frozenset(by_kind),
        whens=whens,
        source=options.source or SOURCE,
    )
    return out


def build_records(
    entries: Iterable[SdnEntry],
    aliases: dict[str, list[SdnAlias]],
    addresses: dict[str, list[SdnAddress]],
    *,
    when: str,
    as_of: str | None = None,
    kinds: Collection[str] = ("sdn", "add", "alt"),
    whens: dict[str, str] | None = None,
    source: str = SOURCE,
) -> list[Record]:
    """All records for a set of entries with their aliases and addresses (no file access).

    ``kinds`` are the files the set had ("sdn", "add", "alt", "comments"); ``whens`` their retrieval
    times by kind (``when`` for any not given).
    """
    ctx = Context(
        when,
        as_of,
        frozenset(kinds),
        dict(aliases),
        dict(addresses),
        whens=dict(whens or {}),
        source=source,
    )
    entries = [e for e in entries if e.label is not None]
    found = shared(c for entry in entries for c in claims(entry, ctx.remarks_of(entry)))
    ctx.unkeyed = {(s.kind, s.value) for s in found if not s.keyed}
    for entry in entries:
        node = entry_node(entry, ctx)
        if node is None:  # pragma: no cover - entries without a label were left out above
            continue
        ctx.nodes[entry.ent_num] = node
        ctx.by_name.setdefault(normalize_name(entry.name), []).append(entry.ent_num)
        for alias in aliases.get(entry.ent_num, []):
            if alias.name:
                ctx.by_alias.setdefault(normalize_name(alias.name), []).append(entry.ent_num)
    records: list[Record] = []
    for entry in entries:
        records += entry_records(entry, ctx)
    provs = {e.ent_num: ctx.prov(e.ent_num) for e in entries}
    for item in found:
        records += anomaly_records(item, ctx.nodes, provs, as_of)
    return records
