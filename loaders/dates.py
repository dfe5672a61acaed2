"""Dates as they appear in real files, to ISO strings.

Accepted: ISO dates and timestamps, YYYYMMDD, YYYY/MM/DD, numeric day-month-year with ``/ . -``
separators (the order of day and month is declared, never guessed), month names ("12 Mar 2021",
"23-MAR-2006", "March 12, 2021"), epoch seconds or milliseconds (timestamps only) and, where partial
dates are allowed, "2021" or "2021-03". Anything else raises ValueError.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

ORDERS = ("DMY", "MDY", "YMD")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_TIME = r"(?:[T ]+(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?P<tz>Z|UTC|[+-]\d{2}:?\d{2})?)?"
_ISO = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})" + _TIME + "$", re.I)
_YMD = re.compile(r"^(?P<y>\d{4})[/.](?P<m>\d{1,2})[/.](?P<d>\d{1,2})" + _TIME + "$", re.I)
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_NUMERIC = re.compile(r"^(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{4}|\d{2})" + _TIME + "$", re.I)
_DAY_MONTH = re.compile(
    r"^(?P<d>\d{1,2})(?:st|nd|rd|th)?[\s\-/.]+(?P<mon>[a-z]+)\.?[\s\-/.,]+(?P<y>\d{4})$", re.I
)
_MONTH_DAY = re.compile(r"^(?P<mon>[a-z]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})$", re.I)
_PARTIAL = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{1,2}))?$")
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?$")


def _year(text: str) -> int:
    if len(text) == 4:
        return int(text)
    two = int(text)
    pivot = date.today().year % 100 + 1
    return 2000 + two if two <= pivot else 1900 + two


def _make(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"not a valid date: {raw!r}") from None


def _month(name: str, raw: str) -> int:
    try:
        return _MONTHS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown month in {raw!r}") from None


def _split(raw: str, order: str) -> tuple[date, str | None, str | None]:
    """The calendar date, and the time of day and zone when the text carries them."""
    text = " ".join(raw.strip().split())
    if order not in ORDERS:
        raise ValueError(f"date order must be one of {', '.join(ORDERS)}, not {order!r}")
    for pattern in (_ISO, _YMD):
        m = pattern.match(text)
        if m:
            return _make(int(m["y"]), int(m["m"]), int(m["d"]), raw), m["time"], m["tz"]
    m = _COMPACT.match(text)
    if m:
        return _make(int(m["y"]), int(m["m"]), int(m["d"]), raw), None, None
    m = _NUMERIC.match(text)
    if m:
        if order == "YMD":
            raise ValueError(f"{raw!r} is not year-first as the mapping declares")
        a, b = int(m["a"]), int(m["b"])
        day, month = (b, a) if order == "MDY" else (a, b)
        return _make(_year(m["y"]), month, day, raw), m["time"], m["tz"]
    m = _DAY_MONTH.match(text) or _MONTH_DAY.match(text)
    if m:
        return _make(int(m["y"]), _month(m["mon"], raw), int(m["d"]), raw), None, None
    raise ValueError(f"unrecognised date {raw!r}")


def parse_date(raw: str, order: str = "DMY", partial: bool = False) -> str:
    """An ISO date (YYYY-MM-DD) from ``raw``; with ``partial``, "2021" and "2021-03" pass through."""
    text = raw.strip()
    if partial:
        m = _PARTIAL.match(text)
        if m:
            if m["m"] is None:
                return m["y"]
            month = int(m["m"])
            if not 1 <= month <= 12:
                raise ValueError(f"not a valid month: {raw!r}")
            return f"{m['y']}-{month:02d}"
    day, _, _ = _split(text, order)
    return day.isoformat()


def parse_datetime(raw: str, order: str = "DMY") -> str:
    """An ISO timestamp in UTC ("2021-03-12T14:30:00Z") when ``raw`` has a time, else an ISO date.

    A time without a zone is taken as UTC. Ten- or thirteen-digit numbers are epoch seconds or
    milliseconds.
    """
    text = raw.strip()
    if _EPOCH.match(text):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        return _iso(datetime.fromtimestamp(seconds, tz=UTC))
    day, time, tz = _split(text, order)
    if time is None:
        return day.isoformat()
    parts = [float(p.replace(",", ".")) for p in time.split(":")]
    hour, minute, second = [*parts, 0.0, 0.0][:3]
    if hour > 23 or minute > 59 or second >= 61:
        raise ValueError(f"not a valid time: {raw!r}")
    stamp = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        hours=hour, minutes=minute, seconds=int(second)
    )
    if tz and tz.upper() not in ("Z", "UTC"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        stamp -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return _iso(stamp)


def _iso(stamp: datetime) -> str:
    return stamp.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
