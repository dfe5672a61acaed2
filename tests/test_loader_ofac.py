"""The OFAC SDN legacy CSV loader, on the real January 2019 set and on crafted bad inputs."""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from graph.keys import is_valid_imo, is_valid_imo_company
from graph.records import EdgeRecord, NodeRecord, Record
from graph.store import Store
from loaders.base import LoadError, LoadOptions, LoadOutput, get_loader
from loaders.ofac import SdnEntry, load, parse_remarks, programs, value

WHEN = "2019-01-15T00:00:00Z"
FILES = ("sdn.csv", "add.csv", "alt.csv")


@cache
def _load(folder: Path, as_of: str | None = None) -> LoadOutput:
    return load([folder / f for f in FILES], LoadOptions(retrieved_at=WHEN, as_of=as_of))


@pytest.fixture
def sdn_dir(realdata: Path) -> Path:
    return realdata / "ofac-sdn-2019"


@pytest.fixture
def loaded(sdn_dir: Path) -> LoadOutput:
    return _load(sdn_dir)


@pytest.fixture
def sdn_rows(sdn_dir: Path) -> list[list[str]]:
    with (sdn_dir / "sdn.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def nodes(records: list[Record], label: str) -> list[NodeRecord]:
    return [r for r in records if isinstance(r, NodeRecord) and r.label == label]


def edges(records: list[Record], rel: str) -> list[EdgeRecord]:
    return [r for r in records if isinstance(r, EdgeRecord) and r.type == rel]


def ent_nums(records: list[NodeRecord]) -> set[str]:
    """The sdn.csv rows the records come from."""
    return {
        r.provenance.record.removeprefix("sdn.csv#")
        for r in records
        if r.provenance and r.provenance.record.startswith("sdn.csv#")
    }


def node(records: list[Record], label: str, key: str) -> dict:
    merged: dict = {}
    for r in nodes(records, label):
        if r.key == key:
            merged.update(r.props)
    return merged


# ---- the real file ---------------------------------------------------------------------------------------


def test_registered_as_ofac_format() -> None:
    assert get_loader("ofac").__wrapped__ is load  # type: ignore[attr-defined]


def test_every_row_of_the_real_set_loads(loaded: LoadOutput, sdn_dir: Path) -> None:
    lines = sum(len((sdn_dir / f).read_text(encoding="utf-8").splitlines()) for f in FILES)
    assert loaded.rejects == []
    assert loaded.rows_read == lines


def test_counts_match_the_file(loaded: LoadOutput, sdn_rows: list[list[str]]) -> None:
    by_type: dict[str, set[str]] = {}
    for row in sdn_rows:
        by_type.setdefault(row[2].strip(), set()).add(row[0])
    vessels, people = nodes(loaded.records, "Vessel"), nodes(loaded.records, "Person")
    companies = nodes(loaded.records, "Company")
    assert ent_nums(vessels) == by_type["vessel"]
    assert ent_nums(people) == by_type["individual"]
    # Companies also come from a vessel's Vess_owner column, with the vessel's row as provenance.
    assert ent_nums(companies) - by_type["vessel"] == by_type["-0-"]
    assert not ent_nums(vessels + people + companies) & by_type["aircraft"]
    # No two vessel rows share an IMO, so each row is its own hull.
    imos = [m[1] for row in sdn_rows if (m := re.search(r"Identification (?:IMO )?(\d+)", row[11]))]
    assert len(imos) == len(set(imos))
    assert len({v.key for v in vessels}) == len(by_type["vessel"])
    # People only merge when name, birth date and nationality all agree.
    names = Counter(row[1] for row in sdn_rows if row[2] == "individual")
    repeated = sum(n - 1 for n in names.values() if n > 1)
    assert len(by_type["individual"]) - repeated <= len({p.key for p in people}) <= len(by_type["individual"])


def test_vessel_keys_only_use_valid_imo_numbers(loaded: LoadOutput) -> None:
    vessels = nodes(loaded.records, "Vessel")
    for vessel in vessels:
        if vessel.key.startswith("imo:"):
            assert is_valid_imo(vessel.key[4:]) and vessel.props["imo"] == vessel.key[4:]
        assert vessel.props.get("imo") is None or is_valid_imo(vessel.props["imo"])
        for claimed in vessel.props.get("claimed_imos", ()):
            assert not is_valid_imo(claimed)
    assert sum(v.key.startswith("imo:") for v in vessels) >= 0.95 * len(vessels)


def test_dprk_tanker_sam_ma_2(loaded: LoadOutput) -> None:
    """SAM MA 2 (sdn.csv#23735, the tanker the UN names under Korea Samma Shipping): IMO 8106496."""
    assert is_valid_imo("8106496")
    props = node(loaded.records, "Vessel", "imo:8106496")
    assert props["name"] == "SAM MA 2" and props["flag"] == "KP"
    links = {(e.dst_label, e.dst, e.props["relation"]) for e in edges(loaded.records, "LINKED_TO")}
    assert ("Company", "imoco:5145892", "Linked To") in links
    owner = node(loaded.records, "Company", "imoco:5145892")
    assert owner["name"] == "KOREA SAMMA SHPG CO" and owner["imo_company_number"] == "5145892"
    assert owner["jurisdiction"] == "KP" and owner["aliases"] == ("KOREA SAMMA SHIPPING CO",)
    assert is_valid_imo_company("5145892")


def test_former_flags_names_and_mid_mismatch(loaded: LoadOutput) -> None:
    """ARK (sdn.csv#15037): Panama flag, former Malta and Tanzania flags, a Maltese MMSI, three old names."""
    key = "imo:9187655"
    assert node(loaded.records, "Vessel", key)["mmsi"] == "256842000"
    flags = {(e.dst, e.props.get("status")) for e in edges(loaded.records, "FLAGGED") if e.src == key}
    assert flags == {("PA", None), ("MT", "former"), ("TZ", "former")}
    names = {(e.dst, e.props.get("status")) for e in edges(loaded.records, "NAMED") if e.src == key}
    assert names == {("ARK", None), ("ABADEH", "former"), ("CRYSTAL", "former"), ("SUNDIAL", "former")}
    anomalies = [e.dst for e in edges(loaded.records, "HAS_ANOMALY") if e.src == key]
    assert anomalies == ["anomaly:mid_flag_mismatch:Vessel:imo:9187655:256842000/PA"]
    mismatches = [a for a in nodes(loaded.records, "Anomaly") if a.props["kind"] == "mid_flag_mismatch"]
    assert len(mismatches) >= 30  # Iranian tankers keep the MMSIs of earlier flags


def test_unprefixed_and_short_imo_numbers(loaded: LoadOutput) -> None:
    """RYONG GUN BONG's remark omits "IMO"; BONU 5's "IMO 15411" is too short to be a ship number."""
    assert node(loaded.records, "Vessel", "imo:8606173")["name"] == "RYONG GUN BONG"
    bonu = [v for v in nodes(loaded.records, "Vessel") if v.props["name"] == "BONU 5"]
    assert len(bonu) == 1 and not bonu[0].key.startswith("imo:")
    assert bonu[0].props["claimed_imos"] == ("15411",) and "imo" not in bonu[0].props
    kinds = [e.dst.split(":")[1] for e in edges(loaded.records, "HAS_ANOMALY") if e.src == bonu[0].key]
    assert kinds == ["invalid_imo"]


def test_programs_become_sanctions(loaded: LoadOutput, sdn_rows: list[list[str]]) -> None:
    expected = {
        (row[0], p.strip("[] ")) for row in sdn_rows if row[2] != "aircraft" for p in row[3].split("] [")
    }
    sanctions = nodes(loaded.records, "Sanction")
    assert {(s.props["list_reference"], s.props["program"]) for s in sanctions} == expected
    assert {(s.props["authority"], s.props["list_name"]) for s in sanctions} == {("OFAC", "SDN")}
    assert len(edges(loaded.records, "SANCTIONED_AS")) == len(expected)
    programs_of_sam_ma_2 = {s.props["program"] for s in sanctions if s.props["list_reference"] == "23735"}
    assert programs_of_sam_ma_2 == {"DPRK4"}


def test_every_record_has_provenance(loaded: LoadOutput) -> None:
    sources = {r.provenance.source for r in loaded.records if r.provenance}
    # Country nodes' names and codes come from the reference tables, and cite them; all else the list.
    assert sources == {"ofac-sdn", "reference:countries"} and all(r.provenance for r in loaded.records)
    assert all(r.label == "Country" for r in loaded.records if r.provenance.source != "ofac-sdn")
    files = {r.provenance.record.split("#")[0] for r in loaded.records if r.provenance.source == "ofac-sdn"}
    assert files == set(FILES)


def test_real_set_into_each_store_twice(store: Store, loaded: LoadOutput) -> None:
    store.write(loaded.records, atomic=False)
    first = store.counts()
    keys = {(r.label, r.key) for r in loaded.records if isinstance(r, NodeRecord)}
    assert first.nodes == dict(Counter(label for label, _ in keys))
    stats = store.write(loaded.records, atomic=False)
    assert stats.nodes_created == 0 and stats.edges_created == 0
    assert store.counts() == first


# ---- pure functions --------------------------------------------------------------------------------------


def test_values_and_programs() -> None:
    assert value("-0- ") is None and value("-0-") is None and value(' "x" ') == '"x"'
    assert programs("SDGT] [IRGC] [IFSR") == ("SDGT", "IRGC", "IFSR")
    assert programs("[DPRK] [DPRK2]") == ("DPRK", "DPRK2")
    assert programs("CAATSA - RUSSIA") == ("CAATSA - RUSSIA",)


def test_remarks_parsing() -> None:
    remarks = parse_remarks(
        "Former Vessel Flag Malta; alt. Former Vessel Flag Tuvalu; Vessel Registration Identification "
        "IMO 9289518; MMSI 572469210; Vessel Year of Build 1999; Other Vessel Call Sign 5IM713; "
        "Linked To: HARBOUR CREST LTD.",
        vessel=True,
    )
    assert remarks.imo.valid == "9289518" and remarks.mmsi == "572469210" and remarks.build_year == 1999
    assert remarks.former_flags == ["Malta", "Tuvalu"] and remarks.other_call_signs == ["5IM713"]
    assert remarks.linked_to == ["HARBOUR CREST LTD"]
    person = parse_remarks("DOB 03 May 1938; alt. DOB 1940; nationality Korea, North; Gender Male.")
    assert person.birth_date == "1938-05-03" and person.nationalities == ["Korea, North"]
    company = parse_remarks("Secondary sanctions risk; Company Number IMO 5145892.")
    assert company.company_imo.valid == "5145892" and company.imo.valid is None


def test_entry_from_row_rejects_malformed() -> None:
    good = ["1", '"X"', "-0- ", "DPRK", *["-0- "] * 8]
    assert SdnEntry.from_row(good).label == "Company"
    with pytest.raises(ValueError, match="columns"):
        SdnEntry.from_row(good[:5])
    with pytest.raises(ValueError, match="not a number"):
        SdnEntry.from_row(["x1", *good[1:]])


# ---- crafted inputs ------------------------------------------------------------------------------------

FICTIONAL = '99000001,"NAVIERA CÁRDENAS FICTICIA S.A.",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- '


def _lines(path: Path, ent: set[str]) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.split(",")[0] in ent]


def _write_set(folder: Path, sdn_dir: Path, ents: set[str], *, dos: bool, extra: list[str] = ()) -> Path:
    folder.mkdir()
    end = "\r\n" if dos else "\n"
    for name in FILES:
        lines = _lines(sdn_dir / name, ents) + (list(extra) if name == "sdn.csv" else [])
        data = end.join(lines).encode("latin-1" if dos else "utf-8")
        (folder / name).write_bytes(data + (b"\x1a" if dos else b""))
    return folder


def _comparable(out: LoadOutput) -> set:
    return {
        (r.label, r.key, tuple(sorted(r.props.items())))
        if isinstance(r, NodeRecord)
        else (r.type, r.src, r.dst, r.key, tuple(sorted(r.props.items())))
        for r in out.records
    }


SAMPLE = {"23713", "23735", "15037", "17104", "23424"}


def test_crlf_latin1_and_eof_byte_read_like_the_clean_file(tmp_path: Path, sdn_dir: Path) -> None:
    clean = _write_set(tmp_path / "clean", sdn_dir, SAMPLE, dos=False, extra=[FICTIONAL])
    dos = _write_set(tmp_path / "dos", sdn_dir, SAMPLE, dos=True, extra=[FICTIONAL])
    assert (dos / "sdn.csv").read_bytes().endswith(b"\x1a") and b"\r\n" in (dos / "sdn.csv").read_bytes()
    options = LoadOptions(retrieved_at=WHEN)
    a, b = load([clean / f for f in FILES], options), load([dos / f for f in FILES], options)
    assert a.rejects == b.rejects == []
    assert _comparable(a) == _comparable(b)
    names = {r.props.get("name") for r in nodes(b.records, "Company")}
    assert "NAVIERA CÁRDENAS FICTICIA S.A." in names and "KOREA SAMMA SHPG CO" in names


def test_bad_rows_become_rejects(tmp_path: Path, sdn_dir: Path) -> None:
    folder = _write_set(tmp_path / "set", sdn_dir, SAMPLE, dos=False)
    sdn = (folder / "sdn.csv").read_text().splitlines()
    truncated = FICTIONAL.split(",-0- ,")[0]
    sdn[2:2] = [truncated, FICTIONAL.replace("99000001", "A99")]
    (folder / "sdn.csv").write_text("\n".join(sdn))
    with (folder / "alt.csv").open("a") as handle:
        handle.write('\n99000009,1,"aka","NOBODY AT ALL",-0- ')
    out = load([folder / f for f in FILES], LoadOptions(retrieved_at=WHEN))
    reasons = [(Path(r.file).name, r.line, r.reason) for r in out.rejects]
    assert reasons == [
        ("sdn.csv", 3, "expected 12 columns, found 2"),
        ("sdn.csv", 4, "ent_num 'A99' is not a number"),
        ("alt.csv", len(_lines(sdn_dir / "alt.csv", SAMPLE)) + 1, "ent_num 99000009 is not in sdn.csv"),
    ]
    assert ent_nums(nodes(out.records, "Vessel")) == {"15037", "17104", "23424", "23735"}


def test_header_row_is_a_load_error(tmp_path: Path, sdn_dir: Path) -> None:
    path = tmp_path / "sdn.csv"
    header = ",".join(["ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign"] + ["x"] * 6)
    path.write_text("\n".join([header, *_lines(sdn_dir / "sdn.csv", SAMPLE)]))
    with pytest.raises(LoadError, match="no header row"):
        load([path], LoadOptions())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"1,a,b\n2,c,d\n3,e,f\n", "not an OFAC"),
        (b"", "empty"),
        (b"\x1a", "empty"),
    ],
)
def test_files_of_another_format_are_load_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "sdn.csv"
    path.write_bytes(content)
    with pytest.raises(LoadError, match=message):
        load([path], LoadOptions())


def test_add_and_alt_without_sdn_is_a_load_error(tmp_path: Path, sdn_dir: Path) -> None:
    folder = _write_set(tmp_path / "set", sdn_dir, SAMPLE, dos=False)
    with pytest.raises(LoadError, match=r"no sdn\.csv"):
        load([folder / "add.csv", folder / "alt.csv"], LoadOptions())


def test_list_date_observations_fold_the_same_way_twice(store: Store, tmp_path: Path, sdn_dir: Path) -> None:
    folder = _write_set(tmp_path / "set", sdn_dir, SAMPLE, dos=False)
    out = load([folder / f for f in FILES], LoadOptions(retrieved_at=WHEN, as_of="2019-01-15"))
    store.write(out.records)
    first = store.counts()
    store.write(out.records)
    assert store.counts() == first
    flags = {(e.dst, e.key): e.props for e in store.edges("Vessel", ["imo:9187655"], ["FLAGGED"], "out")}
    assert flags[("PA", "2019-01-15")]["first_seen"] == "2019-01-15"
    assert flags[("MT", "former")] == {"status": "former"} and flags[("TZ", "former")] == {"status": "former"}
    owner = store.edges("Company", ["imoco:5145892"], ["REGISTERED_AT"], "out")
    assert [(e.props["first_seen"], e.props["last_seen"]) for e in owner] == [("2019-01-15", "2019-01-15")]


def test_missing_add_and_alt_is_allowed_and_progress_is_reported(tmp_path: Path, sdn_dir: Path) -> None:
    folder = _write_set(tmp_path / "set", sdn_dir, SAMPLE, dos=False)
    seen: list[int] = []
    out = load([folder / "sdn.csv"], LoadOptions(progress=seen.append))
    assert out.rejects == [] and sum(seen) == out.rows_read == len(SAMPLE)
    assert not nodes(out.records, "Address") and "aliases" not in node(
        out.records, "Company", "imoco:5145892"
    )


def test_retrieval_time_is_the_option_else_the_file_time_and_the_output_says_which(
    tmp_path: Path, sdn_dir: Path
) -> None:
    """OFAC's CSVs carry no date: --retrieved-at states it; without it the records cite each file's
    modification time and the load output says so (a list date given with --as-of is not a retrieval)."""
    folder = _write_set(tmp_path / "set", sdn_dir, SAMPLE, dos=False)
    for i, name in enumerate(FILES):
        os.utime(folder / name, (1_600_000_000 + i, 1_600_000_000 + i))
    out = load([folder / f for f in FILES], LoadOptions(as_of="2019-01-15"))
    cited = {
        r.provenance.record.split("#")[0]: r.provenance.retrieved_at
        for r in out.records
        if r.provenance.source == "ofac-sdn"
    }
    assert cited == {
        "sdn.csv": "2020-09-13T12:26:40Z",
        "add.csv": "2020-09-13T12:26:41Z",
        "alt.csv": "2020-09-13T12:26:42Z",
    }
    assert out.retrieved["sdn.csv"] == (
        "2020-09-13T12:26:40Z (the file's modification time: "
        "give --retrieved-at to state when it was obtained)"
    )
    given = load([folder / f for f in FILES], LoadOptions(as_of="2019-01-15", retrieved_at=WHEN))
    assert {r.provenance.retrieved_at for r in given.records if r.provenance.source == "ofac-sdn"} == {WHEN}
    assert set(given.retrieved.values()) == {f"{WHEN} (--retrieved-at)"}
