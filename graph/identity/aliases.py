"""References to a key the identity layer joined away resolve to the node it joined.

When a company or person key is merged into another node (by the name rule or a judgement), an
``Alias`` node keyed ``<label>:<key>`` remembers the target. A later record that names the old key (a
refresh's change event, a re-run of a source whose record lost the field that joined it) is sent on
to the target, marked ``resolved_from`` like every other join, instead of growing a second node.
"""

from __future__ import annotations

from collections.abc import Sequence

from graph.identity.merge import ALIAS, Reader, alias_key, restate, rewired
from graph.records import EdgeRecord, NodeRecord, Record

LABELS = ("Company", "Person")


def resolve(records: Sequence[Record], reader: Reader | None) -> list[Record]:
    """The batch with references to aliased keys rewritten to their targets."""
    wanted: set[str] = set()
    for r in records:
        if isinstance(r, NodeRecord):
            if r.label in LABELS:
                wanted.add(alias_key(r.label, r.key))
        elif isinstance(r, EdgeRecord):
            if r.src_label in LABELS:
                wanted.add(alias_key(r.src_label, r.src))
            if r.dst_label in LABELS:
                wanted.add(alias_key(r.dst_label, r.dst))
    if reader is None or not wanted:
        return list(records)
    found = reader.get_nodes(ALIAS, sorted(wanted))
    if not found:
        return list(records)
    target = {k: str(v.props["target"]) for k, v in found.items()}
    out: list[Record] = []
    for r in records:
        if isinstance(r, NodeRecord) and r.label in LABELS and alias_key(r.label, r.key) in target:
            out.append(restate(r, target[alias_key(r.label, r.key)], r.key))
        elif isinstance(r, EdgeRecord):
            src = target.get(alias_key(r.src_label, r.src), r.src) if r.src_label in LABELS else r.src
            dst = target.get(alias_key(r.dst_label, r.dst), r.dst) if r.dst_label in LABELS else r.dst
            out.append(rewired(r, src, dst))
        else:
            out.append(r)
    return out
