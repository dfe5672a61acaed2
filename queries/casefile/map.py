"""The case file's map: event positions and AIS tracks over a real coastline, drawn offline as SVG.

Web Mercator over the box that holds the features (padded, at least a few degrees wide), land from the
bundled Natural Earth 1:50m polygons (graph/coastline.py), a graticule with degree labels, and a legend.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from graph.coastline import polygons_in
from queries.casefile.model import Place
from queries.casefile.svg import KIND_COLOURS, element, svg, text

WIDTH = 900.0
MAX_HEIGHT = 700.0
PAD_DEG = 1.0
MIN_SPAN_DEG = 4.0
LEGEND = [
    ("sts", "STS transfer"),
    ("port call", "port call (at the port)"),
    ("ais gap", "AIS gap, ends joined"),
    ("loitering", "loitering"),
    ("track", "AIS track"),
]

Projection = Callable[[float, float], tuple[float, float]]


def map_svg(places: list[Place]) -> str:
    """The map of ``places``, or an empty string when none has a position."""
    points = [pt for place in places for pt in place.points]
    if not points:
        return ""
    south, north = min(p[0] for p in points), max(p[0] for p in points)
    west, east = min(p[1] for p in points), max(p[1] for p in points)
    south, north = _widen(south - PAD_DEG, north + PAD_DEG)
    west, east = _widen(west - PAD_DEG, east + PAD_DEG)
    south, north = max(south, -80.0), min(north, 84.0)
    x0, x1 = math.radians(west), math.radians(east)
    y0, y1 = _merc(south), _merc(north)
    scale = WIDTH / (x1 - x0)
    height = (y1 - y0) * scale
    if height > MAX_HEIGHT:  # a tall box: widen it so the map keeps a readable shape
        scale = MAX_HEIGHT / (y1 - y0)
        extra = (WIDTH / scale - (x1 - x0)) / 2
        x0, x1 = x0 - extra, x1 + extra
        west, east = math.degrees(x0), math.degrees(x1)
        height = MAX_HEIGHT

    def project(lat: float, lon: float) -> tuple[float, float]:
        return (math.radians(lon) - x0) * scale, (y1 - _merc(lat)) * scale

    body = [
        '<defs><clipPath id="sf-map-clip"><rect x="0" y="0" '
        f'width="{WIDTH:.0f}" height="{height:.0f}"/></clipPath></defs>',
        element("rect", x=0, y=0, width=WIDTH, height=height, fill="#dbe9f6", class_="sf-sea"),
        '<g clip-path="url(#sf-map-clip)">',
    ]
    land = []
    for polygon in polygons_in(west, south, east, north):
        for ring in polygon:
            coords = " L".join(f"{px:.1f},{py:.1f}" for px, py in (project(lat, lon) for lon, lat in ring))
            land.append(f"M{coords}Z")
    body.append(
        element(
            "path",
            d=" ".join(land),
            fill="#f4f1e8",
            stroke="#8c8c7c",
            stroke_width=0.6,
            fill_rule="evenodd",
            class_="sf-land",
        )
    )
    body.extend(_graticule(west, south, east, north, project, height))
    labelled: list[tuple[float, float]] = []
    for place in sorted(places, key=lambda p: (p.kind != "track", p.kind, p.date or "")):
        body.extend(_feature(place, project, labelled))
    body.append("</g>")
    body.extend(_legend(height, {p.kind for p in places}))
    body.append(
        text(
            WIDTH - 6,
            height - 6,
            "coastline: Natural Earth 1:50m",
            text_anchor="end",
            fill="#666",
            font_size=9,
        )
    )
    return svg(WIDTH, height, body, "Map of the case's positions", "sf-map")


def _feature(place: Place, project: Projection, labelled: list[tuple[float, float]]) -> list[str]:
    """The shapes of one place; its label only where no earlier label sits (the hover title always has it)."""
    colour = KIND_COLOURS.get(place.kind, "#555")
    xy = [project(lat, lon) for lat, lon in place.points]
    cls = f"sf-place sf-place-{place.kind.replace(' ', '-')}"
    if place.kind == "track":
        path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        return [
            element(
                "path",
                title=f"AIS track of {place.label}",
                d=path,
                fill="none",
                stroke=colour,
                stroke_width=1.2,
                stroke_opacity=0.7,
                class_=cls,
            )
        ]
    if place.kind == "ais gap" and len(xy) == 2:
        (ax, ay), (bx, by) = xy
        return [
            element(
                "line",
                title=place.label,
                x1=ax,
                y1=ay,
                x2=bx,
                y2=by,
                stroke=colour,
                stroke_width=1.5,
                stroke_dasharray="4 3",
                class_=cls,
            ),
            element("circle", cx=ax, cy=ay, r=3, fill="#fff", stroke=colour),
            element("circle", cx=bx, cy=by, r=3, fill=colour, stroke=colour),
        ]
    x, y = xy[0]
    if place.kind == "sts":
        pts = f"{x:.1f},{y - 7:.1f} {x + 7:.1f},{y:.1f} {x:.1f},{y + 7:.1f} {x - 7:.1f},{y:.1f}"
        shape = element("polygon", title=place.label, points=pts, fill=colour, stroke="#222", class_=cls)
    else:
        shape = element("circle", title=place.label, cx=x, cy=y, r=5, fill=colour, stroke="#222", class_=cls)
    if any(abs(x - lx) < 90 and abs(y - ly) < 12 for lx, ly in labelled):
        return [shape]
    labelled.append((x, y))
    return [shape, text(x + 8, y - 6, place.label, font_size=9, fill="#222")]


def _graticule(
    west: float, south: float, east: float, north: float, project: Projection, height: float
) -> list[str]:
    extent = max(east - west, north - south)
    step = next(s for s in (1, 2, 5, 10, 20, 30) if extent / s <= 12)
    out = []
    lon = math.ceil(west / step) * step
    while lon <= east:
        x, _ = project(0.0, lon)
        out.append(element("line", x1=x, y1=0, x2=x, y2=height, stroke="#9bb5cf", stroke_width=0.4))
        out.append(
            text(x + 2, height - 18, f"{abs(lon)}°{'E' if lon >= 0 else 'W'}", font_size=9, fill="#557")
        )
        lon += step
    lat = math.ceil(south / step) * step
    while lat <= north:
        _, y = project(lat, west)
        out.append(element("line", x1=0, y1=y, x2=WIDTH, y2=y, stroke="#9bb5cf", stroke_width=0.4))
        out.append(text(3, y - 2, f"{abs(lat)}°{'N' if lat >= 0 else 'S'}", font_size=9, fill="#557"))
        lat += step
    return out


def _legend(height: float, kinds: set[str]) -> list[str]:
    shown = [(k, label) for k, label in LEGEND if k in kinds]
    box_h = 16 * len(shown) + 8
    out = [
        element(
            "rect", x=WIDTH - 190, y=8, width=182, height=box_h, fill="#fff", fill_opacity=0.85, stroke="#999"
        )
    ]
    for i, (kind, label) in enumerate(shown):
        y = 20 + 16 * i
        out.append(element("circle", cx=WIDTH - 178, cy=y - 3, r=5, fill=KIND_COLOURS[kind], stroke="#222"))
        out.append(text(WIDTH - 166, y + 1, label, font_size=10))
    return out


def _widen(low: float, high: float) -> tuple[float, float]:
    if high - low >= MIN_SPAN_DEG:
        return low, high
    middle = (low + high) / 2
    return middle - MIN_SPAN_DEG / 2, middle + MIN_SPAN_DEG / 2


def _merc(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
