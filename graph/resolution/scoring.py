"""Scoring: how alike two normalised names are, 0..1, one pair at a time or a batch of candidates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from graph.resolution.arrays import runs
from graph.resolution.normalise import NameForm

SCORER = "mean(indel ratio of names (best of tokens in order, sorted), one-to-one token agreement)"

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
    first, lengths = runs(query_rows)
    starts, ends = first.tolist(), (first + lengths).tolist()
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
