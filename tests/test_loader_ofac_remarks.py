"""OFAC SDN remarks: every identifier and name they carry, sdn_comments.csv continuations, and
identifiers that two entries share (issue 12). Counts on the real 2019 and July 2021 sets are checked
against readings of the files made here with csv and re, independently of loaders/ofac_remarks.py."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
from test_loader_ofac import edges, nodes

from graph.keys import is_valid_imo_company, normalize_name
from graph.records import NodeRecord, Record
from graph.store import Store
from loaders.base import LoadOptions, LoadOutput
from loaders.countries import lookup_country
from loaders.identifiers import check_digit
from loaders.ofac import load, parse_remarks

WHEN = "2021-07-07T00:00:00Z"
SETS = ("ofac-sdn-2019", "ofac-sdn-set-2021-07")
ROOT = Path(__file__).resolve().parents[1]

# ---- independent readings of the real files -------------------------------------------------------------

IMO_PART = re.compile(
    r"^(?:alt\. )?(?:Company Number|Identification Number|Vessel Registration Identification) IMO (\d+)$"
)
BARE_COMPANY_NUMBER = re.compile(r"^(?:alt\. )?Company Number (\d{7})(?: \([^()]*\))*$")
REGISTRATION = re.compile(
    r"^(?:alt\. )?(Registration Number|Registration ID|Company Number|UK Company Number|"
    r"Business Registration Number|Business Registration Document #|Public Registration Number|"
    r"Commercial Registry Number|Central Registration System Number) (?P<rest>.+)$"
)
NAME_PART = re.compile(r"^(?:alt\. )?(?P<kind>[afn])\.k\.a\. '(?P<name>.+)'$")


@cache
def rows(folder: Path, name: str) -> list[list[str]]:
    path = folder / name
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [r for r in csv.reader(handle) if len(r) > 1]


@cache
def joined_remarks(folder: Path) -> dict[str, str]:
    """ent_num → remarks, with sdn_comments.csv's continuation appended exactly."""
    extra: dict[str, str] = defaultdict(str)
    for ent, text in rows(folder, "sdn_comments.csv"):
        extra[ent] += text
    out = {}
    for row in rows(folder, "sdn.csv"):
        own = "" if row[11].strip() == "-0-" else row[11]
        out[row[0]] = " ".join((own + extra.get(row[0], "")).split())
    return out


def parts(text: str) -> list[str]:
    return [p.strip().removesuffix(".").strip() for p in text.split(";")]


def entity_rows(folder: Path) -> list[list[str]]:
    return [r for r in rows(folder, "sdn.csv") if r[2].strip() == "-0-"]


def company_numbers(folder: Path) -> dict[str, list[str]]:
    """ent_num → the IMO company numbers its remarks give, valid or not, in order."""
    remarks = joined_remarks(folder)
    out: dict[str, list[str]] = {}
    for row in entity_rows(folder):
        found = []
        for part in parts(remarks[row[0]]):
            m = IMO_PART.match(part) or BARE_COMPANY_NUMBER.match(part)
            if m and (m.re is IMO_PART or is_valid_imo_company(m[1])):
                found.append(m[1])
        if found:
            out[row[0]] = found
    return out


def registrations(folder: Path) -> dict[str, list[tuple[str, str | None]]]:
    """ent_num → (number, register country code) of each registration part, in order."""
    remarks = joined_remarks(folder)
    out: dict[str, list[tuple[str, str | None]]] = {}
    for row in entity_rows(folder):
        found = []
        for part in parts(remarks[row[0]]):
            m = REGISTRATION.match(part)
            if (
                not m
                or IMO_PART.match(part)
                or ((b := BARE_COMPANY_NUMBER.match(part)) and is_valid_imo_company(b[1]))
            ):
                continue
            groups = re.findall(r"\(([^()]*)\)", re.search(r"(\s*\([^()]*\))*$", m["rest"])[0])
            number = m["rest"][: len(m["rest"]) - len(re.search(r"(\s*\([^()]*\))*$", m["rest"])[0])]
            country = next((c.code for g in reversed(groups) if (c := lookup_country(g))), None)
            found.append((number.strip(), country))
        if found:
            out[row[0]] = found
    return out


def names_by_entry(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """ent_num → (kind letter, name) of each a.k.a./f.k.a./n.k.a. part."""
    remarks = joined_remarks(folder)
    out: dict[str, list[tuple[str, str]]] = {}
    for ent, text in remarks.items():
        found = [(m["kind"], m["name"]) for p in parts(text) if (m := NAME_PART.match(p))]
        if found:
            out[ent] = found
    return out


@cache
def _load(folder: Path) -> LoadOutput:
    return load([folder], LoadOptions(retrieved_at=WHEN))


def by_record(records: list[Record], label: str) -> dict[str, list[NodeRecord]]:
    """Node records of ``label`` by the ent_num of the sdn.csv/sdn_comments.csv row they cite."""
    out: dict[str, list[NodeRecord]] = defaultdict(list)
    for r in nodes(records, label):
        name, _, ident = r.provenance.record.partition("#")
        if name in ("sdn.csv", "sdn_comments.csv"):
            out[ident].append(r)
    return out


def main_props(records: list[Record], label: str) -> dict[str, dict]:
    """ent_num → the properties of its node as its sdn.csv row states them."""
    out: dict[str, dict] = {}
    for ent, recs in by_record(records, label).items():
        for r in recs:
            if r.provenance.record.startswith("sdn.csv#") and "name" in r.props:
                out[ent] = {**dict(r.props), "key": r.key}
    return out


@pytest.fixture(params=SETS)
def real(request: pytest.FixtureRequest, realdata: Path) -> tuple[Path, LoadOutput]:
    folder = realdata / request.param
    return folder, _load(folder)


def shared_between_names(claims: dict[str, list[str]], folder: Path) -> dict[str, set[str]]:
    """value → ent_nums, for values that entries of different names give."""
    names = {r[0]: normalize_name(r[1]) for r in rows(folder, "sdn.csv")}
    by_value: dict[str, set[str]] = defaultdict(set)
    for ent, values in claims.items():
        for v in set(values):
            by_value[v].add(ent)
    return {v: ents for v, ents in by_value.items() if len({names[e] for e in ents}) > 1}


# ---- 1. every identifier the remarks carry ---------------------------------------------------------


def test_imo_company_numbers_with_and_without_the_word_imo(real: tuple[Path, LoadOutput]) -> None:
    folder, out = real
    expected = company_numbers(folder)
    props = main_props(out.records, "Company")
    got = {ent: p["imo_company_number"] for ent, p in props.items() if p.get("imo_company_number")}
    first = {ent: next((n for n in ns if is_valid_imo_company(n)), ns[0]) for ent, ns in expected.items()}
    assert got == first
    # "Company Number 5146578." (no IMO) is read, "Company Number 1793372 (Virgin Islands, British)"
    # (failing the company check digit) is a national number, not an IMO one.
    assert props["23149"]["key"] == "imoco:5146578"
    assert not props["20258"].get("imo_company_number")
    assert props["20258"]["registration_number"] == "1793372"
    # Keys: the first valid number no differently named entry shares.
    contested = shared_between_names(
        {e: [n for n in ns if is_valid_imo_company(n)] for e, ns in expected.items()}, folder
    )
    keyed = {
        ent for ent, ns in expected.items() if any(is_valid_imo_company(n) and n not in contested for n in ns)
    }
    assert {ent for ent, p in props.items() if p["key"].startswith("imoco:")} == keyed
    # SENAT SHIPPING gives two numbers ("alt. Identification Number IMO 5405737"): keyed on the first.
    assert expected["18345"] == ["5179245", "5405737"] and props["18345"]["key"] == "imoco:5179245"


def test_registration_numbers_and_their_registers(real: tuple[Path, LoadOutput]) -> None:
    folder, out = real
    expected = registrations(folder)
    props = main_props(out.records, "Company")
    for ent, regs in expected.items():
        with_country = [r for r in regs if r[1]]
        number, _country = (with_country or regs)[0]
        assert props[ent]["registration_number"] == number, ent
    assert {e for e, p in props.items() if p.get("registration_number")} == set(expected)
    # Keyed reg:<register country>:<number> when there is no usable IMO company number.
    imo_keyed = {e for e, p in props.items() if p["key"].startswith("imoco:")}
    contested = shared_between_names(
        {e: [f"{c}:{n.upper()}" for n, c in regs if c] for e, regs in expected.items()}, folder
    )
    keys = {}
    for ent, regs in expected.items():
        first = next(((n, c) for n, c in regs if c), None)
        if ent not in imo_keyed and first and f"{first[1]}:{first[0].upper()}" not in contested:
            keys[ent] = f"reg:{first[1]}:{first[0].upper()}"
    assert {e: p["key"] for e, p in props.items() if p["key"].startswith("reg:")} == keys
    assert len(keys) > 250
    assert props["24537"]["registration_number"] == "503586"  # RASHED EXCHANGE, Registration ID (Iran)


def test_remark_names_become_aliases_and_former_vessel_names(real: tuple[Path, LoadOutput]) -> None:
    folder, out = real
    expected = names_by_entry(folder)
    types = {r[0]: r[2].strip() for r in rows(folder, "sdn.csv")}
    aliases: dict[str, set[str]] = defaultdict(set)
    for label in ("Person", "Company"):
        for ent, recs in by_record(out.records, label).items():
            for r in recs:
                if "name" not in r.props:
                    aliases[ent].update(r.props.get("aliases", ()))
    vessel_names: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for e in edges(out.records, "NAMED"):
        name, _, ent = e.provenance.record.partition("#")
        if name in ("sdn.csv", "sdn_comments.csv") and e.props.get("status"):
            vessel_names[ent].add((e.props["status"], e.dst))
    for ent, found in expected.items():
        if types[ent] == "vessel":
            want = {("former" if k == "f" else "alias", normalize_name(n)) for k, n in found}
            assert vessel_names[ent] == want, ent
        elif types[ent] != "aircraft":
            assert aliases[ent] == {" ".join(n.split()) for _, n in found}, ent
    assert set(aliases) | set(vessel_names) == {e for e in expected if types[e] != "aircraft"}
    assert sum(len(v) for v in expected.values()) > 2000


def test_former_vessel_names_from_remarks_have_no_dates(realdata: Path) -> None:
    """STAR 18 (sdn.csv#28716): "f.k.a. 'SAM 5'; f.k.a. 'THINH CUONG'", even on a list date."""
    folder = realdata / "ofac-sdn-set-2021-07"
    out = load([folder], LoadOptions(retrieved_at=WHEN, as_of="2021-07-07"))
    key = main_props(out.records, "Vessel")["28716"]["key"]
    named = [e for e in edges(out.records, "NAMED") if e.src == key]
    former = {e.dst: e for e in named if e.props.get("status") == "former"}
    assert set(former) == {"SAM 5", "THINH CUONG"}
    assert all(e.observed is None and "valid_from" not in e.props for e in former.values())
    assert [e.dst for e in named if e.observed] == ["STAR 18"]


def test_mmsi_and_former_flags_on_the_real_lists(real: tuple[Path, LoadOutput]) -> None:
    folder, out = real
    remarks = joined_remarks(folder)
    vessels = [r for r in rows(folder, "sdn.csv") if r[2].strip() == "vessel"]
    mmsis = {r[0]: m[1] for r in vessels if (m := re.search(r"(?:^|; )MMSI (\d{9})\b", remarks[r[0]]))}
    got = {e.provenance.record.removeprefix("sdn.csv#"): e.dst for e in edges(out.records, "HAS_MMSI")}
    assert got == mmsis
    former = {
        (r[0], p.removeprefix("alt. ").removeprefix("Former Vessel Flag ").strip())
        for r in vessels
        for p in parts(remarks[r[0]])
        if p.removeprefix("alt. ").startswith("Former Vessel Flag ")
    }
    flagged = {
        (e.provenance.record.removeprefix("sdn.csv#"), e.dst)
        for e in edges(out.records, "FLAGGED")
        if e.props.get("status") == "former"
    }
    assert flagged == {(ent, c.code) for ent, raw in former if (c := lookup_country(raw))}
    # "Former Vessel Flag None Identified" (ARTAVIL, sdn.csv#15036, and 15085) names no country.
    assert {raw for _, raw in former if lookup_country(raw) is None} == {"None Identified"}


# ---- crafted rows ----------------------------------------------------------------------------------


def _imo(prefix: str) -> str:
    return prefix + str(check_digit(prefix))


def _company_imo(prefix: str) -> str:
    return prefix + str(check_digit(prefix, company=True))


def _row(ent: int, name: str, kind: str, remarks: str, flag: str = "-0- ") -> str:
    kind_field = f'"{kind}"' if kind else "-0- "
    return f'{ent},"{name}",{kind_field},"DPRK4",-0- ,-0- ,-0- ,-0- ,-0- ,{flag},-0- ,"{remarks}"'


def _write(folder: Path, sdn: list[str], comments: list[str] = (), alt: list[str] = ()) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sdn.csv").write_text("\r\n".join(sdn) + "\r\n\x1a", encoding="utf-8")
    out = [folder / "sdn.csv"]
    if comments:
        (folder / "sdn_comments.csv").write_text("\r\n".join(comments) + "\r\n", encoding="utf-8")
        out.append(folder / "sdn_comments.csv")
    if alt:
        (folder / "alt.csv").write_text("\n".join(alt), encoding="utf-8")
        out.append(folder / "alt.csv")
    return out


def test_crafted_remarks_every_pattern() -> None:
    ship, company, other = _imo("912345"), _company_imo("591234"), _company_imo("591777")
    vessel = parse_remarks(
        f"Identification Number IMO {ship}; MMSI 445123456; f.k.a. 'OLD GULL'; a.k.a. 'GULL ONE'; "
        "n.k.a. 'GULL TWO'; alt. Former Vessel Flag Tuvalu; Linked To: FICTIVE IMO 1234567 LINES.",
        vessel=True,
    )
    assert vessel.linked_to == ["FICTIVE IMO 1234567 LINES"]
    assert vessel.imo.valid == ship and vessel.mmsi == "445123456" and vessel.former_flags == ["Tuvalu"]
    assert [(n.kind, n.name) for n in vessel.names] == [
        ("fka", "OLD GULL"),
        ("aka", "GULL ONE"),
        ("nka", "GULL TWO"),
    ]
    entity = parse_remarks(
        f"Company Number {company}; alt. Identification Number IMO {other}; "
        "Registration Number 2019-77X (Singapore); Company Number 1234560 (New York) (United States); "
        "Registration ID 88 (Nowhere Land); a.k.a. 'FICTIVE HOLDINGS'."
    )
    assert entity.company_imos == [company, other] and entity.company_imo.valid == company
    regs = [(r.label, r.number, r.country) for r in entity.registrations]
    assert not is_valid_imo_company("1234560")
    assert regs == [
        ("Registration Number", "2019-77X", "SG"),
        ("Company Number", "1234560", "US"),
        ("Registration ID", "88", None),
    ]
    assert entity.registration.number == "2019-77X" and [n.name for n in entity.names] == ["FICTIVE HOLDINGS"]
    # A part that only mentions a word like "Registration Identification" on an entity is no registration.
    assert parse_remarks("Registration IDentity 12").registrations == []


# ---- 2. sdn_comments.csv ---------------------------------------------------------------------------


def test_the_2021_set_with_sdn_comments_loads_whole(realdata: Path) -> None:
    folder = realdata / "ofac-sdn-set-2021-07"
    out = _load(folder)
    lines = sum(len(rows(folder, f)) for f in ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv"))
    assert out.rejects == [] and out.rows_read == lines
    assert set(out.retrieved) == {"sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv"}
    continued = {ent for ent, _ in rows(folder, "sdn_comments.csv")}
    remarks = joined_remarks(folder)
    sanctions = {
        (s.props["list_reference"], s.provenance.record)
        for s in nodes(out.records, "Sanction")
        if s.props["list_reference"] in continued
    }
    for s in nodes(out.records, "Sanction"):
        assert s.props.get("remarks") == (remarks[s.props["list_reference"]] or None)
    assert {rec for _, rec in sanctions} == {
        f"{f}#{e}" for e in continued for f in ("sdn.csv", "sdn_comments.csv")
    }


def test_continued_remarks_join_mid_word_and_cite_what_states_them(realdata: Path) -> None:
    folder = realdata / "ofac-sdn-set-2021-07"
    out = _load(folder)
    companies = main_props(out.records, "Company")
    key = main_props(out.records, "Person")["12300"]["key"]  # CIFUENTES VILLA, Jorge Milton
    links = defaultdict(set)
    for e in edges(out.records, "LINKED_TO"):
        if e.src == key:
            links[e.dst].add(e.provenance.record)
    # "... Linked To: PROMO RAI" + "Z S.A.S.; ..." is PROMO RAIZ S.A.S. (sdn.csv#12396), stated by both rows.
    assert links[companies["12396"]["key"]] == {"sdn.csv#12300", "sdn_comments.csv#12300"}
    assert links[companies["12347"]["key"]] == {"sdn_comments.csv#12300"}  # C.I. DISERCOM S.A.S.
    head = rows(folder, "sdn.csv")
    own = next(r[11] for r in head if r[0] == "12300")
    before_cut = [p.removeprefix("Linked To: ") for p in parts(own)[:-1] if p.startswith("Linked To: ")]
    names = {normalize_name(r[1]): r[0] for r in head}
    for target in before_cut:
        if normalize_name(target) in names and names[normalize_name(target)] in companies:
            assert links[companies[names[normalize_name(target)]]["key"]] == {"sdn.csv#12300"}, target
    # "a.k.a. 'snowsjo" + "hn'": one alias, snowsjohn, citing both rows; never the cut-off half.
    people = by_record(out.records, "Person")
    aliases = {
        (a, r.provenance.record)
        for ent in ("28263",)
        for r in people[ent]
        if "name" not in r.props
        for a in r.props["aliases"]
    }
    assert ("snowsjohn", "sdn.csv#28263") in aliases and ("snowsjohn", "sdn_comments.csv#28263") in aliases
    assert not any(a == "snowsjo" for a, _ in aliases)


def test_crafted_comments_join_in_order_and_bad_rows_are_rejects(tmp_path: Path) -> None:
    sdn = [
        _row(99100001, "FICTIVE MARINE LLC", "", "Linked To: FICTIVE HAR"),
        _row(99100002, "FICTIVE HARBOUR CO", "", "-0- "),
        _row(99100003, "FICTIVE EMPTY CO", "", "-0- "),
    ]
    comments = [
        '99100001,"BOUR CO; a.k.a. \'FICT"',
        '99100001,"IVE SEA\'."',
        '99100003,"Registration Number 77 (Malta)."',
        '99100009,"Linked To: NOBODY."',
        '99100002,"x","y"',
        'A1,"z"',
    ]
    paths = _write(tmp_path / "set", sdn, comments)
    out = load(paths, LoadOptions(retrieved_at=WHEN))
    assert [(Path(r.file).name, r.line, r.reason) for r in out.rejects] == [
        ("sdn_comments.csv", 4, "ent_num 99100009 is not in sdn.csv"),
        ("sdn_comments.csv", 5, "expected 2 columns, found 3"),
        ("sdn_comments.csv", 6, "ent_num 'A1' is not a number"),
    ]
    assert out.rows_read == 9
    props = main_props(out.records, "Company")
    # The link straddles the cut: stated by both rows.
    links = {(e.src, e.dst, e.provenance.record) for e in edges(out.records, "LINKED_TO")}
    ends = (props["99100001"]["key"], props["99100002"]["key"])
    assert links == {(*ends, "sdn.csv#99100001"), (*ends, "sdn_comments.csv#99100001")}
    aliases = {a for r in by_record(out.records, "Company")["99100001"] for a in r.props.get("aliases", ())}
    assert aliases == {"FICTIVE SEA"}
    # Remarks that are null in sdn.csv are the continuation alone.
    assert props["99100003"]["key"] == "reg:MT:77"


def test_a_folder_is_its_csv_files_and_the_cli_loads_the_2021_set(realdata: Path, tmp_path: Path) -> None:
    folder = realdata / "ofac-sdn-set-2021-07"
    files = load(sorted(folder.glob("*.csv")), LoadOptions(retrieved_at=WHEN))
    assert len(files.records) == len(_load(folder).records)
    env = {"SHADOWFLEET_HOME": str(tmp_path / "home"), "SHADOWFLEET_STORE": "memory", "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "shadowfleet", "--format", "json", "load", "ofac", str(folder)]
    done = subprocess.run(
        [*command, "--retrieved-at", WHEN],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["rows_read"] == files.rows_read and summary["rows_rejected"] == 0


# ---- 3. identifiers two entries share ------------------------------------------------------------------


def test_real_entries_sharing_a_company_identifier_stay_apart(real: tuple[Path, LoadOutput]) -> None:
    folder, out = real
    imo = shared_between_names(
        {e: [n for n in ns if is_valid_imo_company(n)] for e, ns in company_numbers(folder).items()}, folder
    )
    regs = shared_between_names(
        {e: [f"{c or '-'}:{n.upper()}" for n, c in rs] for e, rs in registrations(folder).items()}, folder
    )
    assert imo == {
        "1991835": {"19583", "23723"}
    }  # KOREA ZUZAGBONG MARITIME LTD, TONGHUNG SHIPPING & TRADING CO
    assert regs == {"IR:503586": {"24537", "24538"}}  # RASHED EXCHANGE, JOINT PARTNERSHIP OF ... KHEDMATI
    props = main_props(out.records, "Company")
    anomalies = {a.key: a for a in nodes(out.records, "Anomaly") if a.props["kind"] == "shared_identifier"}
    assert len(anomalies) == len(imo) + len(regs)
    for kind, found in (("imo_company_number", imo), ("registration_number", regs)):
        for value, ents in found.items():
            keys = {props[e]["key"] for e in ents}
            assert len(keys) == len(ents) and not any(value.split(":")[-1] in k for k in keys)
            anomaly = anomalies[f"anomaly:shared_identifier:{kind}:{value}"]
            assert set(anomaly.props["evidence"]) == {f"sdn.csv#{e}" for e in ents}
            params = json.loads(anomaly.props["parameters"])
            assert params["keyed_on_identifier"] is False and params["identifier"] == kind
            assert anomaly.props["detector"] == "ofac.shared_identifier"
            sanctioned = {e.src for e in edges(out.records, "SANCTIONED_AS")}
            assert keys <= sanctioned
            flagged = {e.src for e in edges(out.records, "HAS_ANOMALY") if e.dst == anomaly.key}
            assert flagged == keys
    assert props["19583"]["imo_company_number"] == props["23723"]["imo_company_number"] == "1991835"


def test_shared_company_number_in_the_store(store: Store, realdata: Path, tmp_path: Path) -> None:
    folder = realdata / "ofac-sdn-set-2021-07"
    keep = {"19583", "23723"}
    sdn = [",".join(f'"{f}"' for f in r) for r in rows(folder, "sdn.csv") if r[0] in keep]
    out = load(_write(tmp_path / "set", sdn), LoadOptions(retrieved_at=WHEN))
    store.write(out.records)
    first = store.counts()
    store.write(out.records)
    assert store.counts() == first
    anomaly = store.get_node("Anomaly", "anomaly:shared_identifier:imo_company_number:1991835")
    assert anomaly is not None
    assert {json.loads(p)["record"] for p in anomaly.provenance} == {"sdn.csv#19583", "sdn.csv#23723"}
    companies = [n for batch in store.scan_nodes("Company") for n in batch]
    assert sorted(c.props["name"] for c in companies) == [
        "KOREA ZUZAGBONG MARITIME LTD",
        "TONGHUNG SHIPPING & TRADING CO",
    ]
    assert {c.props["imo_company_number"] for c in companies} == {"1991835"}
    assert first.nodes["Sanction"] == 2


def test_crafted_entries_sharing_identifiers(store: Store, tmp_path: Path) -> None:
    ship, reg = _imo("934561"), "Registration Number 4455 (Malta)"
    sdn = [
        _row(99200001, "FICTIVE STAR", "vessel", f"Vessel Registration Identification IMO {ship}"),
        _row(99200002, "FICTIVE STAR II", "vessel", f"Vessel Registration Identification IMO {ship}"),
        _row(99200003, "FICTIVE OWNERS LTD", "", reg),
        _row(99200004, "FICTIVE OWNERS LTD", "", f"alt. {reg}"),
        _row(99200005, "FICTIVE RIVAL LTD", "", f"Company Number IMO {_company_imo('595959')}"),
        _row(99200006, "FICTIVE OTHER LTD", "", f"Company Number {_company_imo('595959')} (Malta)"),
    ]
    out = load(_write(tmp_path / "set", sdn), LoadOptions(retrieved_at=WHEN))
    props = main_props(out.records, "Company") | main_props(out.records, "Vessel")
    # One hull: the IMO ship number is its key; both entries' names and sanctions stay, each cited.
    assert props["99200001"]["key"] == props["99200002"]["key"] == f"imo:{ship}"
    named = {(e.dst, e.provenance.record) for e in edges(out.records, "NAMED")}
    assert named == {("FICTIVE STAR", "sdn.csv#99200001"), ("FICTIVE STAR II", "sdn.csv#99200002")}
    # Same name, same registration: one company keyed on it; different names, same IMO number: two.
    assert props["99200003"]["key"] == props["99200004"]["key"] == "reg:MT:4455"
    assert props["99200005"]["key"] != props["99200006"]["key"]
    assert not props["99200005"]["key"].startswith("imoco:")
    kinds = {
        a.key: json.loads(a.props["parameters"])["keyed_on_identifier"] for a in nodes(out.records, "Anomaly")
    }
    assert kinds == {
        f"anomaly:shared_identifier:imo:{ship}": True,
        "anomaly:shared_identifier:registration_number:MT:4455": True,
        f"anomaly:shared_identifier:imo_company_number:{_company_imo('595959')}": False,
    }
    store.write(out.records)
    vessel = store.get_node("Vessel", f"imo:{ship}")
    assert vessel is not None
    assert {json.loads(p)["record"] for p in vessel.provenance} == {"sdn.csv#99200001", "sdn.csv#99200002"}
    sanctions = store.edges("Vessel", [f"imo:{ship}"], ["SANCTIONED_AS"], "out")
    assert sorted(e.dst for e in sanctions) == ["ofac-sdn:99200001:DPRK4", "ofac-sdn:99200002:DPRK4"]
    flagged = store.edges("Vessel", [f"imo:{ship}"], ["HAS_ANOMALY"], "out")
    assert [e.dst for e in flagged] == [f"anomaly:shared_identifier:imo:{ship}"]
