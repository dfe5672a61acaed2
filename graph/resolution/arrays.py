"""Vectorised helpers for the flat numpy arrays that blocking and scoring work on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + n)`` for every (s, n), vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts.astype(np.int64) - offsets, lengths) + np.arange(total, dtype=np.int64)


def csr(lists: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flatten a list of int lists: (values, starts, lengths)."""
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    values = np.fromiter((v for x in lists for v in x), dtype=np.int64, count=int(lengths.sum()))
    return values, np.cumsum(lengths) - lengths, lengths


def runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, length) of each run of equal neighbours in ``values`` (grouped, e.g. sorted)."""
    if not len(values):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    starts = np.concatenate(([0], np.flatnonzero(values[1:] != values[:-1]) + 1))
    return starts, np.diff(np.concatenate((starts, [len(values)])))
