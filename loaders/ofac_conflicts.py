"""Identifiers that two or more OFAC SDN entries give: never a silent merge.

An IMO ship number identifies a hull by definition, so vessel entries giving the same valid IMO stay
one Vessel node; an MMSI shared by vessel entries stays with each entry's hull. A company identifier
(IMO company number, registration number) shared by *differently named* entries is not used as their
key: each keeps the key it would have without it, so the list's separate entries stay separate nodes
(the "one-source rule" of graph/identity/companies.py then keeps them apart too). Entries of the same
name that share one are keyed on it and so are one node.

Either way every entry keeps its own records and Sanction nodes, and the sharing is an Anomaly
(detector ``ofac.shared_identifier``) about every node involved, citing each entry's record, with the
records as ``evidence``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from graph.keys import normalize_name
from graph.records import EdgeRecord, NodeRecord, Provenance, Record

DETECTOR = "ofac.shared_identifier"
KIND = "shared_identifier"
# Identifier kinds that identify a company only as far as the entries agree on the name.
COMPANY_KINDS = frozenset({"imo_company_number", "registration_number"})
LABELS = {
    "imo": "IMO ship number",
    "mmsi": "MMSI",
    "imo_company_number": "IMO company number",
    "registration_number": "registration number",
}


@dataclass(frozen=True)
class Claim:
    """An entry giving an identifier: ``value`` is the number (for registrations "CC:NUMBER")."""

    kind: str
    value: str
    ent_num: str
    name: str


@dataclass(frozen=True)
class Shared:
    """One identifier given by two or more entries."""

    kind: str
    value: str
    claims: tuple[Claim, ...]

    @property
    def names_differ(self) -> bool:
        return len({normalize_name(c.name) for c in self.claims}) > 1

    @property
    def keyed(self) -> bool:
        """Whether the entries may be keyed on this identifier (and so become one node)."""
        return self.kind not in COMPANY_KINDS or not self.names_differ


def shared(claims: Iterable[Claim]) -> list[Shared]:
    """The identifiers more than one entry gives, in a stable order."""
    by_value: dict[tuple[str, str], dict[str, Claim]] = defaultdict(dict)
    for claim in claims:
        by_value[(claim.kind, claim.value)].setdefault(claim.ent_num, claim)
    return [
        Shared(kind, value, tuple(sorted(found.values(), key=lambda c: int(c.ent_num))))
        for (kind, value), found in sorted(by_value.items())
        if len(found) > 1
    ]


def anomaly_records(
    item: Shared,
    nodes: dict[str, tuple[str, str]],
    provs: dict[str, Provenance],
    observed: str | None,
) -> list[Record]:
    """The Anomaly for one shared identifier and a HAS_ANOMALY edge from each entry's node.

    The Anomaly node is stated once per entry (each with that entry's provenance), so it cites every
    record involved; its key depends on the identifier only, so loading twice gives the same node.
    """
    records = [provs[c.ent_num].record for c in item.claims if c.ent_num in provs]
    label = LABELS.get(item.kind, item.kind)
    listing = ", ".join(f"{provs[c.ent_num].record} ({c.name})" for c in item.claims if c.ent_num in provs)
    consequence = (
        "kept as separate nodes: the names differ, so the identifier is not their key"
        if not item.keyed
        else "one node, since the identifier is its key"
    )
    props = {
        "kind": KIND,
        "detail": f"{label} {item.value} is given by {len(records)} SDN entries: {listing}; {consequence}",
        "detector": DETECTOR,
        "parameters": json.dumps(
            {
                "identifier": item.kind,
                "value": item.value,
                "records": records,
                "names_differ": item.names_differ,
                "keyed_on_identifier": item.keyed,
            },
            sort_keys=True,
            separators=(",", ":"),
        ),
        "observed": observed,
        "evidence": records,
    }
    key = f"anomaly:{KIND}:{item.kind}:{item.value}"
    out: list[Record] = []
    for claim in item.claims:
        if claim.ent_num not in nodes or claim.ent_num not in provs:
            continue
        label_, node_key = nodes[claim.ent_num]
        prov = provs[claim.ent_num]
        out.append(NodeRecord("Anomaly", key, props, prov))
        out.append(EdgeRecord("HAS_ANOMALY", label_, node_key, "Anomaly", key, "", {}, prov))
    return out
