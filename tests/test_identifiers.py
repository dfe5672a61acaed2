"""IMO extraction (rigour #249 lessons), MMSI and MID checks, and identity anomaly records."""

from __future__ import annotations

import csv
import json

import pytest

from graph.keys import is_valid_imo, is_valid_imo_company
from graph.memory_store import MemoryStore
from graph.records import EdgeRecord, NodeRecord, Provenance
from loaders.countries import lookup_country
from loaders.identifiers import (
    MID_TABLE,
    call_sign_key,
    check_digit,
    clean_mmsi,
    extract_imo,
    identity_anomalies,
    imo_candidates,
    mid_country,
    mid_table,
    mmsi_mid,
    mmsi_record,
)

P = Provenance("test", "fixture#1", "2024-01-01T00:00:00Z")
SHIP = "9289518"  # valid ship check digit
COMPANY = "5145892"  # valid company check digit, invalid as a ship number


def test_fixture_numbers_belong_to_one_scheme_each() -> None:
    assert is_valid_imo(SHIP) and not is_valid_imo_company(SHIP)
    assert is_valid_imo_company(COMPANY) and not is_valid_imo(COMPANY)


def test_small_numbers_before_the_imo_are_not_taken() -> None:
    """rigour #249: "Flag 12, IMO 9289518" once became IMO0000012."""
    assert extract_imo(f"Flag 12, IMO {SHIP}").valid == SHIP
    assert extract_imo("Tonnage 1,600; built 1985").valid is None


def test_all_zero_and_long_runs_are_never_imo_numbers() -> None:
    assert imo_candidates("IMO 0000000") == []
    assert extract_imo("MMSI 273456789").valid is None
    assert imo_candidates("273456789 and 12345678") == []
    assert extract_imo(f"MMSI 273456789; IMO {SHIP}").valid == SHIP


def test_prefixed_numbers_are_preferred_and_short_ones_padded() -> None:
    text = f"Reg 7654321; IMO {SHIP}"
    assert extract_imo(text).valid == SHIP
    assert [c.prefixed for c in imo_candidates(text)] == [False, True]
    assert extract_imo("IMO 123456").claimed == ("123456",)
    assert imo_candidates("IMO 123456")[0].number == "0123456"
    assert extract_imo("Registration 12345").claimed == ()  # short and unprefixed: not a candidate


def test_unprefixed_seven_digits_count_unless_a_prefix_is_required() -> None:
    assert extract_imo(f"Vessel Registration Identification {SHIP}").valid == SHIP
    assert extract_imo(f"Registration {SHIP}", require_prefix=True).valid is None


def test_prefix_spellings() -> None:
    for text in (
        f"IMO{SHIP}",
        f"IMO number: {SHIP}.",
        f"IMO No. {SHIP}",
        f"International Maritime Organization (IMO) Number: {SHIP}",
        f"Company Number IMO {SHIP}",
    ):
        assert extract_imo(text, require_prefix=True).valid == SHIP, text


def test_ship_and_company_schemes_stay_apart() -> None:
    as_ship = extract_imo(f"IMO number: {COMPANY}")
    assert as_ship.valid is None and as_ship.claimed == (COMPANY,)
    as_company = extract_imo(f"IMO number: {COMPANY}", company=True)
    assert as_company.valid == COMPANY and as_company.claimed == ()
    assert extract_imo(f"IMO {SHIP}", company=True).valid is None


def test_check_digit_matches_the_predicates() -> None:
    assert check_digit(SHIP) == int(SHIP[6])
    assert check_digit(COMPANY, company=True) == int(COMPANY[6])
    assert check_digit("1234560") == (7 * 1 + 6 * 2 + 5 * 3 + 4 * 4 + 3 * 5 + 2 * 6) % 10


def test_mmsi_cleaning_and_mid() -> None:
    assert clean_mmsi(" 273 456 789 ") == "273456789"
    assert clean_mmsi("273456789.0") == "273456789"
    assert clean_mmsi("27345X789") is None
    assert mmsi_mid("445123456") == "445"
    assert mmsi_mid("002731234") is None  # a coast station, not a ship
    assert mmsi_mid("97012345") is None  # eight digits
    assert mid_country("445") == "KP" and mid_country("273") == "RU" and mid_country("999") is None


def test_mid_table_is_well_formed() -> None:
    with MID_TABLE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    mids = [r["mid"] for r in rows]
    assert len(mids) == len(set(mids)) == len(mid_table())
    for row in rows:
        assert len(row["mid"]) == 3 and row["mid"][0] in "234567", row
        country = lookup_country(row["iso3"])
        assert country is not None and country.code == row["iso2"], row


def test_mmsi_and_call_sign_nodes() -> None:
    record = mmsi_record("273456789", P)
    assert (record.label, record.key) == ("Mmsi", "273456789")
    assert record.props == {"mmsi": "273456789", "mid": "273", "mid_country": "RU"}
    assert call_sign_key("5im 592") == "5IM592"


def _by_kind(records: list) -> dict[str, NodeRecord]:
    return {r.props["kind"]: r for r in records if isinstance(r, NodeRecord)}


def test_identity_anomalies_each_kind() -> None:
    records = identity_anomalies(
        "Vessel",
        "vsl:x",
        provenance=P,
        claimed_imos=["9289519", "15411"],
        mmsi="256842000",
        flag="PA",
        former_flags=["MT"],
        observed="2024-01-01",
    )
    kinds = [r.props["kind"] for r in records if isinstance(r, NodeRecord)]
    assert kinds == ["invalid_imo", "invalid_imo", "mid_flag_mismatch"]
    mismatch = _by_kind(records)["mid_flag_mismatch"]
    assert mismatch.props["detector"] == "identifiers.mid_flag"
    assert json.loads(mismatch.props["parameters"])["mid_country"] == "MT"
    assert "former flag" in mismatch.props["detail"]
    assert mismatch.props["observed"] == "2024-01-01"
    edges = [r for r in records if isinstance(r, EdgeRecord)]
    assert {(e.type, e.src_label, e.src) for e in edges} == {("HAS_ANOMALY", "Vessel", "vsl:x")}
    assert all(r.provenance == P for r in records)

    short = identity_anomalies("Vessel", "vsl:x", provenance=P, mmsi="12345678", flag="PA")
    assert _by_kind(short)["invalid_mmsi"].props["detector"] == "identifiers.mmsi_format"
    company = identity_anomalies("Company", "co:x", provenance=P, imo_company_numbers=[SHIP, COMPANY])
    assert [json.loads(r.props["parameters"])["value"] for r in company if isinstance(r, NodeRecord)] == [
        SHIP
    ]
    assert _by_kind(company)["invalid_imo_company"].props["detector"] == "identifiers.imo_company_check_digit"


def test_no_anomaly_for_good_identifiers_or_unknown_mid() -> None:
    assert (
        identity_anomalies("Vessel", "v", provenance=P, claimed_imos=[SHIP], mmsi="445123456", flag="KP")
        == []
    )
    assert identity_anomalies("Vessel", "v", provenance=P, mmsi="999123456", flag="KP") == []
    assert identity_anomalies("Vessel", "v", provenance=P, mmsi="445123456") == []


def test_anomaly_keys_are_deterministic() -> None:
    first = identity_anomalies("Vessel", "v", provenance=P, mmsi="256842000", flag="PA")
    again = identity_anomalies("Vessel", "v", provenance=P, mmsi="256842000", flag="PA")
    assert [r.key for r in first if isinstance(r, NodeRecord)] == [
        r.key for r in again if isinstance(r, NodeRecord)
    ]


@pytest.mark.parametrize("as_node", ["Vessel", "Company"])
def test_anomaly_records_fit_the_schema(as_node: str) -> None:
    store = MemoryStore(None)
    subject = NodeRecord(as_node, "x", {"name": "AURORA TIDE"}, P)
    records = identity_anomalies(
        as_node, "x", provenance=P, claimed_imos=["1234560"], imo_company_numbers=["1234560"], mmsi="1"
    )
    store.write([subject, *records])
    assert store.counts().nodes["Anomaly"] == 3
    assert store.counts().relationships == {"HAS_ANOMALY": 3}
