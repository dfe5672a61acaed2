"""Blocking keys of many names at once, in flat numpy arrays.

A name's keys are its tokens and their one-letter deletions (two-letter deletions for long query
tokens: the symmetric-deletion trick of SymSpell), the whole name, and frequent tokens combined with
each variant of another token. :class:`graph.resolution.blocking.NameIndex` buckets them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from graph.resolution.arrays import csr, ranges

_SALT_A = np.uint64(0x9E3779B97F4A7C15)
_SALT_B = np.uint64(0xC2B2AE3D27D4EB4F)
_ALONE = hash("\x00alone")


def token_variants(token: str) -> set[str]:
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


def key_variants(token: str, one: set[str] | None = None) -> set[str]:
    """:func:`token_variants` (given as ``one`` if already known) and, from :data:`TWO_EDITS_FROM` letters,
    every two-letter deletion too, so tokens two edits apart ("sheipei" / "sheikpeir") still meet."""
    one = token_variants(token) if one is None else one
    if len(token) < TWO_EDITS_FROM:
        return one
    n = len(token) - 1
    return one | {v[:i] + v[i + 1 :] for v in one if len(v) == n for i in range(n)}


def _mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Combine two arrays of 64-bit hashes into one key per pair (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        return ((a.view(np.uint64) * _SALT_A) ^ (b.view(np.uint64) + _SALT_B)).view(np.int64)


@dataclass(eq=False)
class Tokens:
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
    def of(names: Sequence[str], descriptors: frozenset[str]) -> Tokens:
        counts = np.fromiter((c.count(" ") + 1 if c else 0 for c in names), dtype=np.int64, count=len(names))
        flat = " ".join(names).split()
        index: dict[str, int] = {}
        tids = np.fromiter((index.setdefault(t, len(index)) for t in flat), dtype=np.int64, count=len(flat))
        rows = np.repeat(np.arange(len(names), dtype=np.int64), counts)
        vocab = list(index)
        is_descriptor = np.fromiter((t in descriptors for t in vocab), dtype=bool, count=len(vocab))
        plain = ~is_descriptor[tids]
        has_plain = np.bincount(rows, weights=plain, minlength=len(names)) > 0
        return Tokens(vocab, tids, rows, counts, plain | ~has_plain[rows])

    @functools.cached_property
    def one_edit(self) -> list[set[str]]:
        """Per vocabulary token, its :func:`token_variants`."""
        return [token_variants(t) for t in self.vocab]

    @functools.cached_property
    def two_edits(self) -> list[set[str]]:
        """Per vocabulary token, its :func:`key_variants`."""
        return [key_variants(t, one) for t, one in zip(self.vocab, self.one_edit, strict=True)]

    @functools.cached_property
    def _one_edit_hashes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return csr([[hash(v) for v in variants] for variants in self.one_edit])

    def variant_keys(self, two_edits: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(row, key) for every variant of every distinct token (with ``two_edits``: deletions of two)."""
        if two_edits:
            values, starts, lengths = csr([[hash(v) for v in variants] for variants in self.two_edits])
        else:
            values, starts, lengths = self._one_edit_hashes
        entry = np.flatnonzero(self.distinct)
        tids = self.tids[entry]
        n = lengths[tids]
        return np.repeat(self.rows[entry], n), values[ranges(starts[tids], n)]

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
        a_values, a_starts, a_lengths = csr(anchors)
        entry = np.flatnonzero(self.distinct & (a_lengths[self.tids] > 0))
        n = a_lengths[self.tids[entry]]
        anchor = a_values[ranges(a_starts[self.tids[entry]], n)]
        entry = np.repeat(entry, n)
        rows = self.rows[entry]
        alone = self.counts[rows] == 1
        keys = [_mix(anchor[alone], np.full(int(alone.sum()), _ALONE, dtype=np.int64))]
        key_rows = [rows[alone]]
        entry, anchor, rows = entry[~alone], anchor[~alone], rows[~alone]
        row_start = np.cumsum(self.counts) - self.counts
        n = self.counts[rows]
        other = ranges(row_start[rows], n)
        entry, anchor = np.repeat(entry, n), np.repeat(anchor, n)
        keep = other != entry
        other, anchor = other[keep], anchor[keep]
        v_values, v_starts, v_lengths = self._one_edit_hashes
        n = v_lengths[self.tids[other]]
        keys.append(_mix(np.repeat(anchor, n), v_values[ranges(v_starts[self.tids[other]], n)]))
        key_rows.append(np.repeat(self.rows[other], n))
        return np.concatenate(key_rows), np.concatenate(keys)
