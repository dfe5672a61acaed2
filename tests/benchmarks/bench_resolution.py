"""Benchmark M1: resolve 100k noisy company names against 1M generated fictional names.

Run from the repository root (not collected by pytest)::

    .venv/bin/python -m tests.benchmarks.bench_resolution            # 1M entities, 100k queries
    .venv/bin/python -m tests.benchmarks.bench_resolution --entities 100000 --queries 10000 --sample 200
    .venv/bin/python -m tests.benchmarks.bench_resolution --json resolution.json   # also save the figures

Measures, on seeded synthetic data:

- end-to-end time of the blocked matcher (normalise both sides, build the index, find candidates,
  score them with rapidfuzz, keep pairs at or above the review threshold), stage by stage;
- peak RSS of the process;
- recall against an exhaustive comparison: for ``--sample`` queries, every one of the 1M names is
  scored with rapidfuzz ``cdist`` (same scorer, same threshold) and recall is the share of those
  pairs the blocked matcher also found;
- the naive baseline's throughput (exhaustive pairs per second) and the time it would need for all
  queries, for the ratio.

Names are fictional: pseudo-words built from syllables (Zipf-distributed, so some are common), plus
shipping-industry words and legal forms. Queries copy an entity name and add realistic noise
(abbreviations, legal-form changes, typos, swapped words, punctuation); one in ten is a fresh name.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rapidfuzz
from rapidfuzz import fuzz, process

from graph.resolution import (
    DESCRIPTORS,
    FormTable,
    MatchConfig,
    NameForm,
    NameIndex,
    company_form,
    match_names,
    name_similarity,
    string_cutoff,
)

ONSETS = [
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr",
    "kr", "st", "tr", "th", "sh", "ch", "pl", "kl", "vr", "zh",
]  # fmt: skip
VOWELS = ["a", "e", "i", "o", "u", "ai", "ei", "ou", "ia", "y"]
CODAS = ["", "", "", "n", "r", "s", "l", "x", "k", "m", "nd", "rt", "st"]
INDUSTRY = [
    "shipping", "maritime", "marine", "navigation", "tankers", "trading", "logistics", "ocean", "energy",
    "petroleum", "holdings", "international", "management", "lines", "carriers", "transport", "global",
    "star", "sea", "pacific", "gulf", "bulk", "services", "offshore", "chartering", "agency", "enterprises",
    "group",
]  # fmt: skip
LEGAL = [
    "ltd", "limited", "co ltd", "inc", "llc", "sa", "corp", "corporation", "co", "gmbh", "pte ltd", "fze",
    "jsc", "",
]  # fmt: skip
LEGAL_WEIGHTS = [20, 10, 12, 6, 10, 10, 5, 3, 6, 2, 4, 2, 3, 7]
ABBREVIATE = {
    "shipping": "shpg",
    "international": "intl",
    "management": "mgmt",
    "navigation": "nav",
    "trading": "trdg",
    "holdings": "hldgs",
    "services": "svcs",
    "corporation": "corp",
    "enterprises": "entp",
    "group": "grp",
}
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def log(message: str) -> None:
    """Progress on stderr (the figures go to stdout)."""
    print(message, file=sys.stderr)


def children_cpu() -> float:
    """CPU seconds used by finished child processes (the forked workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size so far, in MiB (Linux reports KiB): of this process, or with
    ``resource.RUSAGE_CHILDREN`` of the largest child (the forked workers)."""
    return resource.getrusage(who).ru_maxrss / 1024


@dataclass
class Generator:
    """Seeded fictional company names and noisy queries."""

    seed: int
    vocabulary: int = 300_000
    rng: random.Random = field(init=False)
    words: list[str] = field(init=False)
    cum: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        syllables = [o + v + c for o in ONSETS for v in VOWELS for c in CODAS]
        seen: set[str] = set()
        words: list[str] = []
        while len(words) < self.vocabulary:
            word = "".join(self.rng.choices(syllables, k=self.rng.choice((2, 2, 3))))
            if 4 <= len(word) <= 12 and word not in seen:
                seen.add(word)
                words.append(word)
        self.words = words
        # Zipf-like frequencies: a few thousand words are shared by more than 60 names
        self.cum = list(itertools.accumulate(1.0 / (r + 50) for r in range(len(words))))

    def distinctive(self, k: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum, k=k)

    def name(self) -> str:
        rng = self.rng
        shape = rng.random()
        if shape < 0.7:
            tokens = self.distinctive(2 if rng.random() < 0.3 else 1) + rng.sample(
                INDUSTRY, rng.choice((1, 1, 2))
            )
        elif shape < 0.9:
            tokens = self.distinctive(2)
        else:
            tokens = self.distinctive(1) + rng.sample(INDUSTRY, 1)
        legal = rng.choices(LEGAL, weights=LEGAL_WEIGHTS)[0]
        text = " ".join(tokens + ([legal] if legal else []))
        return text.upper() if rng.random() < 0.6 else text.title()

    def typo(self, token: str) -> str:
        rng = self.rng
        if len(token) < 3:
            return token
        i = rng.randrange(len(token))
        op = rng.randrange(4)
        if op == 0:
            return token[:i] + rng.choice(LETTERS) + token[i + 1 :]
        if op == 1:
            return token[:i] + token[i + 1 :]
        if op == 2:
            return token[:i] + rng.choice(LETTERS) + token[i:]
        j = min(i + 1, len(token) - 1)
        chars = list(token)
        chars[i], chars[j] = chars[j], chars[i]
        return "".join(chars)

    def noisy(self, name: str) -> str:
        """One to three edits of the kinds seen between two lists naming one company."""
        rng = self.rng
        tokens = name.lower().split()
        for _ in range(rng.choice((1, 1, 2, 3))):
            op = rng.randrange(6)
            if op == 0:  # abbreviate an industry word
                tokens = [ABBREVIATE.get(t, t) if rng.random() < 0.8 else t for t in tokens]
            elif op == 1:  # change the legal form
                if tokens and tokens[-1] in {
                    "ltd",
                    "limited",
                    "llc",
                    "inc",
                    "co",
                    "sa",
                    "corp",
                    "jsc",
                    "fze",
                }:
                    tokens = tokens[:-1]
                tokens.append(rng.choice(("ltd", "limited", "co", "")))
            elif op == 2:  # one typo
                i = rng.randrange(len(tokens))
                tokens[i] = self.typo(tokens[i])
            elif op == 3 and len(tokens) > 1:  # swap two adjacent words
                i = rng.randrange(len(tokens) - 1)
                tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
            elif op == 4:  # punctuation
                i = rng.randrange(len(tokens))
                tokens[i] += rng.choice((",", ".", " &", "-"))
            else:  # keep as is (case only)
                pass
        text = " ".join(t for t in tokens if t)
        return text.upper() if rng.random() < 0.5 else text.title()

    def queries(self, names: Sequence[str], count: int) -> tuple[list[str], list[int]]:
        """Noisy copies of random names (source index) and, one in ten, fresh names (source -1)."""
        out, source = [], []
        for _ in range(count):
            if self.rng.random() < 0.9:
                i = self.rng.randrange(len(names))
                out.append(self.noisy(names[i]))
                source.append(i)
            else:
                out.append(self.name())
                source.append(-1)
        return out, source


def normalise(names: Sequence[str]) -> FormTable:
    """Company forms of the names; a name that normalises to nothing gets an empty form."""
    forms = [company_form(name) or NameForm(name, "", "") for name in names]
    return FormTable(forms, DESCRIPTORS)


def blocked_match(
    entities: FormTable, queries: FormTable, config: MatchConfig, stages: dict[str, float]
) -> tuple[dict[int, dict[int, float]], dict[str, Any]]:
    """The blocked matcher: index, then candidates and scores (``config.workers`` processes)."""
    t = time.perf_counter()
    index = NameIndex(entities.blocking, DESCRIPTORS, config.bucket_cap)
    stages["build_index"] = time.perf_counter() - t
    t = time.perf_counter()
    matches = match_names(index, entities, queries, config, workers=config.workers)
    stages["candidates_and_scores"] = time.perf_counter() - t
    found: dict[int, dict[int, float]] = {}
    for q, r, score in zip(
        matches.query_rows.tolist(), matches.index_rows.tolist(), matches.scores.tolist(), strict=True
    ):
        found.setdefault(q, {})[r] = score
    per_query = matches.candidates_per_query
    info = {
        "index_mib": round(index.nbytes / 2**20, 1),
        "index_keys": index.key_count,
        "frequent_tokens": len(index.frequent),
        "keys_dropped_over_cap": index.dropped_keys,
        "candidate_pairs": int(per_query.sum()),
        "candidates_per_query_mean": round(float(per_query.mean()), 1) if len(per_query) else 0,
        "candidates_per_query_p99": int(np.percentile(per_query, 99)) if len(per_query) else 0,
        "candidates_per_query_max": int(per_query.max()) if len(per_query) else 0,
        "queries_without_candidates": int((per_query == 0).sum()),
    }
    return found, info


def exhaustive(
    entities: FormTable, queries: FormTable, sample: Sequence[int], threshold: float, workers: int
) -> tuple[dict[int, dict[int, float]], float, int]:
    """The naive baseline: every sampled query against every entity, same scorer and threshold.

    Whole names go through rapidfuzz ``cdist`` (two passes: tokens in order and sorted); the few
    pairs that pass are checked on their distinctive parts, exactly as :func:`score_pairs` does.
    """
    cut = string_cutoff(threshold)
    truth: dict[int, dict[int, float]] = {}
    started = time.perf_counter()
    for begin in range(0, len(sample), 50):
        chunk = list(sample[begin : begin + 50])
        best = np.maximum(
            process.cdist(queries.core[chunk], entities.core, scorer=fuzz.ratio, score_cutoff=cut,
                          dtype=np.float32, workers=workers),
            process.cdist(queries.sorted_core[chunk], entities.sorted_core, scorer=fuzz.ratio,
                          score_cutoff=cut, dtype=np.float32, workers=workers),
        )  # fmt: skip
        for row, q in enumerate(chunk):
            hits = {}
            for r in np.flatnonzero(best[row] >= cut).tolist():
                score = name_similarity(queries.forms[q], entities.forms[r], entities.descriptors)
                if score >= threshold:
                    hits[r] = score
            truth[q] = hits
        del best
    seconds = time.perf_counter() - started
    return truth, seconds, 2 * len(sample) * len(entities)


def recall_at(
    truth: dict[int, dict[int, float]], found: dict[int, dict[int, float]], threshold: float
) -> tuple[int, float | None]:
    """Number of all-pairs matches at or above ``threshold``, and the share the blocked matcher found."""
    expected = hit = 0
    for q, pairs in truth.items():
        mine = found.get(q, {})
        for r, score in pairs.items():
            if score >= threshold:
                expected += 1
                hit += r in mine
    return expected, (round(hit / expected, 4) if expected else None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=1_000, help="queries checked exhaustively for recall")
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    config = MatchConfig()

    t = time.perf_counter()
    gen = Generator(args.seed)
    names = [gen.name() for _ in range(args.entities)]
    queries, source = gen.queries(names, args.queries)
    generate_s = time.perf_counter() - t
    log(f"generated {len(names):,} names and {len(queries):,} queries in {generate_s:.1f} s")
    rss_before = peak_rss_mib()

    stages: dict[str, float] = {}
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time() + children_cpu()
    entities = normalise(names)
    stages["normalise_entities"] = time.perf_counter() - started
    t = time.perf_counter()
    query_table = normalise(queries)
    stages["normalise_queries"] = time.perf_counter() - t
    found, info = blocked_match(entities, query_table, config, stages)
    end_to_end = time.perf_counter() - started
    cpu = time.process_time() + children_cpu() - cpu_started
    load_after = os.getloadavg()[0]
    rss_after = peak_rss_mib()
    log(f"blocked matcher: {end_to_end:.1f} s end to end ({cpu:.1f} s CPU), peak RSS {rss_after:.0f} MiB")

    sample = sorted(random.Random(args.seed + 1).sample(range(len(queries)), min(args.sample, len(queries))))
    truth, naive_s, naive_pairs = exhaustive(
        entities, query_table, sample, config.review_threshold, config.workers
    )
    log(f"exhaustive: {len(sample)} queries x {len(names):,} names in {naive_s:.1f} s")
    recall = {
        f"{t:.2f}": recall_at(truth, found, t)
        for t in (config.review_threshold, 0.90, 0.95, config.auto_threshold)
    }
    missed = [
        (queries[q], names[r], round(score, 3))
        for q, pairs in truth.items()
        for r, score in sorted(pairs.items())
        if r not in found.get(q, {})
    ][:10]
    rate = naive_pairs / naive_s
    full_naive_s = 2 * len(queries) * len(names) / rate
    noisy = [i for i, s in enumerate(source) if s >= 0]
    source_found = sum(1 for i in noisy if source[i] in found.get(i, {}))

    result = {
        "command": "python -m tests.benchmarks.bench_resolution " + " ".join(argv or sys.argv[1:]),
        "machine": {
            "python": platform.python_version(),
            "rapidfuzz": rapidfuzz.__version__,
            "cpus": os.cpu_count(),
            "load_average_at_start": round(load_before, 2),
            "load_average_at_end": round(load_after, 2),
        },
        "entities": len(names),
        "queries": len(queries),
        "generate_seconds": round(generate_s, 1),
        "end_to_end_seconds": round(end_to_end, 1),
        "end_to_end_cpu_seconds": round(cpu, 1),
        "stages_seconds": {k: round(v, 2) for k, v in stages.items()},
        "queries_per_second": round(len(queries) / end_to_end),
        "peak_rss_mib": round(rss_after),
        "peak_rss_worker_mib": round(peak_rss_mib(resource.RUSAGE_CHILDREN)),
        "peak_rss_before_matching_mib": round(rss_before),
        **info,
        "matches_at_review_threshold": sum(len(v) for v in found.values()),
        "recall_sample_queries": len(sample),
        "recall_by_threshold": {t: {"all_pairs_matches": n, "recall": r} for t, (n, r) in recall.items()},
        "missed_examples": missed,
        "noisy_queries_source_found": round(source_found / max(len(noisy), 1), 4),
        "naive_pairs_per_second": round(rate),
        "naive_sample_seconds": round(naive_s, 1),
        "naive_full_estimate_seconds": round(full_naive_s),
        "speedup_vs_naive": round(full_naive_s / end_to_end, 1),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
