"""Links: classify candidates into POSSIBLY_SAME_AS edges (auto, review), honouring human judgements.

Judgements win: a pair judged ``same`` is linked by ``judgement``, a pair judged ``different`` is never
proposed, and an auto link that would join two nodes judged different is sent to review. Edges the
resolver wrote earlier and no longer proposes are rewritten as ``rejected`` or ``retired``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from graph.judgements import Judgements, NodeRef
from graph.records import EdgeRecord, Provenance
from graph.resolution.candidates import Candidate
from graph.resolution.config import MatchConfig

RESOLVER_SOURCE = "resolver"
LINK_TYPE = "POSSIBLY_SAME_AS"

Method = Literal["auto", "review", "judgement", "rejected", "retired"]
#: Methods whose links mean "the same entity" in queries. Everything else is a candidate at most.
SAME_ENTITY_METHODS: tuple[str, ...] = ("auto", "judgement")


@dataclass(frozen=True)
class ExistingLink:
    """A POSSIBLY_SAME_AS edge already in the store (only the resolver's own edges are revisited)."""

    left: NodeRef
    right: NodeRef
    score: float | None
    method: str | None
    parameters: str | None
    by_resolver: bool


@dataclass(frozen=True)
class Link:
    """A POSSIBLY_SAME_AS edge to write: canonical order, score, method and parameters."""

    left: NodeRef
    right: NodeRef
    score: float
    method: Method
    parameters: Mapping[str, Any]
    retrieved_at: str | None = None

    @property
    def pair(self) -> tuple[NodeRef, NodeRef]:
        """The two node refs, in canonical order."""
        return (self.left, self.right)

    def record(self) -> EdgeRecord:
        """The edge record. Links re-stating an existing edge (retired, rejected) add no provenance."""
        prov = None
        if self.retrieved_at is not None:
            prov = Provenance(RESOLVER_SOURCE, f"{self.left}|{self.right}", self.retrieved_at)
        props = {
            "score": self.score,
            "method": self.method,
            "parameters": json.dumps(self.parameters, sort_keys=True, separators=(",", ":")),
        }
        return EdgeRecord(
            LINK_TYPE, self.left.label, self.left.key, self.right.label, self.right.key, "", props, prov
        )


def canonical(a: NodeRef, b: NodeRef) -> tuple[NodeRef, NodeRef]:
    """The pair in canonical order (by label, then key)."""
    return (a, b) if (a.label, a.key) <= (b.label, b.key) else (b, a)


class _Clusters:
    """Union-find over node refs that can tell whether a union would join nodes judged different."""

    def __init__(self, different: Iterable[tuple[NodeRef, NodeRef]]) -> None:
        self.parent: dict[NodeRef, NodeRef] = {}
        self.apart: dict[NodeRef, set[NodeRef]] = {}
        for a, b in different:
            self.apart.setdefault(a, set()).add(b)
            self.apart.setdefault(b, set()).add(a)
        # for each root, the members of its cluster that some judgement keeps apart from another node
        self.constrained: dict[NodeRef, list[NodeRef]] = {n: [n] for n in self.apart}

    def find(self, node: NodeRef) -> NodeRef:
        root = node
        while (parent := self.parent.get(root, root)) != root:
            root = parent
        while node != root:
            node, self.parent[node] = self.parent[node], root
        return root

    def conflicts(self, a: NodeRef, b: NodeRef) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        small, other = sorted((ra, rb), key=lambda r: len(self.constrained.get(r, ())))
        return any(
            self.find(apart) == other
            for member in self.constrained.get(small, ())
            for apart in self.apart[member]
        )

    def union(self, a: NodeRef, b: NodeRef) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if len(self.constrained.get(ra, ())) > len(self.constrained.get(rb, ())):
            ra, rb = rb, ra
        self.parent[ra] = rb
        moved = self.constrained.pop(ra, [])
        if moved:
            self.constrained.setdefault(rb, []).extend(moved)


@dataclass
class Plan:
    """What a resolver run will write, and the counts for its summary."""

    links: list[Link] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    conflicts: list[tuple[NodeRef, NodeRef]] = field(default_factory=list)

    def records(self) -> list[EdgeRecord]:
        """The edge records of the planned links, in plan order."""
        return [link.record() for link in self.links]


def plan_links(
    candidates: Sequence[Candidate],
    judgements: Judgements,
    existing: Sequence[ExistingLink],
    present: set[NodeRef],
    config: MatchConfig | None = None,
) -> Plan:
    """Decide the links to write from scored candidates, human judgements and the edges already there.

    - a pair judged ``same`` gets a link with method ``judgement`` and score 1.0 (when both nodes exist);
    - a pair judged ``different`` is never proposed; an edge the resolver wrote for it earlier is
      rewritten with method ``rejected`` (the store keeps edges, it never deletes them);
    - a candidate at or above the auto threshold whose shorter name has at least ``min_auto_tokens``
      tokens, and which would not join two nodes judged different, gets method ``auto``; every other
      candidate gets ``review``;
    - an edge the resolver wrote earlier that is no longer proposed is rewritten with method
      ``retired`` (its score is kept).
    """
    config = config or MatchConfig()
    base = config.parameters()
    plan = Plan(counts=dict.fromkeys(("auto", "review", "judgement", "rejected", "retired"), 0))
    different = {canonical(j.left, j.right) for j in judgements if j.decision == "different"}
    same = [j for j in judgements if j.decision == "same"]
    clusters = _Clusters(different)
    planned: dict[tuple[NodeRef, NodeRef], Link] = {}
    for judgement in same:
        pair = canonical(judgement.left, judgement.right)
        if pair[0] not in present or pair[1] not in present or pair in planned:
            continue
        clusters.union(*pair)
        params = {"decision": "same", "by": judgement.by, "at": judgement.at, "note": judgement.note}
        planned[pair] = Link(pair[0], pair[1], 1.0, "judgement", params, judgement.at)
    existing_by_pair = {canonical(e.left, e.right): e for e in existing}
    for cand in candidates:
        pair = canonical(*cand.pair)
        if pair in planned:
            continue
        params = {
            **base,
            "name_score": cand.name_score,
            "left_name": cand.left_name,
            "right_name": cand.right_name,
            "penalties": dict(sorted(cand.penalties.items())),
        }
        if pair in different:
            if pair in existing_by_pair:
                planned[pair] = Link(*pair, cand.score, "rejected", {**params, "decision": "different"})
            continue
        method: Method = "review"
        if cand.score >= config.auto_threshold and cand.tokens >= config.min_auto_tokens:
            if clusters.conflicts(*pair):
                plan.conflicts.append(pair)
                params["downgraded"] = "would join entities judged different"
            else:
                clusters.union(*pair)
                method = "auto"
        when = max(cand.left.retrieved_at, cand.right.retrieved_at)
        planned[pair] = Link(*pair, cand.score, method, params, when)
    judged_same = {canonical(j.left, j.right) for j in same}
    for pair, edge in existing_by_pair.items():
        if pair in planned or not edge.by_resolver or pair in judged_same:
            continue  # (a pair judged same but not linked now has a node outside this run: leave it)
        old = json.loads(edge.parameters) if edge.parameters else {}
        fate: Method = "rejected" if pair in different else "retired"
        planned[pair] = Link(*pair, edge.score if edge.score is not None else 0.0, fate, old)
    plan.links = sorted(planned.values(), key=lambda link: (-link.score, str(link.left), str(link.right)))
    for link in plan.links:
        plan.counts[link.method] += 1
    return plan
