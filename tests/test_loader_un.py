"""The UN Security Council Consolidated List loader, on the real February 2026 file and crafted inputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from graph.keys import is_valid_imo, is_valid_imo_company, normalize_name
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.store import Store
from loaders import ofac
from loaders.base import LoadError, LoadOptions, LoadOutput, get_loader
from loaders.un import UnEntry, entry_records, load, read_entries, vessel_mentions

WHEN = "2026-02-27T00:00:00Z"
P = Provenance("un-consolidated", "fixture.xml#XXe.001", WHEN)


@cache
def _load(path: Path) -> LoadOutput:
    return load([path], LoadOptions(retrieved_at=WHEN))


@cache
def _load_ofac(folder: Path) -> LoadOutput:
    return ofac.load([folder / f for f in ("sdn.csv", "add.csv", "alt.csv")], LoadOptions(retrieved_at=WHEN))


@pytest.fixture
def un_xml(realdata: Path) -> Path:
    return realdata / "un-consolidated-2026" / "UN_consolidated.xml"


@pytest.fixture
def loaded(un_xml: Path) -> LoadOutput:
    return _load(un_xml)


def nodes(records: list[Record], label: str) -> list[NodeRecord]:
    return [r for r in records if isinstance(r, NodeRecord) and r.label == label]


def edges(records: list[Record], rel: str) -> list[EdgeRecord]:
    return [r for r in records if isinstance(r, EdgeRecord) and r.type == rel]


def references(records: list[NodeRecord]) -> set[str]:
    return {r.provenance.record.split("#", 1)[1] for r in records if r.provenance}


# ---- the real file ---------------------------------------------------------------------------------------


def test_registered_as_un_format() -> None:
    assert get_loader("un").__wrapped__ is load  # type: ignore[attr-defined]


def test_counts_match_the_xml(loaded: LoadOutput, un_xml: Path) -> None:
    root = ET.parse(un_xml).getroot()
    people = root.findall("INDIVIDUALS/INDIVIDUAL")
    entities = root.findall("ENTITIES/ENTITY")

    def refs(elements: list[ET.Element]) -> set[str]:
        return {"".join((e.findtext("REFERENCE_NUMBER") or "").split()) for e in elements}

    assert loaded.rejects == [] and loaded.rows_read == len(people) + len(entities)
    assert references(nodes(loaded.records, "Person")) == refs(people)
    assert references(nodes(loaded.records, "Company")) == refs(entities)
    assert len({c.key for c in nodes(loaded.records, "Company")}) == len(entities)
    sanctions = nodes(loaded.records, "Sanction")
    assert len(sanctions) == len(people) + len(entities)
    dprk = [e for e in people + entities if e.findtext("UN_LIST_TYPE") == "DPRK"]
    assert {s.props["list_reference"] for s in sanctions if s.props["program"] == "DPRK"} == refs(dprk)
    assert all(s.props["authority"] == "UN" for s in sanctions)
    assert {s.props["list_reference"] for s in sanctions} >= {"KPe.052", "KPe.053"}  # trailing spaces gone


def test_listing_dates_and_person_details(loaded: LoadOutput) -> None:
    sanction = [s for s in nodes(loaded.records, "Sanction") if s.props["list_reference"] == "KPi.001"]
    assert sanction[0].props["listing_date"] == "2009-07-16" and sanction[0].props["program"] == "DPRK"
    person = next(p for p in nodes(loaded.records, "Person") if p.provenance.record.endswith("#KPi.001"))
    assert person.props["nationality"] == "KP" and person.props["birth_date"] == "1944-10-13"
    assert person.props["aliases"] == ("Yun Ho-chin",)


def test_dprk_shipping_company_keeps_its_imo_company_number(loaded: LoadOutput) -> None:
    samma = [c for c in nodes(loaded.records, "Company") if c.props["name"] == "KOREA SAMMA SHIPPING CO"]
    assert len(samma) == 1
    props = samma[0].props
    assert props["imo_company_number"] == "5145892" and samma[0].key == "imoco:5145892"
    assert is_valid_imo_company("5145892") and not is_valid_imo("5145892")
    assert props["jurisdiction"] == "KP"
    # The comments name vessels but give no ship IMO numbers: no vessel is invented from them.
    assert nodes(loaded.records, "Vessel") == []
    numbered = [c for c in nodes(loaded.records, "Company") if c.props.get("imo_company_number")]
    assert len(numbered) >= 15 and all(c.key.startswith("imoco:") for c in numbered)


def test_observed_on_the_list_date(loaded: LoadOutput) -> None:
    assert {e.observed for e in edges(loaded.records, "REGISTERED_AT")} == {"2026-02-27"}


def test_real_file_into_each_store_twice(store: Store, un_xml: Path, loaded: LoadOutput) -> None:
    store.write(loaded.records)
    first = store.counts()
    assert first.nodes["Company"] == len({c.key for c in nodes(loaded.records, "Company")})
    stats = store.write(loaded.records)
    assert stats.nodes_created == 0 and stats.edges_created == 0
    assert store.counts() == first


def test_korea_samma_from_both_lists(store: Store, un_xml: Path, realdata: Path) -> None:
    """OFAC's "KOREA SAMMA SHPG CO" and the UN's "KOREA SAMMA SHIPPING CO": the same company."""
    from_ofac = _load_ofac(realdata / "ofac-sdn-2019")
    from_un = _load(un_xml)

    def samma(records: list[Record], name: str) -> NodeRecord:
        return next(c for c in nodes(records, "Company") if c.props.get("name") == name)

    o, u = samma(from_ofac.records, "KOREA SAMMA SHPG CO"), samma(from_un.records, "KOREA SAMMA SHIPPING CO")
    assert o.props["jurisdiction"] == u.props["jurisdiction"] == "KP"
    assert o.props["imo_company_number"] == u.props["imo_company_number"] == "5145892"
    assert normalize_name(u.props["aliases"][0]) == normalize_name(o.props["name"]) == "KOREA SAMMA SHPG CO"
    ofac_aliases = [
        r.props["aliases"]
        for r in nodes(from_ofac.records, "Company")
        if r.key == o.key and "aliases" in r.props
    ]
    assert [normalize_name(a) for a in ofac_aliases[0]] == [normalize_name(u.props["name"])]
    for out in (from_ofac, from_un):
        store.write([r for r in nodes(out.records, "Company") if r.key == "imoco:5145892"])
    merged = store.get_node("Company", "imoco:5145892")
    assert merged is not None and store.counts().nodes == {"Company": 1}
    assert {p.source for p in merged.sources()} == {"ofac-sdn", "un-consolidated"}
    assert merged.props["jurisdiction"] == "KP" and merged.props["imo_company_number"] == "5145892"


# ---- pure functions --------------------------------------------------------------------------------------


def entity(comments: str, **fields: object) -> UnEntry:
    base: dict = {
        "tag": "ENTITY",
        "names": ["NORTHWIND TANKER HOLDINGS"],
        "list_type": "DPRK",
        "reference_number": "XXe.001 ",
        "listed_on": "2024-05-01",
        "comments": comments,
        "addresses": [{"STREET": "1 Example Quay", "CITY": "Nampo", "COUNTRY": "Korea, North"}],
    }
    return UnEntry(**{**base, **fields})


def test_vessel_links_only_with_a_valid_ship_imo() -> None:
    text = (
        "Registered owner of the tanker AURORA TIDE (IMO 9289518). "
        "Ship and commercial manager of SILVER GULL, IMO 9074729. "
        "Also linked to MISTY CAPE (IMO 9074720). IMO number: 5145892."
    )
    mentions = vessel_mentions(text, exclude=["5145892"])
    assert [(m.name, m.imo, m.roles) for m in mentions] == [
        ("AURORA TIDE", "9289518", ("REGISTERED_OWNER_OF",)),
        ("SILVER GULL", "9074729", ("SHIP_MANAGER_OF", "COMMERCIAL_MANAGER_OF")),
    ]
    records = entry_records(entity(text), P, as_of="2024-05-01")
    company = nodes(records, "Company")[0]
    assert company.key == "imoco:5145892" and company.props["jurisdiction"] == "KP"
    rels = {
        (e.type, e.dst, e.observed) for e in records if isinstance(e, EdgeRecord) and e.dst_label == "Vessel"
    }
    assert rels == {
        ("REGISTERED_OWNER_OF", "imo:9289518", "2024-05-01"),
        ("SHIP_MANAGER_OF", "imo:9074729", "2024-05-01"),
        ("COMMERCIAL_MANAGER_OF", "imo:9074729", "2024-05-01"),
    }
    assert {v.props["imo"] for v in nodes(records, "Vessel")} == {"9289518", "9074729"}
    names = {(e.src, e.dst, e.props["status"]) for e in edges(records, "NAMED")}
    assert names == {("imo:9289518", "AURORA TIDE", "alias"), ("imo:9074729", "SILVER GULL", "alias")}


def test_vessel_without_role_gets_a_generic_link() -> None:
    records = entry_records(entity("Chartered the AURORA TIDE (IMO 9289518) in 2023."), P)
    links = edges(records, "LINKED_TO")
    assert [(e.dst, e.props["relation"]) for e in links] == [
        ("imo:9289518", "named with its IMO number in COMMENTS1")
    ]


def test_names_without_numbers_and_company_numbers_make_no_vessel() -> None:
    text = "Registered owner of the DPRK tanker AURORA TIDE. Company Number IMO 5145892."
    records = entry_records(entity(text), P)
    assert nodes(records, "Vessel") == [] and nodes(records, "Company")[0].key == "imoco:5145892"


def test_invalid_company_number_is_kept_with_an_anomaly() -> None:
    records = entry_records(entity("IMO number: 9289518."), P)
    company = nodes(records, "Company")[0]
    assert company.props["imo_company_number"] == "9289518" and company.key.startswith("co:")
    assert [a.props["kind"] for a in nodes(records, "Anomaly")] == ["invalid_imo_company"]
    assert nodes(records, "Vessel") == []


def test_entry_without_reference_or_name_is_refused() -> None:
    with pytest.raises(ValueError, match="REFERENCE_NUMBER"):
        entry_records(entity("", reference_number="  "), P)
    with pytest.raises(ValueError, match="name"):
        entry_records(entity("", names=[]), P)


# ---- crafted files ---------------------------------------------------------------------------------------

GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2025-03-01T00:00:00.000Z">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>1</DATAID>
      <FIRST_NAME>ARDEN</FIRST_NAME>
      <SECOND_NAME>VALE</SECOND_NAME>
      <UN_LIST_TYPE>DPRK</UN_LIST_TYPE>
      <REFERENCE_NUMBER>XXi.001</REFERENCE_NUMBER>
      <LISTED_ON>2020-01-02</LISTED_ON>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY>
      <DATAID>2</DATAID>
      <FIRST_NAME>NORTHWIND TANKER HOLDINGS</FIRST_NAME>
      <UN_LIST_TYPE>DPRK</UN_LIST_TYPE>
      <LISTED_ON>2020-01-02</LISTED_ON>
    </ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>
"""


def test_crafted_file_with_a_bad_entry(tmp_path: Path) -> None:
    path = tmp_path / "un.xml"
    path.write_text(GOOD)
    generated, entries = read_entries(path)
    assert generated == "2025-03-01T00:00:00.000Z" and [e.line for e in entries] == [4, 14]
    seen: list[int] = []
    out = load([path], LoadOptions(progress=seen.append))
    assert [(r.line, r.reason) for r in out.rejects] == [(14, "no REFERENCE_NUMBER")]
    assert [p.props["name"] for p in nodes(out.records, "Person")] == ["ARDEN VALE"]
    assert out.rows_read == sum(seen) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("ent_num,name\n1,x\n", "not well-formed XML"),
        ("<?xml version='1.0'?><sdnList><sdnEntry/></sdnList>", "root element is <sdnList>"),
        (GOOD[: len(GOOD) // 2], "not well-formed XML"),
        ("", "not well-formed XML"),
    ],
)
def test_files_of_another_format_are_load_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "un.xml"
    path.write_text(content)
    with pytest.raises(LoadError, match=message):
        load([path], LoadOptions())


def test_records_cite_the_list_publication_time(un_xml: Path) -> None:
    # Without --retrieved-at: the list's own dateGenerated, not this copy's modification time.
    out = load([un_xml], LoadOptions())
    cited = {r.provenance.retrieved_at for r in out.records if r.provenance and r.provenance.retrieved_at}
    assert cited == {"2026-02-27T00:00:09Z"}
    assert out.retrieved == {
        "UN_consolidated.xml": "2026-02-27T00:00:09Z (the publication time the file states)"
    }


def test_an_explicit_retrieval_time_wins(loaded: LoadOutput) -> None:
    cited = {r.provenance.retrieved_at for r in loaded.records if r.provenance and r.provenance.retrieved_at}
    assert cited == {WHEN}


def test_record_ids_do_not_depend_on_the_copys_file_name(un_xml: Path, tmp_path: Path) -> None:
    """A snapshot saved under a dated name cites the same records (refresh matches entries on them)."""
    import shutil

    dated = tmp_path / "un-2026-02-27.xml"
    shutil.copy(un_xml, dated)
    options = LoadOptions()
    published = {r.provenance.record for r in load([un_xml], options).records if r.provenance}
    renamed = {r.provenance.record for r in load([dated], options).records if r.provenance}
    assert published == renamed
    assert any(record == "consolidated.xml#KPe.062" for record in published)
