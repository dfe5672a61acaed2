"""Time on the Python side of the canned queries, written to match the Cypher exactly.

Dates are ISO-8601 strings in both stores (``YYYY-MM-DD``, sometimes a full timestamp, sometimes only
``YYYY`` or ``YYYY-MM``), so comparisons are plain string comparisons, as in Cypher. The Cypher of every
query spells out the same predicates; this module is the single place the embedded store gets them from.

The "valid at D" predicate of a dated identity period (valid_from / valid_to, null = open or unknown)::

    (valid_from IS NULL OR valid_from <= D) AND (valid_to IS NULL OR valid_to > D)

A period is half-open: on the day an owner changes, the new owner is the valid one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any


def today() -> str:
    """Today's date as ``YYYY-MM-DD``: the default ``as_of`` of every query that involves time."""
    return date.today().isoformat()


def valid_at(props: Mapping[str, Any], d: str) -> bool:
    """True when a relationship's period holds on date ``d`` (undated relationships always hold)."""
    start, end = props.get("valid_from"), props.get("valid_to")
    return (start is None or start <= d) and (end is None or end > d)


def in_change_window(props: Mapping[str, Any], d: str) -> bool:
    """True when ``d`` falls between the snapshots that saw a change of this period's value: after the
    last sighting of the old value and before the first of the new (graph/history.py), where whether
    the period held is unknown. Cypher: ``(r.ended_after < D AND D < r.valid_to) OR (r.began_after < D
    AND D < r.valid_from)``."""
    ended, end = props.get("ended_after"), props.get("valid_to")
    began, start = props.get("began_after"), props.get("valid_from")
    return bool((ended and end and ended < d < end) or (began and start and began < d < start))


def in_force(props: Mapping[str, Any], d: str) -> bool:
    """``valid_at`` for an identity period, which must also carry no ``status``.

    A FLAGGED, NAMED or HAS_CALL_SIGN relationship with a ``status`` ("former", "alias", "other") records
    an undated statement from a list (a former flag, an alias), not a period in force. Cypher:
    ``r.status IS NULL AND <valid at D>``.
    """
    return props.get("status") is None and valid_at(props, d)


def is_period(props: Mapping[str, Any]) -> bool:
    """True for a dated identity period, false for an undated statement (``status`` set)."""
    return props.get("status") is None


def started_by(props: Mapping[str, Any], d: str) -> bool:
    """True when the period began on or before ``d`` (or its start is unknown)."""
    start = props.get("valid_from")
    return start is None or start <= d


def overlaps(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """True when two half-open periods share at least one instant (null ends are open)."""
    a_from, a_to = a.get("valid_from"), a.get("valid_to")
    b_from, b_to = b.get("valid_from"), b.get("valid_to")
    return (a_from is None or b_to is None or a_from < b_to) and (
        b_from is None or a_to is None or b_from < a_to
    )


def day(value: str | None) -> str | None:
    """The date part of an ISO string (Cypher: ``left(value, 10)``); None stays None."""
    return None if value is None else value[:10]


def parse_day(value: str) -> date:
    """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (the first ten characters) like Cypher's ``date()``."""
    text = value[:10]
    if len(text) == 4:
        text += "-01-01"
    elif len(text) == 7:
        text += "-01"
    return date.fromisoformat(text)


def days_between(a: str, b: str) -> int:
    """Whole days from ``a`` to ``b`` (Cypher: ``duration.inDays(date(a), date(b)).days``)."""
    return (parse_day(b) - parse_day(a)).days


def shift(d: str, days: int) -> str:
    """``d`` moved by ``days`` days (Cypher: ``toString(date(d) + duration({days: n}))``)."""
    return (parse_day(d) + timedelta(days=days)).isoformat()
