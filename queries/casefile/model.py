"""What a case file holds, independent of how it is drawn: claims with footnotes, a timeline, map features,
the subgraph behind the findings, and what the data does not show.

Every claim points at footnotes; a footnote names the canned query and parameters that reproduce the fact,
the columns a result row must have (``expect``), and the sources of that row. The Cypher printed in the
case file is the query's own (queries/<name>.yaml), so a reader can paste it into Neo4j Browser and a test
can run it and find the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Footnote:
    """How to reproduce one fact: a canned query, its parameters, and the row it must return."""

    number: int
    query: str
    params: dict[str, Any]
    expect: dict[str, Any]
    sources: tuple[dict[str, str], ...] = ()


@dataclass
class Claim:
    """One sentence of findings in plain words, with the footnotes that support it."""

    text: str
    footnotes: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.footnotes = list(dict.fromkeys(self.footnotes))


@dataclass
class Section:
    """A titled group of claims (the summary, or one vessel)."""

    title: str
    claims: list[Claim] = field(default_factory=list)
    anchor: str = ""


@dataclass(frozen=True)
class Span:
    """A dated identity period on the timeline: a name, a flag, an MMSI, an owner or a manager."""

    lane: str
    row: str
    label: str
    start: str | None
    end: str | None
    kind: str
    current: bool | None = None


@dataclass(frozen=True)
class Mark:
    """A dated event on the timeline: a port call, an STS transfer, an AIS gap, a designation."""

    lane: str
    date: str
    end: str | None
    label: str
    kind: str


@dataclass(frozen=True)
class Place:
    """A positioned feature for the map: a point, or a line (an AIS gap's two ends, a track)."""

    kind: str
    label: str
    points: tuple[tuple[float, float], ...]  # (lat, lon)
    date: str | None = None


@dataclass(frozen=True)
class PictureNode:
    """A node of the subgraph picture."""

    key: str
    label: str
    caption: str


@dataclass(frozen=True)
class PictureEdge:
    """A relationship of the subgraph picture."""

    src: str
    dst: str
    type: str


@dataclass
class CaseFile:
    """Everything a case file shows, ready to be rendered as HTML or Markdown."""

    title: str
    subject: str
    as_of: str
    generated_at: str
    store: str
    sections: list[Section] = field(default_factory=list)
    footnotes: list[Footnote] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    nodes: list[PictureNode] = field(default_factory=list)
    edges: list[PictureEdge] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    table_columns: list[str] = field(default_factory=list)
    table_rows: list[dict[str, Any]] = field(default_factory=list)
    query_name: str | None = None
    query_params: dict[str, Any] = field(default_factory=dict)
    mmsis: dict[str, list[str]] = field(default_factory=dict)  # vessel name -> MMSIs it used

    def cite(
        self,
        query: str,
        params: dict[str, Any],
        expect: dict[str, Any],
        sources: list[dict[str, str]] | tuple[dict[str, str], ...] = (),
    ) -> int:
        """Add a footnote (or find the same one already added) and return its number."""
        for note in self.footnotes:
            if note.query == query and note.params == params and note.expect == expect:
                return note.number
        note = Footnote(len(self.footnotes) + 1, query, dict(params), dict(expect), tuple(sources))
        self.footnotes.append(note)
        return note.number
