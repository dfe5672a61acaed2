"""Watchlists: IMO numbers, MMSIs and names whose changes should raise an alert.

A plain text file, one entry per line, ``#`` starts a comment::

    IMO 9187629              # an IMO ship number (also: imo:9187629, or seven bare digits)
    MMSI 572469210           # an MMSI (also: mmsi:572469210, or nine bare digits)
    National Iranian Tanker Company     # anything else: a company, person or vessel name
    name: 1234 TRADING       # force a name that looks like a number

IMO numbers and MMSIs match exactly: the changed entity's IMO or MMSI, or an old or new value (a new
MMSI, a new owner's IMO company number). Names are normalised as the entity resolver does it
(``graph.resolution.company_form``: ASCII, lower case, legal forms such as Ltd, Corp or S.A. dropped)
and compared with rapidfuzz's ``token_sort_ratio`` against the entity's name and each old and new
value; a score at or above the threshold (default 90) is a match, so "Aurora Maritime Corporation"
matches "AURORA MARITIME CORP" but not "Aurora Shipping Ltd".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from graph.keys import normalize_name
from graph.resolution import company_form

DEFAULT_THRESHOLD = 90.0
_IMO = re.compile(r"^(?:imo[\s:#.]*)(\d{7})$", re.IGNORECASE)
_MMSI = re.compile(r"^(?:mmsi[\s:#.]*)(\d{9})$", re.IGNORECASE)
_NAME = re.compile(r"^(?:name|company|person|vessel)\s*:\s*(.+)$", re.IGNORECASE)


class WatchlistError(ValueError):
    """The watchlist cannot be read."""


@dataclass(frozen=True)
class WatchEntry:
    """One watched identifier or name."""

    kind: str  # imo | mmsi | name
    value: str
    text: str
    line: int

    @property
    def label(self) -> str:
        return {"imo": f"IMO {self.value}", "mmsi": f"MMSI {self.value}"}.get(self.kind, self.text)


def name_form(text: str) -> str:
    """The compared form of a name: the resolver's company form, else the normalised text."""
    form = company_form(text)
    return form.core if form is not None else normalize_name(text).lower()


def parse_watchlist(text: str) -> list[WatchEntry]:
    entries: list[WatchEntry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if m := _NAME.match(line):
            name = name_form(m.group(1))
            if name:
                entries.append(WatchEntry("name", name, m.group(1).strip(), number))
        elif (m := _IMO.match(line)) or re.fullmatch(r"\d{7}", line):
            entries.append(WatchEntry("imo", m.group(1) if m else line, line, number))
        elif (m := _MMSI.match(line)) or re.fullmatch(r"\d{9}", line):
            entries.append(WatchEntry("mmsi", m.group(1) if m else line, line, number))
        else:
            name = name_form(line)
            if name:
                entries.append(WatchEntry("name", name, line, number))
    return entries


def load_watchlist(path: Path) -> list[WatchEntry]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise WatchlistError(f"{path}: no such watchlist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WatchlistError(f"{path}: cannot read the watchlist ({exc})") from None
    return parse_watchlist(text)


def _values(change: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for name in ("entity_name", "old_value", "new_value"):
        value = change.get(name)
        if value:
            out.extend(part.strip() for part in str(value).split(";") if part.strip())
    return out


def match(
    change: Mapping[str, Any], entries: Iterable[WatchEntry], threshold: float = DEFAULT_THRESHOLD
) -> list[str]:
    """The labels of the watchlist entries this change matches."""
    values = _values(change)
    digits = {re.sub(r"\D", "", v) for v in values} | {
        str(change.get("imo") or ""),
        str(change.get("mmsi") or ""),
    }
    names: list[str] | None = None
    hits: list[str] = []
    for entry in entries:
        if entry.kind in ("imo", "mmsi"):
            if entry.value in digits:
                hits.append(entry.label)
            continue
        if names is None:
            names = [n for n in (name_form(v) for v in values) if n]
        if any(fuzz.token_sort_ratio(entry.value, n) >= threshold for n in names):
            hits.append(entry.label)
    return hits


def alert_line(change: Mapping[str, Any], hits: list[str]) -> str:
    """The alert people read: which entry matched, and the change."""
    return (
        f"ALERT [{', '.join(hits)}] {change.get('as_of')} {change.get('source')}: "
        f"{change.get('summary') or change.get('what')}"
    )
