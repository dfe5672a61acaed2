"""Candidates: scored pairs of entities, name similarity minus penalties for conflicting attributes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from graph.judgements import NodeRef
from graph.resolution.blocking import NameIndex
from graph.resolution.config import MatchConfig
from graph.resolution.entities import Entity, country_code
from graph.resolution.matching import match_names
from graph.resolution.normalise import DESCRIPTORS, NameForm, company_form, name_numbers, person_form
from graph.resolution.scoring import FormTable


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
        """The two node refs, left first."""
        return (self.left.ref, self.right.ref)


# A trailing "(KOMID)" or "(AAA)": lists append an entity's acronym to its name.
_TRAILING_ACRONYM = re.compile(r"\s*\(\s*[A-Za-z0-9&.\-]{2,12}\s*\)\s*$")


def _forms(entity: Entity) -> list[NameForm]:
    normalise = company_form if entity.label == "Company" else person_form
    forms: list[NameForm] = []
    seen: set[str] = set()
    for given in entity.names:
        stripped = _TRAILING_ACRONYM.sub("", given)
        for name in (given, stripped) if stripped and stripped != given else (given,):
            form = normalise(name)
            if form is not None and form.core not in seen:
                seen.add(form.core)
                forms.append(form)
    return forms


def _numbers(form: NameForm) -> frozenset[str]:
    return name_numbers(form.original)


def penalties(a: Entity, b: Entity, fa: NameForm, fb: NameForm, config: MatchConfig) -> dict[str, float]:
    """The penalties that apply to a pair, by reason. Empty when nothing conflicts.

    Each applies only when both sides state the attribute and the values differ: an unknown value is
    no evidence either way.
    """
    found: dict[str, float] = {}
    country_a, country_b = country_code(a.country), country_code(b.country)
    countries_differ = bool(country_a and country_b and country_a != country_b)
    if _numbers(fa) != _numbers(fb):
        found["number"] = config.number_penalty
    if a.label == "Company":
        if countries_differ:
            found["jurisdiction"] = config.jurisdiction_penalty
        elif a.address_countries and b.address_countries and not a.address_countries & b.address_countries:
            found["address_country"] = config.jurisdiction_penalty
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
