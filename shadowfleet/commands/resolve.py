"""`shadowfleet resolve run|review|decide`: fuzzy entity resolution of companies and persons.

- ``run`` scores every pair of Company (and Person) nodes with similar names and writes
  POSSIBLY_SAME_AS links: method ``auto`` at or above the auto threshold (treated as the same entity
  in queries), ``review`` in the band below it, ``judgement`` for pairs a reviewer confirmed.
- ``review`` lists the links still awaiting a human decision, best first.
- ``decide LEFT RIGHT same|different`` records a decision in the judgements file and applies it.

The matcher itself is ``graph.resolution`` (pure); this module reads and writes the store.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.config import open_store
from graph.identity.merge import Relocation, merge, split
from graph.judgements import Judgement, Judgements, NodeRef, editing
from graph.records import Provenance
from graph.resolution import (
    LINK_TYPE,
    RESOLVABLE_LABELS,
    RESOLVER_SOURCE,
    ExistingLink,
    MatchConfig,
    Plan,
    canonical,
    entity_from_node,
    find_candidates,
    plan_links,
)
from graph.resolution.entities import Entity, country_code
from graph.resolution.links import Link
from graph.store import EdgeView, NodeView, Store, WriteStats
from shadowfleet.output import emit_document, emit_rows

REVIEW_COLUMNS = ["score", "method", "left", "left_name", "right", "right_name", "penalties"]


# ---- store reads the Store interface does not offer (yet) -----------------------------------------


def all_nodes(store: Store, label: str) -> list[NodeView]:
    """Every node of one label, read in key-ordered batches (one round trip per batch)."""
    return [node for batch in store.scan_nodes(label) for node in batch]


def _link_edges(store: Store, refs: Iterable[NodeRef]) -> list[EdgeView]:
    """POSSIBLY_SAME_AS edges leaving the given nodes."""
    by_label: dict[str, list[str]] = {}
    for ref in refs:
        by_label.setdefault(ref.label, []).append(ref.key)
    out: list[EdgeView] = []
    for label, keys in sorted(by_label.items()):
        out.extend(store.edges(label, sorted(set(keys)), [LINK_TYPE], "out"))
    return out


def _by_resolver(provenance: Sequence[str]) -> bool:
    for entry in provenance:
        try:
            if Provenance.decode(entry).source == RESOLVER_SOURCE:
                return True
        except (ValueError, KeyError, TypeError):
            continue
    return False


def _existing(edges: Iterable[EdgeView]) -> list[ExistingLink]:
    return [
        ExistingLink(
            NodeRef(e.src_label, e.src),
            NodeRef(e.dst_label, e.dst),
            e.props.get("score"),
            e.props.get("method"),
            e.props.get("parameters"),
            _by_resolver(e.provenance),
        )
        for e in edges
    ]


def _present(store: Store, refs: Iterable[NodeRef]) -> set[NodeRef]:
    """Which of these nodes exist in the store."""
    by_label: dict[str, list[str]] = {}
    for ref in refs:
        by_label.setdefault(ref.label, []).append(ref.key)
    found: set[NodeRef] = set()
    for label, keys in by_label.items():
        if label in store.schema.nodes:
            found.update(NodeRef(label, k) for k in store.get_nodes(label, sorted(set(keys))))
    return found


# ---- the resolver flow ----------------------------------------------------------------------------


@dataclass
class ResolveReport:
    """What a resolver run found and wrote."""

    entities: dict[str, int] = field(default_factory=dict)
    candidates: int = 0
    plan: Plan = field(default_factory=Plan)
    written: WriteStats = field(default_factory=WriteStats)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "entities": dict(sorted(self.entities.items())),
            "candidates": self.candidates,
            "links_auto": self.plan.counts.get("auto", 0),
            "links_review": self.plan.counts.get("review", 0),
            "links_judgement": self.plan.counts.get("judgement", 0),
            "links_rejected": self.plan.counts.get("rejected", 0),
            "links_retired": self.plan.counts.get("retired", 0),
            "auto_downgraded_by_judgement": len(self.plan.conflicts),
            "relationships_created": self.written.edges_created,
            "relationships_merged": self.written.edges_merged,
            "seconds": round(self.seconds, 2),
        }


def resolve(
    store: Store,
    *,
    config: MatchConfig | None = None,
    judgements: Judgements | None = None,
    labels: Sequence[str] = RESOLVABLE_LABELS,
    dry_run: bool = False,
) -> ResolveReport:
    """Score the store's companies and persons, apply judgements, write POSSIBLY_SAME_AS links.

    Idempotent: a second run over the same data and judgements writes the same edges with the same
    properties and provenance, so the store does not change.
    """
    started = time.perf_counter()
    config = config or MatchConfig()
    judgements = judgements if judgements is not None else Judgements()
    report = ResolveReport()
    candidates = []
    refs: set[NodeRef] = set()
    for label in labels:
        entities = [entity_from_node(label, n.key, n.props, n.provenance) for n in all_nodes(store, label)]
        if label == "Company":
            entities = with_address_countries(store, entities)
        report.entities[label] = len(entities)
        refs.update(e.ref for e in entities)
        candidates.extend(find_candidates(entities, config))
    report.candidates = len(candidates)
    judged = {ref for j in judgements for ref in (j.left, j.right)}
    present = refs | _present(store, judged - refs)
    existing = _existing(_link_edges(store, present))
    report.plan = plan_links(candidates, judgements, existing, present, config)
    if not dry_run and report.plan.links:
        report.written = store.write(report.plan.records())
    report.seconds = time.perf_counter() - started
    return report


def with_address_countries(store: Store, entities: list[Entity]) -> list[Entity]:
    """The companies with the countries of their registered addresses (two batched reads)."""
    keys = [e.key for e in entities]
    links = store.edges("Company", keys, ["REGISTERED_AT"], "out")
    addresses = store.get_nodes("Address", sorted({e.dst for e in links}))
    countries: dict[str, set[str]] = {}
    for edge in links:
        address = addresses.get(edge.dst)
        code = country_code(address.props.get("country")) if address else None
        if code:
            countries.setdefault(edge.src, set()).add(code)
    return [
        dataclasses.replace(e, address_countries=frozenset(countries[e.key])) if e.key in countries else e
        for e in entities
    ]


def apply_judgement(store: Store, judgement: Judgement) -> WriteStats:
    """Put one decision into the graph now.

    ``same`` merges the two nodes into one (the one with the stronger key survives: IMO company number,
    LEI, registration number, then a name key; graph/identity/merge.py), so every query, dossier and
    case file sees one entity. ``different`` splits a pair merged earlier (by a judgement or by the
    identity rules) and leaves a ``rejected`` link, which no rule crosses again; an existing
    resolver link between them is rewritten as ``rejected``.
    """
    pair = canonical(judgement.left, judgement.right)
    if judgement.left.label == judgement.right.label:
        merged = _merged(store, *pair)
        if judgement.decision == "same" and merged is None:
            survivor, source = sorted(pair, key=_survivor_order)
            return store.apply(merge(store, survivor.label, source.key, survivor.key))
        if judgement.decision == "different" and merged is not None:
            survivor, source = merged
            stats = store.apply(split(store, survivor.label, survivor.key, source.key))
            link = Link(*pair, 1.0, "rejected", {"judgement": "different"}, judgement.at)
            stats.add(store.apply(Relocation(records=[link.record()])))
            return stats
    existing = [
        e for e in _existing(_link_edges(store, pair)) if canonical(e.left, e.right) == pair and e.by_resolver
    ]
    plan = plan_links([], Judgements([judgement]), existing, _present(store, pair))
    if not plan.links:
        return WriteStats()
    return store.write(plan.records())


def _survivor_order(ref: NodeRef) -> tuple[int, str]:
    """Which of two nodes survives a merge: the strongest key first, then key order."""
    return (-KEY_STRENGTH.get(ref.key.split(":", 1)[0], 0), ref.key)


KEY_STRENGTH = {"imoco": 4, "lei": 3, "reg": 2, "imo": 4}


def _merged(store: Store, a: NodeRef, b: NodeRef) -> tuple[NodeRef, NodeRef] | None:
    """(survivor, merged) when one of the two nodes holds the other's key among its source keys."""
    found = store.get_nodes(a.label, [a.key, b.key])
    for survivor, source in ((a, b), (b, a)):
        node = found.get(survivor.key)
        if node is not None and source.key in (node.props.get("source_keys") or ()):
            return survivor, source
    return None


def pending_reviews(
    store: Store,
    judgements: Judgements,
    labels: Sequence[str] = RESOLVABLE_LABELS,
    include_auto: bool = False,
) -> list[dict[str, Any]]:
    """Links awaiting a human decision (method ``review``, plus ``auto`` if asked), best first."""
    methods = {"review", "auto"} if include_auto else {"review"}
    refs = [NodeRef(label, n.key) for label in labels for n in all_nodes(store, label)]
    rows = []
    for edge in _existing(_link_edges(store, refs)):
        if edge.method not in methods or judgements.get(edge.left, edge.right) is not None:
            continue
        params = json.loads(edge.parameters) if edge.parameters else {}
        rows.append(
            {
                "score": edge.score,
                "method": edge.method,
                "left": str(edge.left),
                "left_name": params.get("left_name"),
                "right": str(edge.right),
                "right_name": params.get("right_name"),
                "penalties": ", ".join(f"{k} -{v}" for k, v in (params.get("penalties") or {}).items()),
            }
        )
    rows.sort(key=lambda r: (-(r["score"] or 0.0), r["left"], r["right"]))
    return rows


# ---- command line ---------------------------------------------------------------------------------


def _unit_interval(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not in (0, 1]")
    return value


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "resolve", parents=[common], help="link companies and persons whose names match (fuzzy)"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    judgements = argparse.ArgumentParser(add_help=False)
    judgements.add_argument(
        "--judgements", type=Path, help="decisions file (default: $SHADOWFLEET_HOME/judgements.yaml)"
    )
    labels = argparse.ArgumentParser(add_help=False)
    labels.add_argument(
        "--label",
        action="append",
        choices=RESOLVABLE_LABELS,
        help="resolve only this label (repeatable; default: Company and Person)",
    )

    run_p = actions.add_parser(
        "run", parents=[common, judgements, labels], help="score pairs and write POSSIBLY_SAME_AS links"
    )
    run_p.add_argument(
        "--threshold",
        type=_unit_interval,
        default=MatchConfig.auto_threshold,
        help="auto-link threshold (default %(default)s)",
    )
    run_p.add_argument(
        "--review-threshold",
        type=_unit_interval,
        default=MatchConfig.review_threshold,
        help="lowest score kept as a candidate for review (default %(default)s)",
    )
    run_p.add_argument("--dry-run", action="store_true", help="score and count, write nothing")
    run_p.set_defaults(handler=run)

    review_p = actions.add_parser(
        "review", parents=[common, judgements, labels], help="list candidate pairs awaiting a decision"
    )
    review_p.add_argument("--limit", type=int, default=50, help="show at most N pairs (default 50)")
    review_p.add_argument("--include-auto", action="store_true", help="list automatic links too")
    review_p.set_defaults(handler=run)

    decide_p = actions.add_parser(
        "decide", parents=[common, judgements], help="record that two nodes are the same or different"
    )
    decide_p.add_argument(
        "left", metavar="LEFT", help="node as Label:key (e.g. Company:imoco:5145892) or key"
    )
    decide_p.add_argument("right", metavar="RIGHT", help="the other node")
    decide_p.add_argument("decision", choices=("same", "different"))
    decide_p.add_argument("--note", default="", help="why (kept in the judgements file)")
    decide_p.add_argument("--by", help="reviewer name (default: $SHADOWFLEET_USER or the login name)")
    decide_p.add_argument(
        "--no-apply", action="store_true", help="only record the decision; the next `resolve run` applies it"
    )
    decide_p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "run":
        return _run(args)
    if args.action == "review":
        return _review(args)
    return _decide(args)


def _run(args: argparse.Namespace) -> int:
    if args.review_threshold > args.threshold:
        raise ValueError(
            f"--review-threshold ({args.review_threshold}) must not exceed --threshold ({args.threshold})"
        )
    config = MatchConfig(auto_threshold=args.threshold, review_threshold=args.review_threshold)
    judgements = Judgements.load(args.judgements)
    with open_store(args.store) as store:
        report = resolve(
            store,
            config=config,
            judgements=judgements,
            labels=args.label or RESOLVABLE_LABELS,
            dry_run=args.dry_run,
        )
    summary = {**report.summary(), "judgements_file": str(judgements.path), "dry_run": args.dry_run}
    if args.format == "json":
        emit_document(summary, "json")
    else:
        rows = [{"measure": k, "value": v} for k, v in summary.items()]
        emit_rows(rows, ["measure", "value"], args.format, title="resolve run")
    return 0


def _review(args: argparse.Namespace) -> int:
    judgements = Judgements.load(args.judgements)
    with open_store(args.store) as store:
        rows = pending_reviews(store, judgements, args.label or RESOLVABLE_LABELS, args.include_auto)
    emit_rows(rows[: max(args.limit, 0)], REVIEW_COLUMNS, args.format, title="candidates awaiting review")
    return 0


def _resolve_ref(store: Store, text: str) -> NodeRef:
    """``Label:key`` when the prefix is a label, else a bare key looked up among resolvable labels."""
    label, sep, key = text.partition(":")
    if sep and label in store.schema.nodes:
        ref = NodeRef(label, key)
        if store.get_node(label, key) is None and not _absorbed(store, label, key):
            raise ValueError(f"no {label} node with key {key!r}")
        return ref
    found = [
        NodeRef(lbl, text)
        for lbl in (*RESOLVABLE_LABELS, "Vessel")
        if store.get_node(lbl, text) or _absorbed(store, lbl, text)
    ]
    if not found:
        raise ValueError(f"no Company, Person or Vessel node with key {text!r}")
    if len(found) > 1:
        raise ValueError(f"key {text!r} is ambiguous ({', '.join(map(str, found))}); write it as Label:key")
    return found[0]


def _absorbed(store: Store, label: str, key: str) -> bool:
    """True when ``key`` is no node of its own but was merged into one (a source key it holds)."""
    if "source_keys" not in store.schema.node(label).properties:
        return False
    return any(key in (n.props.get("source_keys") or ()) for batch in store.scan_nodes(label) for n in batch)


def _decide(args: argparse.Namespace) -> int:
    with open_store(args.store) as store:
        left, right = _resolve_ref(store, args.left), _resolve_ref(store, args.right)
        if left == right:
            raise ValueError(f"{left} cannot be judged against itself")
        with editing(args.judgements) as judgements:
            judgement = judgements.decide(left, right, args.decision, by=args.by, note=args.note)
            path = judgements.path
        stats = WriteStats() if args.no_apply else apply_judgement(store, judgement)
    summary = {
        "left": str(judgement.left),
        "right": str(judgement.right),
        "decision": judgement.decision,
        "by": judgement.by,
        "at": judgement.at,
        "judgements_file": str(path),
        "relationships_written": stats.edges_created + stats.edges_merged,
    }
    if args.format == "json":
        emit_document(summary, "json")
    else:
        emit_rows([{"measure": k, "value": v} for k, v in summary.items()], ["measure", "value"], args.format)
    return 0
