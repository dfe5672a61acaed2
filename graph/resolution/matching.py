"""Matching many names: candidates from the index, then scores, chunk by chunk, optionally forked."""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from typing import Any

import numpy as np

from graph.resolution.blocking import NameIndex
from graph.resolution.config import MatchConfig
from graph.resolution.scoring import FormTable, score_pairs


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
    if not parts:
        empty_i, empty_f = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        return Matches(empty_i, empty_i, empty_f, empty_i)
    return Matches(*(np.concatenate(column) for column in zip(*parts, strict=True)))
