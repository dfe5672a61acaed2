"""Small helpers shared by the case file's SVG drawings: escaping, colours, and element builders."""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape, quoteattr

from queries.browser_kit import LOOKS, OTHER_LOOK

# Event colours follow the Browser kit, so the case file and Neo4j Browser read the same way.
KIND_COLOURS = {
    "sts": LOOKS["StsTransfer"].color,
    "port call": LOOKS["PortCall"].color,
    "ais gap": LOOKS["AisGap"].color,
    "loitering": LOOKS["Loitering"].color,
    "designation": LOOKS["Sanction"].color,
    "anomaly": LOOKS["Anomaly"].border,
    "track": "#1F5FBF",
}
SPAN_COLOURS = {
    "name": LOOKS["VesselName"].color,
    "MMSI": LOOKS["Mmsi"].color,
    "call sign": LOOKS["CallSign"].color,
    "owner": LOOKS["Company"].color,
    "manager": "#F5B041",
}
_PALETTE = ["#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#76B7B2", "#EDC948", "#FF9DA7", "#9C755F", "#BAB0AC"]


def colour_for(kind: str, label: str) -> str:
    """A span's colour: by kind, except flags, which get a stable colour per flag so changes stand out."""
    if kind == "flag":
        digest = hashlib.sha1(label.encode("utf-8")).digest()
        return _PALETTE[digest[0] % len(_PALETTE)]
    return SPAN_COLOURS.get(kind, OTHER_LOOK.color)


def text(x: float, y: float, content: str, **attrs: str | float) -> str:
    """A <text> element with escaped content."""
    return (
        f"<text x={quoteattr(f'{x:.1f}')} y={quoteattr(f'{y:.1f}')}{_attrs(attrs)}>{escape(content)}</text>"
    )


def element(tag: str, title: str | None = None, **attrs: str | float) -> str:
    """An element with attributes (``class_`` becomes ``class``) and an optional hover title."""
    inner = f"<title>{escape(title)}</title>" if title else ""
    return f"<{tag}{_attrs(attrs)}>{inner}</{tag}>" if inner else f"<{tag}{_attrs(attrs)}/>"


def svg(width: float, height: float, body: list[str], label: str, css_class: str) -> str:
    """The outer <svg> element, sized and labelled for screen readers."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class={quoteattr(css_class)} role="img" '
        f'aria-label={quoteattr(label)} viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="11">'
        + "".join(body)
        + "</svg>"
    )


def _attrs(attrs: dict[str, str | float]) -> str:
    out = []
    for name, value in attrs.items():
        name = name.rstrip("_").replace("_", "-")
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        out.append(f" {name}={quoteattr(shown)}")
    return "".join(out)
