"""Fuzzy entity resolution for companies and persons: normalise names, block, score, classify.

Exact merges already happen on keys (IMO company number, LEI, registration number: see
``graph.keys.company_key``). This module finds the rest: nodes with different keys whose names are
alike. It is pure: it takes entities and judgements and returns scored links and the edge records that
express them; reading and writing the store is the caller's business (``shadowfleet.commands.resolve``).

Pipeline (docs/resolution.md has the reasoning and the benchmark):

1. **Normalise** each name (:func:`company_form`, :func:`person_form`): transliterate to ASCII, drop
   punctuation, strip legal forms with rigour's org-type table (ISO 20275 + OCCRP list: "Co., Ltd.",
   "Pte Ltd", "OOO", "S.A. de C.V." ...), expand the business abbreviations in :data:`ABBREVIATIONS`
   ("SHPG" -> "shipping") and drop generic words ("company", "corporation").
2. **Block** with :class:`NameIndex`: token keys (each token and its one-letter deletions) in buckets
   capped at ``bucket_cap`` names, plus phrase keys (whole name; a frequent token combined with each
   variant of another token); each query keeps at most ``max_candidates`` names, those sharing the
   most keys.
3. **Score** candidates (:func:`name_similarity`): the mean of rapidfuzz's Indel ratio of the names
   and a one-to-one token agreement, best over every pair of names (aliases included), minus
   penalties for conflicting attributes (jurisdiction, legal form, identifiers; nationality and
   birth date for persons).
4. **Classify** (:func:`plan_links`): ``score >= auto_threshold`` is an automatic link,
   ``review_threshold <= score < auto_threshold`` needs review, anything lower is dropped. Nothing
   below the auto threshold is treated as the same entity. Judgements (``graph.judgements``) win.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
from rapidfuzz import fuzz, process
from rigour.names import extract_org_types, remove_org_types, remove_person_prefixes
from rigour.territories import lookup_territory
from rigour.text import ascii_text

from graph.judgements import Judgements, NodeRef
from graph.keys import is_valid_imo_company
from graph.records import EdgeRecord, Provenance

RESOLVER_SOURCE = "resolver"
NORMALISER_VERSION = 1
SCORER = "mean(indel ratio of names (best of tokens in order, sorted), one-to-one token agreement)"
LINK_TYPE = "POSSIBLY_SAME_AS"
RESOLVABLE_LABELS = ("Company", "Person")

Method = Literal["auto", "review", "judgement", "rejected", "retired"]
#: Methods whose links mean "the same entity" in queries. Everything else is a candidate at most.
SAME_ENTITY_METHODS: tuple[str, ...] = ("auto", "judgement")

# ---- name normalisation ---------------------------------------------------------------------------

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
#: present in one name and absent from the other is forgiven by :func:`token_agreement` ("Korea Samma"
#: / "Korea Samma Shipping"); two different descriptors count against the pair ("Vandor Group" /
#: "Vandor Bulk"); descriptors are no blocking keys on their own. Place and nature words ("pacific",
#: "star", "ocean") are not descriptors: they do tell names apart.
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


def company_form(name: str) -> NameForm | None:
    """Normalise a company name; None when nothing comparable is left."""
    plain = _plain_tokens(name)
    if not plain:
        return None
    text = " ".join(plain)
    found = extract_org_types(text, generic=True)
    if found:
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


# ---- entities -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """What the matcher needs to know about one Company or Person node.

    ``country`` is the jurisdiction of a company or the nationality of a person (ISO alpha-2, lower
    case); ``identifiers`` the strong identifiers by kind; ``retrieved_at`` the latest retrieval time
    in the node's provenance (used as the provenance time of links derived from it, so that re-running
    the resolver on the same data adds nothing).
    """

    label: str
    key: str
    names: tuple[str, ...]
    country: str | None = None
    identifiers: Mapping[str, str] = field(default_factory=dict)
    birth_date: str | None = None
    retrieved_at: str = ""

    @property
    def ref(self) -> NodeRef:
        return NodeRef(self.label, self.key)


@functools.lru_cache(maxsize=4096)
def country_code(raw: str | None) -> str | None:
    """A jurisdiction or nationality as a lower-case ISO alpha-2 code (names and alpha-3 accepted)."""
    if not raw or not str(raw).strip():
        return None
    territory = lookup_territory(str(raw).strip())
    if territory is not None:
        return str(territory.code).lower()
    return str(raw).strip().lower()


def _latest_retrieval(provenance: Iterable[str]) -> str:
    latest = ""
    for entry in provenance:
        try:
            when = Provenance.decode(entry).retrieved_at
        except (ValueError, KeyError, TypeError):
            continue
        latest = max(latest, when or "")
    return latest


def entity_from_node(
    label: str, key: str, props: Mapping[str, Any], provenance: Iterable[str] = ()
) -> Entity:
    """Build an :class:`Entity` from a node's properties (name, aliases, jurisdiction, identifiers)."""
    names: list[str] = []
    for value in [props.get("name"), *(props.get("aliases") or [])]:
        if value and str(value).strip() and value not in names:
            names.append(str(value))
    identifiers: dict[str, str] = {}
    if label == "Company":
        country = country_code(props.get("jurisdiction"))
        imo = props.get("imo_company_number")
        if imo and is_valid_imo_company(str(imo)):
            identifiers["imo_company_number"] = str(imo)
        if props.get("lei"):
            identifiers["lei"] = str(props["lei"]).upper()
        if props.get("registration_number") and country:
            identifiers["registration_number"] = f"{country}:{str(props['registration_number']).upper()}"
        birth_date = None
    else:
        country = country_code(props.get("nationality"))
        birth_date = str(props["birth_date"]) if props.get("birth_date") else None
    return Entity(label, key, tuple(names), country, identifiers, birth_date, _latest_retrieval(provenance))


# ---- configuration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds, penalties and blocking limits. Scores are on a 0..1 scale.

    The penalties are subtracted from the name similarity when both sides state the attribute and the
    values differ. ``jurisdiction_penalty`` and ``identifier_penalty`` are sized so that identical
    names with conflicting jurisdictions or identifiers score 0.90: below the auto threshold, inside
    the review band. ``birth_date_penalty`` takes identical person names with different birth dates
    below the review threshold altogether.
    """

    auto_threshold: float = 0.98
    review_threshold: float = 0.85
    jurisdiction_penalty: float = 0.10
    legal_form_penalty: float = 0.05
    identifier_penalty: float = 0.10
    nationality_penalty: float = 0.05
    birth_date_penalty: float = 0.20
    min_auto_tokens: int = 2
    bucket_cap: int = 60
    max_candidates: int = 100
    workers: int = 2

    def __post_init__(self) -> None:
        if not 0.0 < self.review_threshold <= self.auto_threshold <= 1.0:
            raise ValueError(
                f"thresholds must satisfy 0 < review ({self.review_threshold}) <= auto "
                f"({self.auto_threshold}) <= 1"
            )

    def parameters(self) -> dict[str, Any]:
        """The settings that shaped a link, as stored in its ``parameters`` property."""
        return {
            "normaliser": NORMALISER_VERSION,
            "scorer": SCORER,
            "auto_threshold": self.auto_threshold,
            "review_threshold": self.review_threshold,
            "min_auto_tokens": self.min_auto_tokens,
            "bucket_cap": self.bucket_cap,
            "max_candidates": self.max_candidates,
        }


# ---- blocking -------------------------------------------------------------------------------------

_SALT_A = np.uint64(0x9E3779B97F4A7C15)
_SALT_B = np.uint64(0xC2B2AE3D27D4EB4F)
_ALONE = hash("\x00alone")


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + n)`` for every (s, n), vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts.astype(np.int64) - offsets, lengths) + np.arange(total, dtype=np.int64)


def _variants(token: str) -> set[str]:
    """A token and, from four letters, each of its one-letter deletions.

    Two tokens within one edit (substitution, insertion, deletion, most transpositions) share a
    variant: the symmetric-deletion trick of SymSpell.
    """
    found = {token}
    if len(token) >= 4:
        found.update(token[:i] + token[i + 1 :] for i in range(len(token)))
    return found


#: Query tokens at least this long also look up their two-letter deletions.
TWO_EDITS_FROM = 7


def _key_variants(token: str, one: set[str] | None = None) -> set[str]:
    """:func:`_variants` (given as ``one`` if already known) and, from :data:`TWO_EDITS_FROM` letters,
    every two-letter deletion too, so tokens two edits apart ("sheipei" / "sheikpeir") still meet."""
    one = _variants(token) if one is None else one
    if len(token) < TWO_EDITS_FROM:
        return one
    n = len(token) - 1
    return one | {v[:i] + v[i + 1 :] for v in one if len(v) == n for i in range(n)}


def _mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Combine two arrays of 64-bit hashes into one key per pair (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        return ((a.view(np.uint64) * _SALT_A) ^ (b.view(np.uint64) + _SALT_B)).view(np.int64)


def _csr(lists: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flatten a list of int lists: (values, starts, lengths)."""
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    values = np.fromiter((v for x in lists for v in x), dtype=np.int64, count=int(lengths.sum()))
    return values, np.cumsum(lengths) - lengths, lengths


@dataclass(eq=False)
class _Tokens:
    """The tokens of many names, flattened: entry ``i`` is token ``tids[i]`` of name ``rows[i]``.

    ``distinct[i]`` says whether entry ``i`` counts for blocking: it is not a business descriptor, or
    every token of its name is one.
    """

    vocab: list[str]
    tids: np.ndarray
    rows: np.ndarray
    counts: np.ndarray
    distinct: np.ndarray

    @staticmethod
    def of(names: Sequence[str], descriptors: frozenset[str]) -> _Tokens:
        counts = np.fromiter((c.count(" ") + 1 if c else 0 for c in names), dtype=np.int64, count=len(names))
        flat = " ".join(names).split()
        index: dict[str, int] = {}
        tids = np.fromiter((index.setdefault(t, len(index)) for t in flat), dtype=np.int64, count=len(flat))
        rows = np.repeat(np.arange(len(names), dtype=np.int64), counts)
        vocab = list(index)
        is_descriptor = np.fromiter((t in descriptors for t in vocab), dtype=bool, count=len(vocab))
        plain = ~is_descriptor[tids]
        has_plain = np.bincount(rows, weights=plain, minlength=len(names)) > 0
        return _Tokens(vocab, tids, rows, counts, plain | ~has_plain[rows])

    @functools.cached_property
    def one_edit(self) -> list[set[str]]:
        """Per vocabulary token, its :func:`_variants`."""
        return [_variants(t) for t in self.vocab]

    @functools.cached_property
    def two_edits(self) -> list[set[str]]:
        """Per vocabulary token, its :func:`_key_variants`."""
        return [_key_variants(t, one) for t, one in zip(self.vocab, self.one_edit, strict=True)]

    @functools.cached_property
    def _one_edit_hashes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _csr([[hash(v) for v in variants] for variants in self.one_edit])

    def variant_keys(self, two_edits: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(row, key) for every variant of every distinct token (with ``two_edits``: deletions of two)."""
        if two_edits:
            values, starts, lengths = _csr([[hash(v) for v in variants] for variants in self.two_edits])
        else:
            values, starts, lengths = self._one_edit_hashes
        entry = np.flatnonzero(self.distinct)
        tids = self.tids[entry]
        n = lengths[tids]
        return np.repeat(self.rows[entry], n), values[_ranges(starts[tids], n)]

    def whole_keys(self, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, key) of each whole name (of two tokens or more; one token is a token key)."""
        rows = np.flatnonzero(self.counts >= 2)
        keys = np.fromiter((hash("\x00" + names[i]) for i in rows), dtype=np.int64, count=len(rows))
        return rows, keys

    def anchor_keys(self, anchors: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """(row, key) of each anchor combined with each variant of every other token of its name.

        ``anchors[tid]`` holds the hashes of the frequent tokens that token ``tid`` stands for. A name
        with no other token gets (anchor, alone). "vandor sea" thus yields (vandor, sea), (vandor,
        ea), ... and "vandor" alone (vandor, alone), so names sharing a word too common to be a key on
        its own still meet when the rest of the name agrees to one edit.
        """
        a_values, a_starts, a_lengths = _csr(anchors)
        entry = np.flatnonzero(self.distinct & (a_lengths[self.tids] > 0))
        n = a_lengths[self.tids[entry]]
        anchor = a_values[_ranges(a_starts[self.tids[entry]], n)]
        entry = np.repeat(entry, n)
        rows = self.rows[entry]
        alone = self.counts[rows] == 1
        keys = [_mix(anchor[alone], np.full(int(alone.sum()), _ALONE, dtype=np.int64))]
        key_rows = [rows[alone]]
        entry, anchor, rows = entry[~alone], anchor[~alone], rows[~alone]
        row_start = np.cumsum(self.counts) - self.counts
        n = self.counts[rows]
        other = _ranges(row_start[rows], n)
        entry, anchor = np.repeat(entry, n), np.repeat(anchor, n)
        keep = other != entry
        other, anchor = other[keep], anchor[keep]
        v_values, v_starts, v_lengths = self._one_edit_hashes
        n = v_lengths[self.tids[other]]
        keys.append(_mix(np.repeat(anchor, n), v_values[_ranges(v_starts[self.tids[other]], n)]))
        key_rows.append(np.repeat(self.rows[other], n))
        return np.concatenate(key_rows), np.concatenate(keys)


class _Buckets:
    """Sorted buckets of (key, row) entries in flat arrays, buckets larger than ``cap`` dropped.

    Keys are truncated to their top ``64 - shift`` bits so that key and row pack into one uint64 and
    a plain ``np.sort`` groups them (about three times faster than ``argsort`` on 20M keys). Two keys
    sharing their top bits merely share a bucket: harmless for blocking.
    """

    def __init__(self, rows: np.ndarray, keys: np.ndarray, cap: int, shift: int) -> None:
        self.shift = np.uint64(shift)
        packed = (keys.view(np.uint64) >> self.shift << self.shift) | rows.astype(np.uint64)
        packed.sort()
        keys = packed >> self.shift
        rows = (packed & ((np.uint64(1) << self.shift) - np.uint64(1))).astype(np.int32)
        del packed
        if len(keys):
            starts = np.concatenate(([0], np.flatnonzero(keys[1:] != keys[:-1]) + 1))
            sizes = np.diff(np.concatenate((starts, [len(keys)])))
        else:
            starts = sizes = np.empty(0, dtype=np.int64)
        usable = sizes <= cap
        self.dropped = int((~usable).sum())
        starts, sizes = starts[usable], sizes[usable]
        self.keys = keys[starts]
        self.postings = rows[_ranges(starts, sizes)]  # only usable buckets: common keys are the bulk
        self.starts = np.cumsum(sizes) - sizes
        self.sizes = sizes

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.postings.nbytes + self.starts.nbytes + self.sizes.nbytes

    def lookup(self, rows: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query row, indexed row) for every posting of every key found; ``keys`` sorted ascending."""
        empty = np.empty(0, dtype=np.int64)
        if not len(self.keys) or not len(keys):
            return empty, empty
        needles = keys.view(np.uint64) >> self.shift
        pos = np.minimum(np.searchsorted(self.keys, needles), len(self.keys) - 1)
        hit = self.keys[pos] == needles
        rows, pos = rows[hit], pos[hit]
        sizes = self.sizes[pos]
        return np.repeat(rows, sizes), self.postings[_ranges(self.starts[pos], sizes)].astype(np.int64)


class NameIndex:
    """An inverted index from blocking keys to names, held in flat numpy arrays.

    Keys of a name (its tokens, sorted, space-separated):

    - each token and each one-letter deletion of it (business descriptors excepted, unless the name
      has nothing else);
    - the whole name;
    - for a *frequent* token (in more than ``bucket_cap`` names but at most ``frequent_cap``): the
      token combined with each variant of every other token of the name (see
      :meth:`_Tokens.anchor_keys`).

    A token key shared by more than ``bucket_cap`` names is dropped: too common to be evidence. Whole
    names and combinations are conjunctions: a bucket of them holds names that agree on two tokens or
    more, so it is kept up to ``phrase_cap`` names. A query keeps the ``max_candidates`` names sharing
    the most keys with it, and reads a token one edit away from a frequent token as that token.
    """

    def __init__(
        self,
        names: Sequence[str],
        descriptors: frozenset[str] = frozenset(),
        bucket_cap: int = 60,
        frequent_cap: int = 5000,
        phrase_cap: int = 1000,
    ) -> None:
        self.size = len(names)
        self.bucket_cap = bucket_cap
        self.descriptors = descriptors
        tokens = _Tokens.of(names, descriptors)
        names_per_token = np.bincount(tokens.tids[tokens.distinct], minlength=len(tokens.vocab))
        frequent = np.flatnonzero((names_per_token > bucket_cap) & (names_per_token <= frequent_cap))
        self.frequent: dict[str, int] = {tokens.vocab[i]: hash(tokens.vocab[i]) for i in frequent.tolist()}
        near: dict[str, list[str]] = {}
        for token in self.frequent:
            for variant in _variants(token):
                near.setdefault(variant, []).append(token)
        self.near_frequent: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in near.items()}
        rows, keys, phrase = self._keys(tokens, names, typos=False)
        del tokens
        shift = max(1, int(self.size).bit_length())
        self.token_buckets = _Buckets(rows[~phrase], keys[~phrase], bucket_cap, shift)
        self.phrase_buckets = _Buckets(rows[phrase], keys[phrase], phrase_cap, shift)
        self.dropped_keys = self.token_buckets.dropped + self.phrase_buckets.dropped

    @property
    def nbytes(self) -> int:
        """Memory held by the index arrays."""
        return self.token_buckets.nbytes + self.phrase_buckets.nbytes

    @property
    def key_count(self) -> int:
        """Number of usable keys."""
        return len(self.token_buckets.keys) + len(self.phrase_buckets.keys)

    def _anchors(self, tokens: _Tokens, typos: bool) -> list[list[int]]:
        """Per vocabulary token, the hashes of the frequent tokens it stands for.

        When indexing, a frequent token stands for itself. A query token (``typos``) also stands for
        every frequent token it could be a typo of: one edit away, or two for long tokens.
        """
        out: list[list[int]] = []
        frequent, near_frequent, descriptors = self.frequent, self.near_frequent, self.descriptors
        variants = tokens.two_edits if typos else None
        for number, token in enumerate(tokens.vocab):
            if variants is not None and token not in descriptors:
                near = {t for v in variants[number] for t in near_frequent.get(v, ())}
                out.append([frequent[t] for t in sorted(near)])
            elif token in frequent:
                out.append([frequent[token]])
            else:
                out.append([])
        return out

    def _keys(
        self, tokens: _Tokens, names: Sequence[str], typos: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, key, is_phrase) of every blocking key of the names."""
        parts = [
            tokens.variant_keys(two_edits=typos),
            tokens.whole_keys(names),
            tokens.anchor_keys(self._anchors(tokens, typos)),
        ]
        phrase = np.concatenate([np.full(len(p[0]), i > 0) for i, p in enumerate(parts)])
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), phrase

    def candidates(
        self,
        names: Sequence[str],
        max_candidates: int = 100,
        *,
        query_groups: np.ndarray | None = None,
        index_groups: np.ndarray | None = None,
        chunk: int = 10_000,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(query_rows, index_rows)`` arrays, chunk by chunk, sorted by query row.

        With ``query_groups``/``index_groups`` (e.g. entity numbers), pairs within one group are
        skipped, so a name never spends its candidate slots on its own aliases.
        """
        for begin in range(0, len(names), chunk):
            q, r = self.query_chunk(
                names[begin : begin + chunk], max_candidates, begin, query_groups, index_groups
            )
            if len(q):
                yield q, r

    def query_chunk(
        self,
        names: Sequence[str],
        limit: int,
        offset: int,
        query_groups: np.ndarray | None,
        index_groups: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Candidates of one batch of query names, whose rows are numbered from ``offset``."""
        empty = np.empty(0, dtype=np.int64)
        if not len(names):
            return empty, empty
        qrows, qkeys, phrase = self._keys(_Tokens.of(names, self.descriptors), names, typos=True)
        order = np.argsort(qkeys)  # sorted needles make searchsorted several times faster
        qrows, qkeys, phrase = qrows[order] + offset, qkeys[order], phrase[order]
        q1, c1 = self.token_buckets.lookup(qrows[~phrase], qkeys[~phrase])
        q2, c2 = self.phrase_buckets.lookup(qrows[phrase], qkeys[phrase])
        query, cand = np.concatenate((q1, q2)), np.concatenate((c1, c2))
        if query_groups is not None and index_groups is not None:
            keep = query_groups[query] != index_groups[cand]
            query, cand = query[keep], cand[keep]
        if not len(query):
            return empty, empty
        # rank each query's candidates: most shared keys first, then lowest row (deterministic)
        pair = np.sort(query * self.size + cand)
        first = np.concatenate(([True], pair[1:] != pair[:-1]))
        shared = np.diff(np.concatenate((np.flatnonzero(first), [len(pair)])))
        pair = pair[first]
        query, cand = pair // self.size, pair % self.size
        order = np.lexsort((cand, -shared, query))
        query, cand = query[order], cand[order]
        starts = np.flatnonzero(np.concatenate(([True], query[1:] != query[:-1])))
        rank = np.arange(len(query)) - np.repeat(starts, np.diff(np.concatenate((starts, [len(query)]))))
        keep = rank < limit
        query, cand = query[keep], cand[keep]
        order = np.lexsort((cand, query))
        return query[order], cand[order]


DESCRIPTOR_WEIGHT = 0.5


def token_agreement(a: str, b: str, descriptors: frozenset[str] = frozenset()) -> float:
    """How well the tokens of two names pair up, 0..1.

    Tokens are paired one to one, identical tokens first, then best ``fuzz.ratio`` first. The score
    is the weighted mean ratio over the pairs and the tokens left without a partner (which score 0).
    A pair of two business descriptors weighs :data:`DESCRIPTOR_WEIGHT`, any other pair or leftover
    token 1; leftover descriptors and single letters (initials) are not counted at all. So "Vandor
    Sea" / "Vandor Ocean" agree 0.75 although their characters are 88% alike, a shared "Petroleum"
    cannot carry "Tandor" / "Thalgex", and "Korea Samma" / "Korea Samma Shipping" agree fully.
    """
    if a == b:
        return 1.0
    rest_b = b.split()
    rest_a: list[str] = []
    total = weight = 0.0
    for token in a.split():
        if token in rest_b:
            rest_b.remove(token)
            w = DESCRIPTOR_WEIGHT if token in descriptors else 1.0
            total += w
            weight += w
        else:
            rest_a.append(token)
    if rest_a and rest_b:
        scored = sorted(
            ((fuzz.ratio(x, y), i, j) for i, x in enumerate(rest_a) for j, y in enumerate(rest_b)),
            reverse=True,
        )
        used_a: set[int] = set()
        used_b: set[int] = set()
        for score, i, j in scored:
            if i not in used_a and j not in used_b:
                used_a.add(i)
                used_b.add(j)
                w = DESCRIPTOR_WEIGHT if rest_a[i] in descriptors and rest_b[j] in descriptors else 1.0
                total += w * score / 100.0
                weight += w
        rest_a = [t for i, t in enumerate(rest_a) if i not in used_a]
        rest_b = [t for j, t in enumerate(rest_b) if j not in used_b]
    for token in rest_a + rest_b:
        if len(token) > 1 and token not in descriptors:
            weight += 1.0
    return total / weight if weight else 1.0


def _string_similarity(a: NameForm, b: NameForm) -> float:
    """Indel ratio of the whole names, the better of tokens in order and sorted, 0..100."""
    return max(fuzz.ratio(a.core, b.core), fuzz.ratio(a.sorted_core, b.sorted_core))


def name_similarity(a: NameForm, b: NameForm, descriptors: frozenset[str] = frozenset()) -> float:
    """How alike two names are, 0..1: the mean of their string similarity and their token agreement.

    - string similarity: rapidfuzz ``fuzz.ratio`` (Indel) of the normalised names, the better of the
      tokens in order and sorted (word order does not matter, and a typo in a first letter does not
      reorder the words);
    - token agreement (:func:`token_agreement`): one word in two differing ("Tandor Petroleum" /
      "Thalgex Petroleum") costs far more than its share of characters.
    """
    agreement = token_agreement(a.sorted_core, b.sorted_core, descriptors)
    return (_string_similarity(a, b) / 100.0 + agreement) / 2


def string_cutoff(threshold: float) -> float:
    """The lowest string similarity (0..100) that can still reach ``threshold`` (token agreement <= 1)."""
    return max(0.0, (2 * threshold - 1) * 100.0)


class FormTable:
    """Name forms plus the column arrays that scoring and blocking read.

    ``descriptors`` are the business descriptors of the label (:data:`DESCRIPTORS` for companies,
    none for persons).
    """

    def __init__(self, forms: Sequence[NameForm], descriptors: frozenset[str] = frozenset()) -> None:
        self.forms = forms
        self.descriptors = descriptors
        self.core = np.array([f.core for f in forms], dtype=object)
        self.sorted_core = np.array([f.sorted_core for f in forms], dtype=object)

    def __len__(self) -> int:
        return len(self.forms)

    @property
    def blocking(self) -> list[str]:
        """What the blocking index sees: the sorted tokens of each name."""
        return list(self.sorted_core)


def score_pairs(
    queries: FormTable, index: FormTable, query_rows: np.ndarray, index_rows: np.ndarray, cutoff: float = 0.0
) -> np.ndarray:
    """:func:`name_similarity` of each (query row, index row) pair; pairs must be grouped by query row.

    Scores below ``cutoff`` may come back as 0. The string similarity of the whole names comes from
    one rapidfuzz ``cdist`` per query against its candidates (≈ 13M pairs/s; ``cpdist`` over
    scattered pairs is several times slower because it converts both strings of every pair); only
    pairs whose string similarity can still reach ``cutoff`` get their token agreement computed.
    """
    out = np.zeros(len(query_rows), dtype=np.float32)
    if not len(query_rows):
        return out
    string = np.zeros(len(query_rows), dtype=np.float32)
    bounds = np.flatnonzero(query_rows[1:] != query_rows[:-1]) + 1
    starts = np.concatenate(([0], bounds)).tolist()
    ends = np.concatenate((bounds, [len(query_rows)])).tolist()
    cut = string_cutoff(cutoff)
    for s, e, q in zip(starts, ends, query_rows[starts].tolist(), strict=True):
        rows = index_rows[s:e]
        in_order = process.cdist([queries.core[q]], index.core[rows], scorer=fuzz.ratio, score_cutoff=cut)
        by_sorted = process.cdist(
            [queries.sorted_core[q]], index.sorted_core[rows], scorer=fuzz.ratio, score_cutoff=cut
        )
        string[s:e] = np.maximum(in_order[0], by_sorted[0])
    passed = np.flatnonzero(string >= cut) if cut > 0 else np.arange(len(string))
    qs, xs, forgiven = queries.sorted_core, index.sorted_core, index.descriptors
    for i, q, x in zip(
        passed.tolist(), query_rows[passed].tolist(), index_rows[passed].tolist(), strict=True
    ):
        out[i] = (string[i] / 100.0 + token_agreement(qs[q], xs[x], forgiven)) / 2
    return out


# ---- matching many names ------------------------------------------------------------------------


@dataclass
class Matches:
    """Name pairs at or above a score: parallel arrays, plus how many candidates per query were scored."""

    query_rows: np.ndarray
    index_rows: np.ndarray
    scores: np.ndarray
    candidates_per_query: np.ndarray


# what forked workers read (set just before the pool starts, so children inherit it without pickling)
_SHARED: dict[str, Any] = {}


def _match_chunk(begin: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    index: NameIndex = _SHARED["index"]
    queries: FormTable = _SHARED["queries"]
    names: FormTable = _SHARED["names"]
    cutoff: float = _SHARED["cutoff"]
    end = min(begin + _SHARED["chunk"], len(queries))
    q, r = index.query_chunk(
        queries.sorted_core[begin:end].tolist(),
        _SHARED["limit"],
        begin,
        _SHARED["query_groups"],
        _SHARED["index_groups"],
    )
    counts = np.bincount(q - begin, minlength=end - begin)
    scores = score_pairs(queries, names, q, r, cutoff)
    keep = scores >= cutoff
    return q[keep], r[keep], scores[keep], counts


def match_names(
    index: NameIndex,
    names: FormTable,
    queries: FormTable,
    config: MatchConfig,
    *,
    query_groups: np.ndarray | None = None,
    index_groups: np.ndarray | None = None,
    workers: int = 1,
    chunk: int = 10_000,
) -> Matches:
    """Every (query, indexed name) pair whose :func:`name_similarity` reaches the review threshold.

    Queries are processed in chunks (candidates, then scores); with ``workers`` > 1 and enough
    queries, chunks are spread over forked processes that share the index copy-on-write (Linux). The
    result does not depend on ``workers``.
    """
    _SHARED.update(
        index=index,
        queries=queries,
        names=names,
        cutoff=config.review_threshold,
        limit=config.max_candidates,
        chunk=chunk,
        query_groups=query_groups,
        index_groups=index_groups,
    )
    starts = list(range(0, len(queries), chunk))
    try:
        if workers > 1 and len(starts) > 1 and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(min(workers, len(starts))) as pool:
                parts = pool.map(_match_chunk, starts, chunksize=1)
        else:
            parts = [_match_chunk(begin) for begin in starts]
    finally:
        _SHARED.clear()
    empty_i, empty_f = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    return Matches(
        np.concatenate([p[0] for p in parts]) if parts else empty_i,
        np.concatenate([p[1] for p in parts]) if parts else empty_i,
        np.concatenate([p[2] for p in parts]) if parts else empty_f,
        np.concatenate([p[3] for p in parts]) if parts else empty_i,
    )


# ---- candidates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A scored pair of entities (``left`` < ``right`` by label and key)."""

    left: Entity
    right: Entity
    score: float
    name_score: float
    left_name: str
    right_name: str
    tokens: int
    penalties: Mapping[str, float] = field(default_factory=dict)

    @property
    def pair(self) -> tuple[NodeRef, NodeRef]:
        return (self.left.ref, self.right.ref)


def _forms(entity: Entity) -> list[NameForm]:
    normalise = company_form if entity.label == "Company" else person_form
    forms: list[NameForm] = []
    seen: set[str] = set()
    for name in entity.names:
        form = normalise(name)
        if form is not None and form.core not in seen:
            seen.add(form.core)
            forms.append(form)
    return forms


def penalties(a: Entity, b: Entity, fa: NameForm, fb: NameForm, config: MatchConfig) -> dict[str, float]:
    """The penalties that apply to a pair, by reason. Empty when nothing conflicts.

    Each applies only when both sides state the attribute and the values differ: an unknown value is
    no evidence either way.
    """
    found: dict[str, float] = {}
    country_a, country_b = country_code(a.country), country_code(b.country)
    countries_differ = bool(country_a and country_b and country_a != country_b)
    if a.label == "Company":
        if countries_differ:
            found["jurisdiction"] = config.jurisdiction_penalty
        if fa.legal_forms and fb.legal_forms and not fa.legal_forms & fb.legal_forms:
            found["legal_form"] = config.legal_form_penalty
        if any(
            kind in b.identifiers and a.identifiers[kind] != b.identifiers[kind] for kind in a.identifiers
        ):
            found["identifier"] = config.identifier_penalty
    else:
        if countries_differ:
            found["nationality"] = config.nationality_penalty
        if a.birth_date and b.birth_date:
            da, db = a.birth_date, b.birth_date
            if not (da.startswith(db) or db.startswith(da)):  # "1960" agrees with "1960-05-01"
                found["birth_date"] = config.birth_date_penalty
    return found


def find_candidates(entities: Sequence[Entity], config: MatchConfig | None = None) -> list[Candidate]:
    """Every pair of entities of one label whose score reaches the review threshold, best first."""
    config = config or MatchConfig()
    labels = {e.label for e in entities}
    if len(labels) > 1:
        raise ValueError(f"find_candidates compares one label at a time, got {sorted(labels)}")
    forms: list[NameForm] = []
    owner: list[int] = []
    for number, entity in enumerate(entities):
        for form in _forms(entity):
            forms.append(form)
            owner.append(number)
    if not forms:
        return []
    groups = np.asarray(owner, dtype=np.int64)
    table = FormTable(forms, DESCRIPTORS if labels == {"Company"} else frozenset())
    index = NameIndex(table.blocking, table.descriptors, config.bucket_cap)
    found = match_names(
        index, table, table, config, query_groups=groups, index_groups=groups, workers=config.workers
    )
    best: dict[tuple[int, int], tuple[float, int, int]] = {}
    for qi, ri, score in zip(
        found.query_rows.tolist(), found.index_rows.tolist(), found.scores.tolist(), strict=True
    ):
        ea, eb = owner[qi], owner[ri]
        key, names = ((ea, eb), (qi, ri)) if ea < eb else ((eb, ea), (ri, qi))
        if key not in best or score > best[key][0]:
            best[key] = (score, *names)
    out: list[Candidate] = []
    for (ea, eb), (name_score, fa, fb) in best.items():
        a, b = entities[ea], entities[eb]
        form_a, form_b = forms[fa], forms[fb]
        if (a.label, a.key) > (b.label, b.key):
            a, b, form_a, form_b = b, a, form_b, form_a
        applied = penalties(a, b, form_a, form_b, config)
        score = round(max(0.0, name_score - sum(applied.values())), 4)
        if score >= config.review_threshold:
            tokens = min(form_a.tokens, form_b.tokens)
            out.append(
                Candidate(
                    a, b, score, round(name_score, 4), form_a.original, form_b.original, tokens, applied
                )
            )
    out.sort(key=lambda c: (-c.score, c.left.key, c.right.key))
    return out


# ---- links ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExistingLink:
    """A POSSIBLY_SAME_AS edge already in the store (only the resolver's own edges are revisited)."""

    left: NodeRef
    right: NodeRef
    score: float | None
    method: str | None
    parameters: str | None
    by_resolver: bool


@dataclass(frozen=True)
class Link:
    """A POSSIBLY_SAME_AS edge to write: canonical order, score, method and parameters."""

    left: NodeRef
    right: NodeRef
    score: float
    method: Method
    parameters: Mapping[str, Any]
    retrieved_at: str | None = None

    @property
    def pair(self) -> tuple[NodeRef, NodeRef]:
        return (self.left, self.right)

    def record(self) -> EdgeRecord:
        """The edge record. Links re-stating an existing edge (retired, rejected) add no provenance."""
        prov = None
        if self.retrieved_at is not None:
            prov = Provenance(RESOLVER_SOURCE, f"{self.left}|{self.right}", self.retrieved_at)
        props = {
            "score": self.score,
            "method": self.method,
            "parameters": json.dumps(self.parameters, sort_keys=True, separators=(",", ":")),
        }
        return EdgeRecord(
            LINK_TYPE, self.left.label, self.left.key, self.right.label, self.right.key, "", props, prov
        )


def canonical(a: NodeRef, b: NodeRef) -> tuple[NodeRef, NodeRef]:
    """The pair in canonical order (by label, then key)."""
    return (a, b) if (a.label, a.key) <= (b.label, b.key) else (b, a)


class _Clusters:
    """Union-find over node refs that can tell whether a union would join nodes judged different."""

    def __init__(self, different: Iterable[tuple[NodeRef, NodeRef]]) -> None:
        self.parent: dict[NodeRef, NodeRef] = {}
        self.apart: dict[NodeRef, set[NodeRef]] = {}
        for a, b in different:
            self.apart.setdefault(a, set()).add(b)
            self.apart.setdefault(b, set()).add(a)
        # for each root, the members of its cluster that some judgement keeps apart from another node
        self.constrained: dict[NodeRef, list[NodeRef]] = {n: [n] for n in self.apart}

    def find(self, node: NodeRef) -> NodeRef:
        root = node
        while (parent := self.parent.get(root, root)) != root:
            root = parent
        while node != root:
            node, self.parent[node] = self.parent[node], root
        return root

    def conflicts(self, a: NodeRef, b: NodeRef) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        small, other = sorted((ra, rb), key=lambda r: len(self.constrained.get(r, ())))
        return any(
            self.find(apart) == other
            for member in self.constrained.get(small, ())
            for apart in self.apart[member]
        )

    def union(self, a: NodeRef, b: NodeRef) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if len(self.constrained.get(ra, ())) > len(self.constrained.get(rb, ())):
            ra, rb = rb, ra
        self.parent[ra] = rb
        moved = self.constrained.pop(ra, [])
        if moved:
            self.constrained.setdefault(rb, []).extend(moved)


@dataclass
class Plan:
    """What a resolver run will write, and the counts for its summary."""

    links: list[Link] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    conflicts: list[tuple[NodeRef, NodeRef]] = field(default_factory=list)

    def records(self) -> list[EdgeRecord]:
        return [link.record() for link in self.links]


def plan_links(
    candidates: Sequence[Candidate],
    judgements: Judgements,
    existing: Sequence[ExistingLink],
    present: set[NodeRef],
    config: MatchConfig | None = None,
) -> Plan:
    """Decide the links to write from scored candidates, human judgements and the edges already there.

    - a pair judged ``same`` gets a link with method ``judgement`` and score 1.0 (when both nodes exist);
    - a pair judged ``different`` is never proposed; an edge the resolver wrote for it earlier is
      rewritten with method ``rejected`` (the store keeps edges, it never deletes them);
    - a candidate at or above the auto threshold whose shorter name has at least ``min_auto_tokens``
      tokens, and which would not join two nodes judged different, gets method ``auto``; every other
      candidate gets ``review``;
    - an edge the resolver wrote earlier that is no longer proposed is rewritten with method
      ``retired`` (its score is kept).
    """
    config = config or MatchConfig()
    base = config.parameters()
    plan = Plan(counts=dict.fromkeys(("auto", "review", "judgement", "rejected", "retired"), 0))
    different = {canonical(j.left, j.right) for j in judgements if j.decision == "different"}
    same = [j for j in judgements if j.decision == "same"]
    clusters = _Clusters(different)
    planned: dict[tuple[NodeRef, NodeRef], Link] = {}
    for judgement in same:
        pair = canonical(judgement.left, judgement.right)
        if pair[0] not in present or pair[1] not in present or pair in planned:
            continue
        clusters.union(*pair)
        params = {"decision": "same", "by": judgement.by, "at": judgement.at, "note": judgement.note}
        planned[pair] = Link(pair[0], pair[1], 1.0, "judgement", params, judgement.at)
    existing_by_pair = {canonical(e.left, e.right): e for e in existing}
    for cand in candidates:
        pair = canonical(*cand.pair)
        if pair in planned:
            continue
        params = {
            **base,
            "name_score": cand.name_score,
            "left_name": cand.left_name,
            "right_name": cand.right_name,
            "penalties": dict(sorted(cand.penalties.items())),
        }
        if pair in different:
            if pair in existing_by_pair:
                planned[pair] = Link(*pair, cand.score, "rejected", {**params, "decision": "different"})
            continue
        method: Method = "review"
        if cand.score >= config.auto_threshold and cand.tokens >= config.min_auto_tokens:
            if clusters.conflicts(*pair):
                plan.conflicts.append(pair)
                params["downgraded"] = "would join entities judged different"
            else:
                clusters.union(*pair)
                method = "auto"
        when = max(cand.left.retrieved_at, cand.right.retrieved_at)
        planned[pair] = Link(*pair, cand.score, method, params, when)
    judged_same = {canonical(j.left, j.right) for j in same}
    for pair, edge in existing_by_pair.items():
        if pair in planned or not edge.by_resolver or pair in judged_same:
            continue  # (a pair judged same but not linked now has a node outside this run: leave it)
        old = json.loads(edge.parameters) if edge.parameters else {}
        fate: Method = "rejected" if pair in different else "retired"
        planned[pair] = Link(*pair, edge.score if edge.score is not None else 0.0, fate, old)
    plan.links = sorted(planned.values(), key=lambda link: (-link.score, str(link.left), str(link.right)))
    for link in plan.links:
        plan.counts[link.method] += 1
    return plan
