"""Fuzzy entity resolution for companies and persons: normalise names, block, score, classify.

Exact merges already happen on keys (IMO company number, LEI, registration number: see
``graph.keys.company_key``). This package finds the rest: nodes with different keys whose names are
alike. It is pure: it takes entities and judgements and returns scored links and the edge records that
express them; reading and writing the store is the caller's business (``shadowfleet.commands.resolve``).

Pipeline (docs/resolution.md has the reasoning and the benchmark), one module a step:

1. **Normalise** each name (:mod:`.normalise`: :func:`company_form`, :func:`person_form`): transliterate
   to ASCII, drop punctuation, strip legal forms with rigour's org-type table (ISO 20275 + OCCRP list:
   "Co., Ltd.", "Pte Ltd", "OOO", "S.A. de C.V." ...), expand the business abbreviations in
   :data:`ABBREVIATIONS` ("SHPG" -> "shipping") and drop generic words ("company", "corporation").
2. **Block** with :class:`NameIndex` (:mod:`.blocking`, keys from :mod:`.tokens`): token keys (each
   token and its one-letter deletions) in buckets capped at ``bucket_cap`` names, plus phrase keys
   (whole name; a frequent token combined with each variant of another token); each query keeps at
   most ``max_candidates`` names, those sharing the most keys.
3. **Score** candidates (:mod:`.scoring`: :func:`name_similarity`; many at once in :mod:`.matching`):
   the mean of rapidfuzz's Indel ratio of the names and a one-to-one token agreement, best over every
   pair of names (aliases included), minus penalties for conflicting attributes (jurisdiction, legal
   form, identifiers; nationality and birth date for persons) (:mod:`.candidates`).
4. **Classify** (:mod:`.links`: :func:`plan_links`): ``score >= auto_threshold`` is an automatic link,
   ``review_threshold <= score < auto_threshold`` needs review, anything lower is dropped. Nothing
   below the auto threshold is treated as the same entity. Judgements (``graph.judgements``) win.

The entities (:mod:`.entities`) and the settings (:mod:`.config`) are what every step shares.
"""

from graph.resolution.blocking import NameIndex
from graph.resolution.candidates import Candidate, find_candidates, penalties
from graph.resolution.config import MatchConfig
from graph.resolution.entities import RESOLVABLE_LABELS, Entity, country_code, entity_from_node
from graph.resolution.links import (
    LINK_TYPE,
    RESOLVER_SOURCE,
    SAME_ENTITY_METHODS,
    ExistingLink,
    Link,
    Method,
    Plan,
    canonical,
    plan_links,
)
from graph.resolution.matching import Matches, match_names
from graph.resolution.normalise import (
    ABBREVIATIONS,
    DESCRIPTORS,
    GENERIC_WORDS,
    NORMALISER_VERSION,
    NameForm,
    company_form,
    person_form,
)
from graph.resolution.scoring import (
    DESCRIPTOR_WEIGHT,
    SCORER,
    FormTable,
    name_similarity,
    score_pairs,
    string_cutoff,
    token_agreement,
)
from graph.resolution.tokens import TWO_EDITS_FROM

__all__ = [
    "ABBREVIATIONS",
    "DESCRIPTORS",
    "DESCRIPTOR_WEIGHT",
    "GENERIC_WORDS",
    "LINK_TYPE",
    "NORMALISER_VERSION",
    "RESOLVABLE_LABELS",
    "RESOLVER_SOURCE",
    "SAME_ENTITY_METHODS",
    "SCORER",
    "TWO_EDITS_FROM",
    "Candidate",
    "Entity",
    "ExistingLink",
    "FormTable",
    "Link",
    "MatchConfig",
    "Matches",
    "Method",
    "NameForm",
    "NameIndex",
    "Plan",
    "canonical",
    "company_form",
    "country_code",
    "entity_from_node",
    "find_candidates",
    "match_names",
    "name_similarity",
    "penalties",
    "person_form",
    "plan_links",
    "score_pairs",
    "string_cutoff",
    "token_agreement",
]
