"""The case file's timeline chart: one lane per vessel, a row per kind of identity period, and its events.

Drawn as inline SVG (no script, no external file): bars for names, flags, MMSIs, call signs, owners and
managers; symbols for STS transfers, port calls, AIS gaps (a black bar over the dark period),
loitering, designations and anomalies. Every shape has a hover title with the exact dates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from queries.casefile.model import CaseFile, Mark, Span
from queries.casefile.svg import KIND_COLOURS, colour_for, element, svg, text

ROW_ORDER = ["name", "flag", "MMSI", "call sign", "owner", "manager", "events"]
WIDTH = 1100.0
LEFT = 190.0
RIGHT = 20.0
ROW_H = 17.0
LANE_GAP = 12.0
TOP = 28.0

Scale = Callable[[str | None, date], float]


def timeline_svg(case: CaseFile) -> str:
    """The timeline of every vessel in the case file, or an empty string when nothing is dated."""
    lanes = list(dict.fromkeys([s.lane for s in case.spans] + [m.lane for m in case.marks]))
    dates = [d for s in case.spans for d in (s.start, s.end) if d] + [m.date for m in case.marks]
    dates += [m.end for m in case.marks if m.end]
    if not lanes or not dates:
        return ""
    first, last = _parse(min(dates)), _parse(max(dates))
    first, last = first - timedelta(days=20), last + timedelta(days=20)
    span_days = max((last - first).days, 1)

    def x(day: str | None, default: date) -> float:
        value = _parse(day) if day else default
        return LEFT + (WIDTH - LEFT - RIGHT) * (value - first).days / span_days

    body: list[str] = [element("rect", x=0, y=0, width=WIDTH, height=1, fill="none")]
    y = TOP
    rows_of: dict[str, list[str]] = {}
    for lane in lanes:
        present = {s.row for s in case.spans if s.lane == lane}
        rows_of[lane] = [r for r in ROW_ORDER if r in present or r == "events"]
    height = TOP + sum(len(r) * ROW_H + LANE_GAP + ROW_H for r in rows_of.values()) + 10
    body.extend(_axis(first, last, x, height))
    for lane in lanes:
        body.append(text(8, y + 12, lane, font_weight="bold", font_size=12))
        y += ROW_H
        for row in rows_of[lane]:
            body.append(text(24, y + 12, row, fill="#555"))
            body.append(element("line", x1=LEFT, y1=y + ROW_H, x2=WIDTH - RIGHT, y2=y + ROW_H, stroke="#eee"))
            if row == "events":
                body.extend(_marks([m for m in case.marks if m.lane == lane], y, x, last))
            else:
                body.extend(
                    _spans([s for s in case.spans if s.lane == lane and s.row == row], y, x, first, last)
                )
            y += ROW_H
        y += LANE_GAP
    return svg(WIDTH, height, body, f"Timeline of {', '.join(lanes)}", "sf-timeline")


def _axis(first: date, last: date, x: Scale, height: float) -> list[str]:
    out = [text(LEFT + 3, TOP - 10, str(first.year), fill="#333")] if first.month > 1 or first.day > 1 else []
    for year in range(first.year, last.year + 2):
        for month in (1, 7):
            tick = date(year, month, 1)
            if first <= tick <= last:
                px = x(tick.isoformat(), first)
                strong = month == 1
                out.append(
                    element(
                        "line", x1=px, y1=TOP - 6, x2=px, y2=height - 4, stroke="#ccc" if strong else "#eee"
                    )
                )
                if strong:
                    out.append(text(px + 3, TOP - 10, str(year), fill="#333"))
    return out


def _spans(spans: list[Span], y: float, x: Scale, first: date, last: date) -> list[str]:
    out = []
    for span in spans:
        x0, x1 = x(span.start, first), x(span.end, last)
        width = max(x1 - x0, 3.0)
        when = f"{span.start or 'unknown start'} to {span.end or 'open'}"
        out.append(
            element(
                "rect",
                title=f"{span.row} {span.label}: {when}",
                x=x0,
                y=y + 2,
                width=width,
                height=ROW_H - 4,
                rx=3,
                fill=colour_for(span.row, span.label),
                stroke="#333",
                stroke_width=0.5,
                class_=f"sf-span sf-span-{span.row.replace(' ', '-')}",
            )
        )
        if width > 7 * len(span.label) * 0.75:
            out.append(text(x0 + 4, y + 12, span.label, font_size=10, fill="#111"))
    return out


def _marks(marks: list[Mark], y: float, x: Scale, last: date) -> list[str]:
    out = []
    mid = y + ROW_H / 2
    for mark in sorted(marks, key=lambda m: (m.kind != "ais gap", m.date)):
        colour = KIND_COLOURS.get(mark.kind, "#555")
        x0 = x(mark.date, last)
        title = f"{mark.label}: {mark.date}" + (
            f" to {mark.end}" if mark.end and mark.end != mark.date else ""
        )
        cls = f"sf-mark sf-mark-{mark.kind.replace(' ', '-')}"
        if mark.kind in {"ais gap", "loitering"} and mark.end:
            x1 = x(mark.end, last)
            out.append(
                element(
                    "rect",
                    title=title,
                    x=x0,
                    y=y + 4,
                    width=max(x1 - x0, 3.0),
                    height=ROW_H - 8,
                    fill=colour,
                    class_=cls,
                )
            )
        elif mark.kind == "sts":
            pts = (
                f"{x0:.1f},{mid - 6:.1f} {x0 + 6:.1f},{mid:.1f} {x0:.1f},{mid + 6:.1f} {x0 - 6:.1f},{mid:.1f}"
            )
            out.append(element("polygon", title=title, points=pts, fill=colour, stroke="#222", class_=cls))
        elif mark.kind == "designation":
            pts = f"{x0:.1f},{mid - 7:.1f} {x0 + 6:.1f},{mid + 5:.1f} {x0 - 6:.1f},{mid + 5:.1f}"
            out.append(element("polygon", title=title, points=pts, fill=colour, stroke="#222", class_=cls))
        else:
            out.append(
                element("circle", title=title, cx=x0, cy=mid, r=4.5, fill=colour, stroke="#222", class_=cls)
            )
    return out


def _parse(day: str) -> date:
    return date.fromisoformat(day[:10])
