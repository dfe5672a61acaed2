"""Mark the addresses of registered agents (loaders/data/registered_agents.yaml) on loaded records.

A registered agent's address is the registered office of thousands of unrelated companies: sharing it
ties nothing together. Each Address record whose text matches an entry gets a second record stating
``registered_agent``, citing the reference table (never the source file, which does not say so).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from graph.keys import normalize_name
from graph.records import NodeRecord, Provenance, Record

TABLE = "registered_agents.yaml"


@dataclass(frozen=True)
class RegisteredAgent:
    """One entry of the reference table."""

    id: str
    agent: str
    match: tuple[str, ...]


@cache
def agents() -> tuple[RegisteredAgent, ...]:
    """The bundled table, validated."""
    raw = yaml.safe_load(resources.files("loaders").joinpath("data", TABLE).read_text(encoding="utf-8"))
    out = []
    for entry in raw["agents"]:
        words = tuple(normalize_name(w) for w in entry["match"])
        if not entry.get("source") or not words or not all(words):
            raise ValueError(f"{TABLE}: entry {entry.get('id')!r} needs an agent, match words and a source")
        out.append(RegisteredAgent(entry["id"], entry["agent"], words))
    return tuple(out)


def agent_of(full: str) -> RegisteredAgent | None:
    """The registered agent whose address this is, or None."""
    text = normalize_name(full)
    for agent in agents():
        if all(word in text for word in agent.match):
            return agent
    return None


def marks(records: Iterable[Record]) -> list[NodeRecord]:
    """A ``registered_agent`` record for every Address record that is a registered agent's address."""
    out: list[NodeRecord] = []
    seen: set[str] = set()
    for record in records:
        if not isinstance(record, NodeRecord) or record.label != "Address" or record.key in seen:
            continue
        full = record.props.get("full")
        agent = agent_of(full) if isinstance(full, str) else None
        if agent is not None:
            seen.add(record.key)
            prov = Provenance("reference:registered-agents", f"{TABLE}#{agent.id}", "")
            out.append(NodeRecord("Address", record.key, {"registered_agent": agent.agent}, prov))
    return out
