"""Blocking: an inverted index from blocking keys to names, capped buckets, best candidates per query."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from graph.resolution.arrays import ranges, runs
from graph.resolution.tokens import Tokens, token_variants


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
        starts, sizes = runs(keys)
        usable = sizes <= cap
        self.dropped = int((~usable).sum())
        starts, sizes = starts[usable], sizes[usable]
        self.keys = keys[starts]
        self.postings = rows[ranges(starts, sizes)]  # only usable buckets: common keys are the bulk
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
        return np.repeat(rows, sizes), self.postings[ranges(self.starts[pos], sizes)].astype(np.int64)


class NameIndex:
    """An inverted index from blocking keys to names, held in flat numpy arrays.

    Keys of a name (its tokens, sorted, space-separated):

    - each token and each one-letter deletion of it (business descriptors excepted, unless the name
      has nothing else);
    - the whole name;
    - for a *frequent* token (in more than ``bucket_cap`` names but at most ``frequent_cap``): the
      token combined with each variant of every other token of the name (see
      :meth:`Tokens.anchor_keys`).

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
        tokens = Tokens.of(names, descriptors)
        names_per_token = np.bincount(tokens.tids[tokens.distinct], minlength=len(tokens.vocab))
        frequent = np.flatnonzero((names_per_token > bucket_cap) & (names_per_token <= frequent_cap))
        self.frequent: dict[str, int] = {tokens.vocab[i]: hash(tokens.vocab[i]) for i in frequent.tolist()}
        near: dict[str, list[str]] = {}
        for token in self.frequent:
            for variant in token_variants(token):
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

    def _anchors(self, tokens: Tokens, typos: bool) -> list[list[int]]:
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
        self, tokens: Tokens, names: Sequence[str], typos: bool
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
        qrows, qkeys, phrase = self._keys(Tokens.of(names, self.descriptors), names, typos=True)
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
        first, shared = runs(pair)
        pair = pair[first]
        query, cand = pair // self.size, pair % self.size
        order = np.lexsort((cand, -shared, query))
        query, cand = query[order], cand[order]
        starts, lengths = runs(query)
        rank = np.arange(len(query)) - np.repeat(starts, lengths)
        keep = rank < limit
        query, cand = query[keep], cand[keep]
        order = np.lexsort((cand, query))
        return query[order], cand[order]
