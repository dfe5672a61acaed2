"""Identifier checks and stable node keys.

IMO ship numbers and IMO company numbers use different check-digit schemes; the two predicates are
kept apart on purpose (see docs/model.md). A vessel without a valid IMO gets a key derived from its
other identifiers, never a random one, so that every load of the same source yields the same key.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_DIGITS7 = re.compile(r"^\d{7}$")


def is_valid_imo(number: str | None) -> bool:
    """True for a 7-digit IMO ship number whose check digit is Σ(d_i × (7..2)) mod 10.

    All-zero numbers are rejected: they pass the arithmetic but identify nothing.
    """
    if number is None or not _DIGITS7.match(number) or number == "0000000":
        return False
    total = sum(int(d) * w for d, w in zip(number[:6], (7, 6, 5, 4, 3, 2), strict=True))
    return total % 10 == int(number[6])


def is_valid_imo_company(number: str | None) -> bool:
    """True for a 7-digit IMO company (owner) number: weights 8,6,4,2,9,7, then (11 - sum mod 11) mod 10."""
    if number is None or not _DIGITS7.match(number) or number == "0000000":
        return False
    total = sum(int(d) * w for d, w in zip(number[:6], (8, 6, 4, 2, 9, 7), strict=True))
    return (11 - total % 11) % 10 == int(number[6])


def clean_imo(raw: str | None) -> str | None:
    """Extract the digits of an IMO-like value ("IMO 9289518", "9289518.0"), or None."""
    if raw is None:
        return None
    text = str(raw).strip().upper().removeprefix("IMO").strip(" :.#")
    text = text.removesuffix(".0")
    return text if _DIGITS7.match(text) else None


def is_valid_mmsi(mmsi: str | None) -> bool:
    """An MMSI is exactly nine digits."""
    return mmsi is not None and len(mmsi) == 9 and mmsi.isdigit()


def normalize_name(name: str) -> str:
    """Upper-case, accent-free, punctuation-free, single-spaced form used for keys and matching."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^\w]+", " ", text.upper())
    return " ".join(text.split())


def _digest(*parts: str | None) -> str:
    joined = "\x1f".join(p or "" for p in parts)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:16]


def vessel_key(
    imo: str | None = None,
    mmsi: str | None = None,
    name: str | None = None,
    flag: str | None = None,
    call_sign: str | None = None,
) -> str:
    """A vessel's node key: ``imo:NNNNNNN`` when the IMO is valid, else derived from other identifiers.

    Without an IMO, an MMSI gives ``mmsi:NNNNNNNNN``; failing that, name, flag and call sign give a
    digest. The same identifiers always give the same key.
    """
    if imo and is_valid_imo(imo):
        return f"imo:{imo}"
    if mmsi and is_valid_mmsi(mmsi):
        return f"mmsi:{mmsi}"
    if not (name or call_sign):
        raise ValueError("a vessel needs an IMO, an MMSI, a name or a call sign")
    return "vsl:" + _digest(normalize_name(name or ""), (flag or "").upper(), (call_sign or "").upper())


def company_key(
    name: str | None = None,
    jurisdiction: str | None = None,
    registration_number: str | None = None,
    imo_company_number: str | None = None,
    lei: str | None = None,
) -> str:
    """A company's node key, from the strongest identifier available."""
    if imo_company_number and is_valid_imo_company(imo_company_number):
        return f"imoco:{imo_company_number}"
    if lei:
        return f"lei:{lei.upper()}"
    if registration_number and jurisdiction:
        return f"reg:{jurisdiction.upper()}:{registration_number.upper()}"
    if not name:
        raise ValueError("a company needs a name or an identifier")
    return "co:" + _digest(normalize_name(name), (jurisdiction or "").upper())


def person_key(name: str, birth_date: str | None = None, nationality: str | None = None) -> str:
    """A person's node key from name and, where known, birth date and nationality."""
    return "p:" + _digest(normalize_name(name), birth_date, (nationality or "").upper())


def address_key(full: str) -> str:
    """An address's key: its normalised text, so identical addresses from two sources meet."""
    return "addr:" + _digest(normalize_name(full))


def name_key(name: str) -> str:
    """Key of a VesselName node."""
    return normalize_name(name)
