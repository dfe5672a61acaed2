"""Identifier helpers shared by loaders: IMO numbers in free text, MMSIs and their MIDs, identity anomalies.

IMO extraction follows the lessons of rigour issue #249 / PR #251: only runs of five to seven digits are
candidates (a run of eight or more is an MMSI or a phone number, never an IMO), numbers written after
"IMO" are preferred, an unprefixed run counts only when it has all seven digits, and the all-zero number
is rejected. Ship and company numbers use different check digits; the predicates stay separate
(``graph.keys.is_valid_imo`` and ``graph.keys.is_valid_imo_company``).

An MMSI's first three digits (for ship stations, first digit 2-7) are its MID, which the ITU allocates to
a state; ``loaders/data/mid.csv`` (see SOURCE-mid.md) maps it to an ISO alpha-2 code.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from graph.keys import is_valid_imo, is_valid_imo_company, is_valid_mmsi
from graph.records import EdgeRecord, NodeRecord, Provenance, Record

MID_TABLE = Path(__file__).with_name("data") / "mid.csv"
IMO_SHIP_WEIGHTS = (7, 6, 5, 4, 3, 2)
IMO_COMPANY_WEIGHTS = (8, 6, 4, 2, 9, 7)

_PREFIX = r"(?<![A-Za-z])IMO(?![A-Za-z])[\s:.#)\-]*(?:(?:company\s+)?(?:number|no|num)\b[\s:.#\-]*)?"
_RUN = re.compile(rf"(?P<prefix>{_PREFIX})?(?<!\d)(?P<num>\d{{5,7}})(?!\d)", re.IGNORECASE)
_MMSI_NOISE = re.compile(r"[\s\-]")


@dataclass(frozen=True)
class ImoCandidate:
    """A five-to-seven digit run found in text, zero-padded to seven digits."""

    number: str
    raw: str
    prefixed: bool
    start: int


@dataclass(frozen=True)
class ImoResult:
    """The first candidate that passed the check digit, and the candidates that failed it."""

    valid: str | None
    claimed: tuple[str, ...] = ()


def imo_candidates(text: str | None) -> list[ImoCandidate]:
    """Every 5-7 digit run in ``text`` (never part of a longer run), in order; all-zero runs dropped."""
    if not text:
        return []
    found = []
    for match in _RUN.finditer(text):
        number = match["num"].zfill(7)
        if number == "0000000":
            continue
        found.append(ImoCandidate(number, match["num"], match["prefix"] is not None, match.start("num")))
    return found


def extract_imo(text: str | None, *, company: bool = False, require_prefix: bool = False) -> ImoResult:
    """Find an IMO ship number (or, with ``company``, an IMO company number) in free text.

    Candidates written after "IMO" come first, in order of appearance; then, unless ``require_prefix``,
    unprefixed runs of exactly seven digits. Shorter prefixed runs are zero-padded ("IMO 123456" is
    0123456); shorter unprefixed runs are ignored. The first candidate passing the check digit is
    ``valid``; the considered candidates that fail it are ``claimed``, as written (not padded).
    """
    check: Callable[[str | None], bool] = is_valid_imo_company if company else is_valid_imo
    candidates = imo_candidates(text)
    ordered = [c for c in candidates if c.prefixed]
    if not require_prefix:
        ordered += [c for c in candidates if not c.prefixed and len(c.raw) == 7]
    valid: str | None = None
    claimed: list[str] = []
    for candidate in ordered:
        if check(candidate.number):
            valid = valid or candidate.number
        elif candidate.raw not in claimed:
            claimed.append(candidate.raw)
    return ImoResult(valid, tuple(claimed))


def check_digit(number: str, company: bool = False) -> int:
    """The check digit the first six digits of ``number`` call for under the ship or company scheme."""
    weights = IMO_COMPANY_WEIGHTS if company else IMO_SHIP_WEIGHTS
    total = sum(int(d) * w for d, w in zip(number[:6], weights, strict=True))
    return (11 - total % 11) % 10 if company else total % 10


def clean_mmsi(raw: str | None) -> str | None:
    """The digits of an MMSI as written ("572 469 210" → "572469210"); None when it has other characters.

    The result is not checked for length: see ``graph.keys.is_valid_mmsi``.
    """
    if raw is None:
        return None
    text = _MMSI_NOISE.sub("", str(raw).strip().removesuffix(".0"))
    return text if text.isdigit() else None


def mmsi_mid(mmsi: str | None) -> str | None:
    """The MID of a ship station's MMSI (nine digits, first digit 2-7), else None."""
    if mmsi is None or not is_valid_mmsi(mmsi) or mmsi[0] not in "234567":
        return None
    return mmsi[:3]


@cache
def mid_table() -> dict[str, str]:
    """MID → ISO 3166-1 alpha-2 code, from loaders/data/mid.csv."""
    with MID_TABLE.open(encoding="utf-8", newline="") as handle:
        return {row["mid"]: row["iso2"] for row in csv.DictReader(handle)}


def mid_country(mid: str | None) -> str | None:
    """The ISO alpha-2 code of the state that holds ``mid``, or None when unknown."""
    return mid_table().get(mid) if mid else None


def call_sign_key(call_sign: str) -> str:
    """Key of a CallSign node: upper case without spaces ("5im 592" → "5IM592")."""
    return "".join(call_sign.split()).upper()


def mmsi_record(mmsi: str, provenance: Provenance | None) -> NodeRecord:
    """The Mmsi node for a nine-digit MMSI, with its MID and the MID's country when known."""
    mid = mmsi_mid(mmsi)
    return NodeRecord("Mmsi", mmsi, {"mmsi": mmsi, "mid": mid, "mid_country": mid_country(mid)}, provenance)


def call_sign_record(call_sign: str, provenance: Provenance | None) -> NodeRecord:
    """The CallSign node for ``call_sign``."""
    key = call_sign_key(call_sign)
    return NodeRecord("CallSign", key, {"call_sign": key}, provenance)


def anomaly_key(kind: str, label: str, key: str, value: str) -> str:
    """Deterministic key of an Anomaly: the same finding about the same node always gets the same key."""
    return f"anomaly:{kind}:{label}:{key}:{value}"


def anomaly_records(
    label: str,
    key: str,
    kind: str,
    value: str,
    detail: str,
    detector: str,
    parameters: dict[str, object],
    provenance: Provenance | None,
    observed: str | None = None,
) -> list[Record]:
    """An Anomaly node and the HAS_ANOMALY edge from the node it is about."""
    akey = anomaly_key(kind, label, key, value)
    props = {
        "kind": kind,
        "detail": detail,
        "detector": detector,
        "parameters": json.dumps(parameters, sort_keys=True, separators=(",", ":")),
        "observed": observed,
    }
    return [
        NodeRecord("Anomaly", akey, props, provenance),
        EdgeRecord("HAS_ANOMALY", label, key, "Anomaly", akey, "", {}, provenance),
    ]


def identity_anomalies(
    label: str,
    key: str,
    *,
    provenance: Provenance | None,
    claimed_imos: Iterable[str] = (),
    imo_company_numbers: Iterable[str] = (),
    mmsi: str | None = None,
    flag: str | None = None,
    former_flags: Sequence[str] = (),
    observed: str | None = None,
) -> list[Record]:
    """Anomaly records for identifiers that fail their checks.

    - each claimed IMO ship number failing the ship check digit (``identifiers.imo_check_digit``);
    - each IMO company number failing the company check digit (``identifiers.imo_company_check_digit``);
    - an MMSI that is not nine digits (``identifiers.mmsi_format``);
    - a ship MMSI whose MID belongs to another state than ``flag`` (``identifiers.mid_flag``);
      ``former_flags`` only enrich the detail.
    """
    out: list[Record] = []
    for number in dict.fromkeys(claimed_imos):
        if is_valid_imo(number):
            continue
        out += anomaly_records(
            label,
            key,
            "invalid_imo",
            number,
            f"IMO ship number {number} fails the check digit (expected {check_digit(number)})"
            if len(number) == 7 and number.isdigit()
            else f"IMO ship number {number!r} is not seven digits",
            "identifiers.imo_check_digit",
            {"value": number, "weights": list(IMO_SHIP_WEIGHTS), "rule": "sum mod 10"},
            provenance,
            observed,
        )
    for number in dict.fromkeys(imo_company_numbers):
        if is_valid_imo_company(number):
            continue
        detail = (
            f"IMO company number {number} fails the check digit (expected {check_digit(number, True)})"
            if len(number) == 7 and number.isdigit()
            else f"IMO company number {number!r} is not seven digits"
        )
        out += anomaly_records(
            label,
            key,
            "invalid_imo_company",
            number,
            detail,
            "identifiers.imo_company_check_digit",
            {"value": number, "weights": list(IMO_COMPANY_WEIGHTS), "rule": "(11 - sum mod 11) mod 10"},
            provenance,
            observed,
        )
    if mmsi is not None and not is_valid_mmsi(mmsi):
        out += anomaly_records(
            label,
            key,
            "invalid_mmsi",
            mmsi,
            f"MMSI {mmsi!r} is not nine digits",
            "identifiers.mmsi_format",
            {"value": mmsi, "digits": 9},
            provenance,
            observed,
        )
    mid = mmsi_mid(mmsi)
    mid_iso = mid_country(mid)
    if mmsi and mid and mid_iso and flag and mid_iso != flag.upper():
        detail = f"MMSI {mmsi} has MID {mid} ({mid_iso}) but the vessel flies the flag of {flag.upper()}"
        if mid_iso in {f.upper() for f in former_flags}:
            detail += f"; {mid_iso} is a former flag"
        out += anomaly_records(
            label,
            key,
            "mid_flag_mismatch",
            f"{mmsi}/{flag.upper()}",
            detail,
            "identifiers.mid_flag",
            {"mmsi": mmsi, "mid": mid, "mid_country": mid_iso, "flag": flag.upper(), "table": "mid.csv"},
            provenance,
            observed,
        )
    return out
