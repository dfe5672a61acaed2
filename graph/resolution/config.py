"""The matcher's settings: thresholds, penalties and blocking limits, and how a link records them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph.resolution.normalise import NORMALISER_VERSION
from graph.resolution.scoring import SCORER


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds, penalties and blocking limits. Scores are on a 0..1 scale.

    The penalties are subtracted from the name similarity when both sides state the attribute and the
    values differ. ``jurisdiction_penalty``, ``identifier_penalty`` and ``legal_form_penalty`` (two
    different specific legal forms: "LIMITED" against "GMBH", "L.L.C." against "FZE", "E.V." against
    "ASBL", which OFAC and the UN use for distinct branches of one organisation) are sized so that
    identical names with such a conflict score 0.90: below the auto threshold, inside the review band.
    ``birth_date_penalty`` takes identical person names with different birth dates below the review
    threshold altogether. ``number_penalty`` does the same for names that differ in a
    number ("... INVESTMENTS" and "... INVESTMENTS II", "... INFRASTRUCTURE 2"): in company names a
    number names another entity, as OpenSanctions' matcher treats a number mismatch.
    """

    auto_threshold: float = 0.98
    review_threshold: float = 0.85
    jurisdiction_penalty: float = 0.10
    legal_form_penalty: float = 0.10
    identifier_penalty: float = 0.10
    nationality_penalty: float = 0.05
    birth_date_penalty: float = 0.20
    number_penalty: float = 0.30
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
