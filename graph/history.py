"""Fold snapshot observations into dated identity periods.

A registry snapshot says "on date D the vessel flew flag T". Successive snapshots build a history:
consecutive observations of the same value extend one period; a different value closes the open
period (``valid_to`` = the date the change was first seen) and opens a new one. Nothing is overwritten:
each value held is its own relationship, keyed by the date it was first seen.

The fold is pure: given the periods already stored and the new observations it returns the edge
records to upsert. Each period keeps its sightings (date and provenance of every observation), so when
an observation older than the stored history arrives, the store folds all of them again from scratch
(``replay``): loading snapshots in any order gives the same periods, each citing exactly the records
that saw it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graph.records import EdgeRecord, Provenance


@dataclass
class Period:
    """One stored or new period of a single-valued identity attribute (or a multi-valued link)."""

    other_label: str
    other: str
    key: str
    props: dict[str, Any]
    record: EdgeRecord | None = None
    changed: bool = False
    provenance: list[Any] = field(default_factory=list)

    @property
    def start(self) -> str:
        return self.props.get("valid_from") or self.props.get("first_seen") or ""


SIGHTING_SEP = "\u241f"
# Properties the fold computes; everything else on a period is what the source stated.
FOLDED = frozenset(
    {"valid_from", "valid_to", "first_seen", "last_seen", "began_after", "ended_after", "sightings"}
)


def sighting(obs: EdgeRecord) -> str:
    """One observation as kept on its period: ``<date>␟<provenance JSON>`` (empty without provenance), so
    that the periods can be folded again exactly when an older snapshot arrives later."""
    return f"{obs.observed or ''}{SIGHTING_SEP}{obs.provenance.encode() if obs.provenance else ''}"


def _observed_props(obs: EdgeRecord) -> dict[str, Any]:
    props = dict(obs.props)
    props["first_seen"] = obs.observed
    props["last_seen"] = obs.observed
    props["sightings"] = [sighting(obs)]
    return props


def _add_sighting(period: Period, obs: EdgeRecord) -> bool:
    seen = period.props.get("sightings")
    if seen is None:
        return False
    entry = sighting(obs)
    if entry in seen:
        return False
    period.props["sightings"] = sorted([*seen, entry])
    return True


def replayable(periods: Iterable[Period]) -> bool:
    """True when every period was built from sightings that it keeps (so it can be folded again)."""
    return all(p.props.get("sightings") for p in periods)


def replay(
    periods: Iterable[Period], rel_type: str, subject: tuple[str, str], subject_is_src: bool
) -> list[EdgeRecord]:
    """The observations stored periods were folded from, back as records (each with its provenance)."""
    out: list[EdgeRecord] = []
    for period in periods:
        stated = {k: v for k, v in period.props.items() if k not in FOLDED}
        for entry in period.props.get("sightings") or ():
            date, _, prov = entry.partition(SIGHTING_SEP)
            provenance = Provenance.decode(prov) if prov else None
            if subject_is_src:
                ends = (subject[0], subject[1], period.other_label, period.other)
            else:
                ends = (period.other_label, period.other, subject[0], subject[1])
            out.append(EdgeRecord(rel_type, *ends, "", stated, provenance, observed=date))
    return out


def fold_single_valued(
    existing: list[Period], observations: Iterable[EdgeRecord], subject_is_src: bool
) -> list[Period]:
    """Fold observations of one subject's single-valued attribute into its periods.

    Returns the periods that were created or changed; each carries the record to write.
    """
    periods = sorted(existing, key=lambda p: p.start)
    touched: list[Period] = []
    for obs in sorted(observations, key=lambda o: o.observed or ""):
        date = obs.observed or ""
        other_label, other = (obs.dst_label, obs.dst) if subject_is_src else (obs.src_label, obs.src)
        before = [p for p in periods if p.start <= date]
        after = [p for p in periods if p.start > date]
        current = before[-1] if before else None
        if (
            current is not None
            and current.other == other
            and current.other_label == other_label
            and (current.props.get("valid_to") is None or date < current.props["valid_to"])
        ):
            if date > (current.props.get("last_seen") or ""):
                current.props["last_seen"] = date
                current.changed = True
            if _add_sighting(current, obs):
                current.changed = True
            if obs.provenance is not None:
                current.provenance.append(obs.provenance)
                current.changed = True
            current.record = current.record or obs
            _touch(touched, current)
            continue
        props = _observed_props(obs)
        props["valid_from"] = date if current is not None else None
        props["valid_to"] = after[0].start if after else None
        # Seen between two snapshots, the change is dated by an interval, not a day: it happened after
        # the last sighting of the old value and by the first sighting of the new one.
        last_seen = current.props.get("last_seen") if current is not None else None
        if last_seen is not None and last_seen < date:
            props["began_after"] = last_seen
        new = Period(other_label, other, date, props, record=obs, changed=True)
        if obs.provenance is not None:
            new.provenance.append(obs.provenance)
        if current is not None and (
            current.props.get("valid_to") is None or current.props["valid_to"] > date
        ):
            current.props["valid_to"] = date
            if last_seen is not None and last_seen < date:
                current.props["ended_after"] = last_seen
            current.changed = True
            _touch(touched, current)
        periods.append(new)
        periods.sort(key=lambda p: p.start)
        _touch(touched, new)
    return touched


def fold_multi_valued(existing: list[Period], observations: Iterable[EdgeRecord]) -> list[Period]:
    """Observations of a many-valued link (shareholder, director): widen first_seen/last_seen."""
    by_other = {(p.other_label, p.other, p.key): p for p in existing}
    touched: list[Period] = []
    for obs in observations:
        date = obs.observed or ""
        found = by_other.get((obs.dst_label, obs.dst, obs.key))
        if found is None:
            found = Period(obs.dst_label, obs.dst, obs.key, _observed_props(obs), record=obs, changed=True)
            by_other[(obs.dst_label, obs.dst, obs.key)] = found
        else:
            first, last = found.props.get("first_seen"), found.props.get("last_seen")
            if first is None or date < first:
                found.props["first_seen"] = date
                found.changed = True
            if last is None or date > last:
                found.props["last_seen"] = date
                found.changed = True
            found.props.update({k: v for k, v in obs.props.items() if found.props.get(k) != v})
            _add_sighting(found, obs)
            found.record = found.record or obs
        if obs.provenance is not None:
            found.provenance.append(obs.provenance)
            found.changed = True
        _touch(touched, found)
    return touched


def _touch(touched: list[Period], period: Period) -> None:
    if all(p is not period for p in touched):
        touched.append(period)


def group_observations(
    observations: Iterable[EdgeRecord], subject_end: dict[str, str | None]
) -> dict[tuple[str, str, str, str], list[EdgeRecord]]:
    """Group observed edges by (type, subject end, subject label, subject key)."""
    groups: dict[tuple[str, str, str, str], list[EdgeRecord]] = defaultdict(list)
    for obs in observations:
        end = subject_end.get(obs.type) or "from"
        label, key = (obs.src_label, obs.src) if end == "from" else (obs.dst_label, obs.dst)
        groups[(obs.type, end, label, key)].append(obs)
    return groups
