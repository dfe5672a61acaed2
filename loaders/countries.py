"""Countries as flag states and jurisdictions: names, ISO codes and messy spellings to one code.

Name and code lookup is rigour's territory table (OpenSanctions' well-kept reference data), which
knows "Korea, North", "PAN", "Hong Kong" and the like; we add the "Panama (PAN)" form seen in
registries and the list of flags of convenience.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import metadata

from rigour.territories import get_territories, lookup_territory
from rigour.territories.territory import Territory

from graph.records import NodeRecord, Provenance

# ITF's list of flags of convenience (International Transport Workers' Federation, as published on
# itfglobal.org, "Flags of convenience"), by ISO 3166-1 alpha-2.
FLAGS_OF_CONVENIENCE = frozenset(
    {
        "AG", "BS", "BB", "BZ", "BM", "BO", "KH", "KY", "KM", "CK", "CY", "GQ", "FO", "GE", "GI", "HN",
        "JM", "LB", "LR", "MT", "MH", "MU", "MD", "MN", "MM", "KP", "PA", "ST", "VC", "LK", "TO", "TZ",
        "VU", "CM", "GA", "SL", "TG",
    }
)  # fmt: skip
EMPTY_VALUES = frozenset({"", "NA", "N/A", "UNKNOWN", "-", "--", "NONE", "NULL", "?"})
_PAREN = re.compile(r"^(?P<name>.*?)\s*\((?P<code>[A-Za-z]{2,3})\)\s*$")


@dataclass(frozen=True)
class Country:
    """A resolved country: upper-case ISO alpha-2 code, English name, alpha-3 code."""

    code: str
    name: str
    iso3: str | None

    @property
    def flag_of_convenience(self) -> bool:
        return self.code in FLAGS_OF_CONVENIENCE

    def record(self) -> NodeRecord:
        """The Country node for this country. Its properties come from the reference tables, not from
        the record that mentions the country, so they cite those tables (``REFERENCE``); the
        relationship from the mentioning node cites that record."""
        props = {"name": self.name, "iso2": self.code, "flag_of_convenience": self.flag_of_convenience}
        if self.iso3:
            props["iso3"] = self.iso3
        return NodeRecord("Country", self.code, props, reference_provenance(self.code))


@cache
def reference_provenance(code: str) -> Provenance:
    """Where a country's name, codes and flag-of-convenience mark come from: rigour's territory table
    (its installed version named) and the ITF list above. The tables ship with the software, so there is
    no retrieval time to give: it is left empty, and any source's own statement outranks them."""
    return Provenance("reference:countries", f"rigour {_rigour_version()} territories + ITF list#{code}", "")


@cache
def _rigour_version() -> str:
    try:
        return metadata.version("rigour")
    except metadata.PackageNotFoundError:  # pragma: no cover - rigour is a declared dependency
        return "unknown"


# Spellings common in registries and lists that rigour's English names do not cover directly.
_ALIASES = {
    "hong kong": "hk", "macau": "mo", "macao": "mo", "viet nam": "vn", "uae": "ae", "turkey": "tr",
    "st vincent": "vc", "st kitts and nevis": "kn", "st lucia": "lc", "ussr": "su", "great britain": "gb",
    "uk": "gb", "usa": "us", "dprk": "kp", "rok": "kr", "drc": "cd", "burma": "mm", "swaziland": "sz",
    "ivory coast": "ci", "cape verde": "cv", "east timor": "tl", "czech republic": "cz",
}  # fmt: skip


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


@cache
def _fast_index() -> dict[str, Territory]:
    """Codes and English names of every territory. rigour's full lookup builds a multilingual index
    that takes seconds to load; this covers what registries and lists mostly write, instantly."""
    index: dict[str, Territory] = {}
    for territory in get_territories():
        names = [territory.code, territory.name, territory.full_name]
        if territory.alpha3:
            names.append(territory.alpha3)
        for name in names:
            if name:
                index.setdefault(_fold(name), territory)
                index.setdefault(_fold(name.removesuffix(" SAR")), territory)
    by_code = {t.code: t for t in get_territories()}
    for alias, code in _ALIASES.items():
        if code in by_code:
            index.setdefault(alias, by_code[code])
    return index


def _territory(candidate: str) -> Territory | None:
    index = _fast_index()
    folded = _fold(candidate)
    found = index.get(folded)
    if found is None and "," in candidate:
        # "Korea, North" -> "north korea"
        head, _, tail = candidate.partition(",")
        found = index.get(_fold(f"{tail} {head}"))
    return found or lookup_territory(candidate)


@cache
def lookup_country(raw: str | None) -> Country | None:
    """Resolve a country name, ISO code or "Name (CODE)" to a Country; None when empty or unknown."""
    if raw is None:
        return None
    text = " ".join(str(raw).split())
    if text.upper() in EMPTY_VALUES:
        return None
    candidates = [text]
    match = _PAREN.match(text)
    if match:
        candidates = [match["code"], match["name"]]
    for candidate in candidates:
        territory = _territory(candidate)
        if territory is not None:
            iso3 = getattr(territory, "alpha3", None)
            return Country(territory.code.upper(), territory.name, iso3.upper() if iso3 else None)
    return None
