"""Evidence per property value: which source records state which value, and which value is current.

A node's ``provenance`` says which records mention the node at all. Its ``claims`` say, property by
property, which record states which value: one string per (property, value, record)

    <property> ␟ <value as text> ␟ <value as JSON> ␟ <date it held> ␟ <provenance JSON>

(the value as JSON is left empty for a string, which the text already is; the date is empty unless
the source states one)

so a dossier or case file cites, for a vessel's deadweight, exactly the records that give that
deadweight, and a value another source states differently is kept with its own sources instead of
being overwritten. The text form is what Cypher's ``toString`` gives for the value, so the Cypher of
a canned query can match claims to the current value without parsing JSON.

The current value of a property (the one stored on the node, shown and queried) is chosen by one
declared rule, never by load order:

1. the claim that speaks for the latest date wins: the date the source says it held (a registry
   snapshot's date), else the day the source was retrieved;
2. then the one retrieved last; ties go to the source whose name sorts first, then to the record,
   then to the value text;
3. list properties (aliases, claimed IMO numbers) are the union of every claimed list, in the order of
   rule 1 from oldest to newest, so that no source's aliases are lost.

Loading the same files in any order, in one write or many, gives the same claims and the same values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

SEP = "\u241f"  # SYMBOL FOR UNIT SEPARATOR: printable, so JSON and Neo4j keep it as one character


def value_text(value: Any) -> str:
    """A value as Neo4j's ``toString`` writes it (booleans, numbers, strings); lists as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value == 0 or 1e-3 <= abs(value) < 1e7:
            return repr(value)
        sign, digits, exp = Decimal(repr(value)).normalize().as_tuple()
        text = "".join(str(d) for d in digits)
        mantissa = text[0] + "." + (text[1:] or "0")
        return ("-" if sign else "") + f"{mantissa}E{len(text) - 1 + int(exp)}"
    if isinstance(value, list | tuple):
        return json.dumps(list(value), ensure_ascii=False, separators=(",", ":"))
    return str(value).replace(SEP, " ")


def claims_of(props: Mapping[str, Any], provenance: str, observed: str | None = None) -> list[str]:
    """The claims a record makes: one per property it states, citing its provenance entry."""
    tail = f"{SEP}{observed or ''}{SEP}{provenance}"
    return [
        # Strings are most values: their text is themselves and they need no JSON copy.
        f"{name}{SEP}{value.replace(SEP, ' ') if SEP in value else value}{SEP}{tail}"
        if type(value) is str
        else f"{name}{SEP}{value_text(value)}{SEP}{_json(value)}{tail}"
        for name, value in props.items()
    ]


def _json(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return ""
    if kind is int:
        return str(value)
    if kind is float and value == value and value not in (float("inf"), float("-inf")):
        return repr(value)
    return json.dumps(
        list(value) if isinstance(value, tuple) else value, ensure_ascii=False, separators=(",", ":")
    )


Order = tuple[str, str, str, str]


@lru_cache(maxsize=262_144)
def parse(claim: str) -> tuple[str, str, Any, str, Order]:
    """(property, value text, value, provenance entry, (date, retrieved_at, source, record)) of a claim."""
    name, text, raw, held, prov = claim.split(SEP, 4)
    data = json.loads(prov)
    retrieved = str(data["retrieved_at"])
    order = ((held or retrieved)[:10], retrieved, str(data["source"]), str(data["record"]))
    return name, text, json.loads(raw) if raw else text, prov, order


def merge(stored: Iterable[str], new: Iterable[str]) -> list[str]:
    """Every claim of both lists once, in one canonical order (so that the order of loads is invisible)."""
    return sorted(set(stored).union(new))


def current_values(claims: Iterable[str], names: Iterable[str] | None = None) -> dict[str, Any]:
    """The current value of each claimed property (of ``names`` only, if given), by the declared rule."""
    wanted = set(names) if names is not None else None
    by_name: dict[str, list[tuple[Order, str, Any]]] = {}
    for claim in claims:
        name, text, value, _, order = parse(claim)
        if wanted is None or name in wanted:
            by_name.setdefault(name, []).append((order, text, value))
    out: dict[str, Any] = {}
    for name, entries in by_name.items():
        if isinstance(entries[0][2], list):
            merged: dict[Any, None] = {}
            for _, _, value in sorted(entries, key=lambda e: (e[0], e[1])):
                merged.update(dict.fromkeys(value))
            out[name] = list(merged)
        else:
            # Latest date, then latest retrieval; among equals the source and record that sort first.
            best = min(entries, key=lambda e: (_neg(e[0][0]), _neg(e[0][1]), e[0][2], e[0][3], e[1]))
            out[name] = best[2]
    return out


class _Neg:
    """Reverses string order inside a sort key."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __lt__(self, other: _Neg) -> bool:
        return self.text > other.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Neg) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)


def _neg(text: str) -> _Neg:
    return _Neg(text)


def sources_for(claims: Iterable[str], name: str, value: Any) -> list[str]:
    """Provenance entries of the claims that state ``value`` for property ``name`` (every claim of a
    list property, since its value is their union)."""
    wanted = value_text(value)
    out: list[str] = []
    for claim in claims:
        cname, text, raw, prov, _ = parse(claim)
        if cname == name and (isinstance(raw, list) or text == wanted):
            out.append(prov)
    return out


def other_values(claims: Iterable[str], current: Mapping[str, Any]) -> dict[tuple[str, str], list[str]]:
    """Values sources state for a property besides its current one: (property, value text) -> provenance."""
    out: dict[tuple[str, str], list[str]] = {}
    for claim in claims:
        name, text, raw, prov, _ = parse(claim)
        if isinstance(raw, list) or name not in current or value_text(current[name]) == text:
            continue
        out.setdefault((name, text), []).append(prov)
    return out


def retract(
    props: Mapping[str, Any], provenance: Iterable[str], claims: Iterable[str], records: Iterable[str]
) -> tuple[dict[str, Any], list[str], list[str]]:
    """A node's properties, provenance and claims once the statements of ``records`` (provenance
    entries) are withdrawn from it: their claims go, each property they touched falls back to its
    current value among the remaining claims, or disappears when no claim remains."""
    gone = set(records)
    kept: list[str] = []
    touched: set[str] = set()
    for claim in claims:
        name, _, _, prov, _ = parse(claim)
        if prov in gone:
            touched.add(name)
        else:
            kept.append(claim)
    out = {k: v for k, v in props.items() if k not in touched}
    out.update(current_values(kept, touched))
    return out, [p for p in provenance if p not in gone], kept
