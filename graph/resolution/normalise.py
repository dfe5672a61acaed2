"""Name normalisation: a company or person name to the form the matcher compares.

Transliterate to ASCII, drop punctuation, strip legal forms with rigour's org-type table (ISO 20275 +
OCCRP list: "Co., Ltd.", "Pte Ltd", "OOO", "S.A. de C.V." ...), expand the business abbreviations in
:data:`ABBREVIATIONS` ("SHPG" -> "shipping") and drop generic words ("company", "corporation").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from rigour.names import extract_org_types, remove_org_types, remove_person_prefixes
from rigour.text import ascii_text

#: Version of the normaliser, recorded in the ``parameters`` of every link the resolver writes.
NORMALISER_VERSION = 1

#: Business-word abbreviations seen in ship registries and sanctions lists, expanded before scoring.
#: rigour's org-type table covers legal forms (LTD, LLC, S.A., OOO, ...) but not these; its symbol
#: tagger knows some of them but also equates synonyms (marine = maritime, oil = petroleum), which is
#: too loose to drive an automatic link. Keys and values are normalised (lower-case ASCII) tokens.
ABBREVIATIONS: Mapping[str, str] = {
    "shpg": "shipping",
    "shipg": "shipping",
    "shpng": "shipping",
    "intl": "international",
    "internat": "international",
    "mgmt": "management",
    "mngt": "management",
    "mgt": "management",
    "mgnt": "management",
    "nav": "navigation",
    "navig": "navigation",
    "trdg": "trading",
    "tradg": "trading",
    "hldg": "holding",
    "hldgs": "holdings",
    "svc": "service",
    "svcs": "services",
    "grp": "group",
    "bros": "brothers",
    "natl": "national",
    "tkr": "tanker",
    "tkrs": "tankers",
    "transp": "transport",
    "invt": "investment",
    "dev": "development",
    "devt": "development",
    "mfg": "manufacturing",
    "agcy": "agency",
    "engg": "engineering",
    "ent": "enterprise",
    "entp": "enterprise",
    "ind": "industrial",
    "inds": "industries",
    "co": "company",
    "cie": "company",
    "coy": "company",
    "corp": "corporation",
    "corpn": "corporation",
    "pvt": "private",
}
#: Words that say "this is a company" without telling companies apart; dropped from the compared form.
GENERIC_WORDS = frozenset({"company", "corporation", "private", "pte", "the", "and", "of"})

#: Business descriptors: words that say what a company does, not which company it is. A descriptor
#: present in one name and absent from the other is forgiven by :func:`.scoring.token_agreement`
#: ("Korea Samma" / "Korea Samma Shipping"); two different descriptors count against the pair ("Vandor
#: Group" / "Vandor Bulk"); descriptors are no blocking keys on their own. Place and nature words
#: ("pacific", "star", "ocean") are not descriptors: they do tell names apart.
DESCRIPTORS = frozenset(
    {
        "shipping", "ship", "ships", "shipmanagement", "shipowning", "maritime", "marine", "navigation",
        "tanker", "tankers", "trading", "trade", "traders", "logistics", "energy", "petroleum", "oil",
        "gas", "holding", "holdings", "international", "management", "line", "lines", "carrier",
        "carriers", "transport", "transportation", "global", "group", "bulk", "service", "services",
        "offshore", "chartering", "charterers", "agency", "agencies", "enterprise", "enterprises",
        "investment", "investments", "industrial", "industries", "development", "manufacturing",
        "engineering", "brothers", "sons", "partners", "ventures", "resources", "commodities", "freight",
        "cargo", "container", "containers", "ferry", "ferries", "import", "export", "general", "overseas",
        "worldwide", "capital", "finance", "commercial", "consulting", "solutions", "technology",
        "technologies", "supply", "supplies", "national", "express", "projects", "operations", "operating",
    }
)  # fmt: skip

# every ASCII byte that is not a letter or digit becomes a space; "." "'" "`" vanish ("S.A." -> "sa")
_BYTE_TABLE = bytes(c if chr(c).isalnum() and c < 128 else 32 for c in range(256))
_BYTE_DROP = b".'`"
_LEGAL_FORMS: dict[tuple[str, ...], frozenset[str]] = {}


class NameForm(NamedTuple):
    """One name ready for comparison (a named tuple: a million of them must be cheap to build and hold).

    ``core`` is the normalised name (legal forms stripped, abbreviations expanded) with its tokens in
    their original order and ``sorted_core`` the same tokens sorted; ``legal_forms`` the generic legal
    forms found (``llc``, ``jsc`` ...); ``original`` the name as given.
    """

    original: str
    core: str
    sorted_core: str
    legal_forms: frozenset[str] = frozenset()

    @property
    def tokens(self) -> int:
        """Number of tokens in the compared form."""
        return self.core.count(" ") + 1


def _plain_tokens(name: str) -> list[str]:
    """ASCII, lower-case, punctuation-free tokens; runs of single letters ("S A") are joined ("sa")."""
    text = ascii_text(name).lower().replace("&", " and ").encode("ascii", "ignore")
    tokens = text.translate(_BYTE_TABLE, _BYTE_DROP).decode("ascii").split()
    if all(len(t) > 1 for t in tokens):
        return tokens
    joined: list[str] = []
    run = ""
    for token in tokens:
        if len(token) == 1 and token.isalpha():
            run += token
            continue
        if run:
            joined.append(run)
            run = ""
        joined.append(token)
    if run:
        joined.append(run)
    return joined


def _form(original: str, tokens: list[str], legal_forms: frozenset[str]) -> NameForm:
    return NameForm(original, " ".join(tokens), " ".join(sorted(tokens)), legal_forms)


# Digits, or a roman numeral from ii to xxxix (a lone "i", "v" or "x" is more often an initial).
_NUMBER = re.compile(r"^(\d+|(?=[ivx]{2})x{0,3}(ix|iv|v?i{0,3}))$")


def name_numbers(name: str) -> frozenset[str]:
    """The numbers and roman numerals a name holds as words ("II", "2"), read before legal forms are
    removed (rigour reads "II CORP" as a legal form)."""
    return frozenset(t for t in _plain_tokens(name) if _NUMBER.match(t))


def company_form(name: str) -> NameForm | None:
    """Normalise a company name; None when nothing comparable is left."""
    plain = _plain_tokens(name)
    if not plain:
        return None
    text = " ".join(plain)
    found = extract_org_types(text, generic=False)
    if found:
        # The specific forms (ltd, gmbh, sarl, fze, e.v., asbl), not rigour's generic classes (llc, ngo):
        # "... LIMITED" and "... GMBH" are companies of two countries' laws, "LTD" and "LIMITED" one.
        key = tuple(sorted({target for _, target in found}))
        legal_forms = _LEGAL_FORMS.setdefault(key, frozenset(key))
        plain = remove_org_types(text).split()
    else:
        legal_forms = frozenset()
    tokens = [ABBREVIATIONS.get(t, t) for t in plain]
    tokens = [t for t in tokens if t not in GENERIC_WORDS]
    if not tokens:  # the name is nothing but a legal form or generic words: compare it as written
        tokens = text.split()
    return _form(name, tokens, legal_forms)


def person_form(name: str) -> NameForm | None:
    """Normalise a person's name (titles such as "Mr", "Mrs", "Dr" removed, by rigour); None when empty."""
    text = " ".join(_plain_tokens(name))
    if not text:
        return None
    stripped = remove_person_prefixes(text)
    return _form(name, (stripped or text).split(), frozenset())
