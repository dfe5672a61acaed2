"""One snapshot's loader output, cut into bundles: the unit of diffing and of incremental writes.

A *bundle* is what a source says about one node: the node's own records, the relationships it owns
and the records of the nodes at their other ends that came from the same source rows. A relationship
is owned by its single-valued end (a vessel owns its flag, name, MMSI, call sign and the owner,
manager and operator relationships pointing at it), else by its source end when that is a vessel,
company or person, else by its target end when that is one, else by its source end.

Each bundle gets a digest over its content, with provenance and the snapshot date left out so that the
same facts loaded from a newer file digest the same. Value nodes whose properties follow from their
key (names, countries, MMSIs, call signs) count by key only; other related nodes (sanctions entries,
anomalies, addresses) count with their properties. Vessels, companies and persons also get a compact
*profile* of the facts the change log reports on.

The refresh state keeps one short string per bundle: digest, whether the source lists the node in its
own right (it owns relationships), its record id in the source and the profile as JSON. Profiles are
only parsed for bundles whose digest changed, so an almost unchanged snapshot costs little beyond
running its loader.
"""

from __future__ import annotations

import hashlib
import json
import marshal
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.schema import Schema

SUBJECTS = frozenset({"Vessel", "Company", "Person"})
# Relationships pointing at a vessel whose change the log reports, and the change's name.
VESSEL_ROLES: dict[str, str] = {
    "REGISTERED_OWNER_OF": "new_owner",
    "BENEFICIAL_OWNER_OF": "new_owner",
    "SHIP_MANAGER_OF": "new_manager",
    "ISM_MANAGER_OF": "new_manager",
    "COMMERCIAL_MANAGER_OF": "new_manager",
    "OPERATOR_OF": "new_operator",
}
# Links between parties (reported on their source end as new_company_link / link_ended).
COMPANY_LINKS = frozenset(
    {"LINKED_TO", "SHAREHOLDER_OF", "DIRECTOR_OF", "BENEFICIAL_OWNER_OF", "REGISTRATION_AGENT_OF"}
)
# Vessel identity relationships and the profile field holding their current values (the name is the
# node's own `name`; NAMED with a status gives aliases).
IDENTITY: dict[str, str] = {"FLAGGED": "flags", "HAS_MMSI": "mmsis", "HAS_CALL_SIGN": "call_signs"}
# Labels whose properties follow from the key: as related nodes they count in a digest by key alone.
KEYED_VALUES = frozenset({"VesselName", "Country", "Mmsi", "CallSign"})
DIGEST_CHARS = 24
_SEP = "\x1f"

NodeId = tuple[str, str]
_EMPTY: tuple[()] = ()


def bundle_id(label: str, key: str) -> str:
    """The state's name for the bundle of node (label, key)."""
    return f"{label}|{key}"


def split_id(ident: str) -> NodeId:
    label, _, key = ident.partition("|")
    return label, key


# ---- state entries ---------------------------------------------------------------------------------


def make_entry(digest: str, primary: bool, record_id: str | None, profile: Mapping[str, Any]) -> str:
    """One bundle's state: ``digest<US>primary<US>record id<US>profile JSON``."""
    text = json.dumps(profile, separators=(",", ":"), ensure_ascii=False, sort_keys=True) if profile else ""
    return _SEP.join((digest, "1" if primary else "", (record_id or "").replace(_SEP, " "), text))


def entry_digest(entry: str) -> str:
    return entry[:DIGEST_CHARS]


class Entry:
    """A parsed state entry."""

    __slots__ = ("digest", "primary", "profile", "record_id")

    def __init__(self, entry: str) -> None:
        digest, primary, record_id, text = entry.split(_SEP, 3)
        self.digest = digest
        self.primary = primary == "1"
        self.record_id = record_id or None
        self.profile: dict[str, Any] = json.loads(text) if text else {}


# ---- bundles ---------------------------------------------------------------------------------------


class Bundle:
    """What one snapshot says about one node.

    A bundle whose digest equals the previous snapshot's keeps the previous state entry (``reused``)
    and computes neither records nor profile: nothing about it is written or reported.
    """

    __slots__ = ("_deps", "_profile", "_resolve", "digest", "edges", "key", "label", "own", "reused")

    def __init__(
        self,
        label: str,
        key: str,
        own: list[NodeRecord],
        edges: list[EdgeRecord],
        digest: str,
        resolve: Any,
        reused: str | None = None,
    ) -> None:
        self.label, self.key = label, key
        self.own, self.edges = own, edges
        self.digest = digest
        self.reused = reused
        self._resolve = resolve
        self._deps: list[NodeRecord] | None = None
        self._profile: dict[str, Any] | None = None

    @property
    def ident(self) -> str:
        return bundle_id(self.label, self.key)

    @property
    def primary(self) -> bool:
        """True when the source lists the node in its own right (it owns relationships)."""
        return bool(self.edges)

    @property
    def record_id(self) -> str | None:
        return next((r.provenance.record for r in self.own if r.provenance is not None), None)

    @property
    def deps(self) -> list[NodeRecord]:
        """Records of the nodes at the other ends of the owned relationships, from the same rows."""
        if self._deps is None:
            self._deps = self._resolve(self)
        return self._deps

    @property
    def profile(self) -> dict[str, Any]:
        if self._profile is None:
            if self.reused is not None:
                self._profile = Entry(self.reused).profile
            elif self.label in SUBJECTS:
                self._profile = profile((self.label, self.key), self.own, self.edges, self.deps)
            else:
                self._profile = {}
        return self._profile

    @property
    def records(self) -> list[Record]:
        """Everything to write for this bundle (a bare node record stands in for a missing own one)."""
        head: list[Record] = list(self.own) if self.own else [NodeRecord(self.label, self.key)]
        return [*head, *self.edges, *self.deps]

    def asserts(self, edge_type: str, ends: tuple[str, str, str, str], key: str) -> bool:
        """True when this bundle states the relationship (an observed one matches any period key)."""
        for e in self.edges:
            if (
                e.type == edge_type
                and (e.src_label, e.src, e.dst_label, e.dst) == ends
                and (e.observed is not None or e.key == key)
            ):
                return True
        return False

    def state(self) -> str:
        """The entry kept in the refresh state."""
        if self.reused is not None:
            return self.reused
        return make_entry(self.digest, self.primary, self.record_id, self.profile)


def owner_side(edge_type: str, src_label: str, dst_label: str, schema: Schema) -> int:
    """0 when the source end owns a relationship of this type between these labels, 1 for the target."""
    if edge_type in VESSEL_ROLES and dst_label == "Vessel":
        return 1
    rel = schema.relationships.get(edge_type)
    if rel is not None and rel.timeline == "to":
        return 1
    if src_label in SUBJECTS or dst_label not in SUBJECTS:
        return 0
    return 1


def _line(*parts: Any) -> bytes:
    # marshal version 2 has no back-references or interning flags: equal values give equal bytes.
    return marshal.dumps(parts, 2)


def make_bundles(
    records: Iterable[Record],
    schema: Schema,
    as_of: str | None,
    previous: Mapping[str, str] | None = None,
) -> dict[str, Bundle]:
    """Cut a snapshot's records into bundles, keyed by bundle id.

    With ``previous`` (the last state's entries), a bundle whose digest did not change reuses its entry.
    """
    previous = previous or {}
    nodes: dict[NodeId, list[NodeRecord]] = {}
    owned: dict[NodeId, list[EdgeRecord]] = {}
    sides: dict[tuple[str, str, str], int] = {}
    for record in records:
        if type(record) is NodeRecord:
            node = (record.label, record.key)
            found = nodes.get(node)
            if found is None:
                nodes[node] = [record]
            else:
                found.append(record)
        else:
            edge: EdgeRecord = record  # type: ignore[assignment]
            group = (edge.type, edge.src_label, edge.dst_label)
            side = sides.get(group)
            if side is None:
                side = sides[group] = owner_side(*group, schema)
            node = (edge.dst_label, edge.dst) if side else (edge.src_label, edge.src)
            mine = owned.get(node)
            if mine is None:
                owned[node] = [edge]
            else:
                mine.append(edge)
    heads = set(owned)
    heads.update(n for n in nodes if n[0] in SUBJECTS)
    by_prov: dict[NodeId, dict[Provenance | None, list[NodeRecord]]] = {}
    touched: set[NodeId] = set()
    token = as_of.encode() if as_of else None
    blank = b"\x00" * len(token) if token else b""

    def matching(node: NodeId, provs: set[Provenance | None]) -> list[NodeRecord]:
        recs = nodes.get(node)
        if not recs:
            return []
        if len(recs) == 1:
            return recs if recs[0].provenance in provs else []
        index = by_prov.get(node)
        if index is None:
            index = by_prov[node] = defaultdict(list)
            for rec in recs:
                index[rec.provenance].append(rec)
        return [rec for prov in provs for rec in index.get(prov, _EMPTY)]

    def provenances(bundle: Bundle) -> set[Provenance | None]:
        provs: set[Provenance | None] = {r.provenance for r in bundle.own}
        provs.update(e.provenance for e in bundle.edges)
        return provs

    def resolve(bundle: Bundle) -> list[NodeRecord]:
        provs = provenances(bundle)
        head = (bundle.label, bundle.key)
        out: list[NodeRecord] = []
        seen = {head}
        for e in bundle.edges:
            for other in ((e.src_label, e.src), (e.dst_label, e.dst)):
                if other not in seen:
                    seen.add(other)
                    out.extend(matching(other, provs) or [NodeRecord(other[0], other[1])])
        return out

    def build(head: NodeId) -> Bundle:
        label, key = head
        own = nodes.get(head) or []
        edges = owned.get(head) or []
        lines = {_line("N", r.label, r.key, tuple(r.props.items())) for r in own}
        provs: set[Provenance | None] | None = None
        for e in edges:
            lines.add(
                _line(
                    e.type,
                    e.src_label,
                    e.src,
                    e.dst_label,
                    e.dst,
                    e.key,
                    tuple(e.props.items()),
                    e.observed is None,
                )
            )
            other = (e.dst_label, e.dst) if (e.src_label, e.src) == head else (e.src_label, e.src)
            if other in heads:
                continue
            touched.add(other)
            if other[0] not in KEYED_VALUES:
                if provs is None:
                    provs = {r.provenance for r in own}
                    provs.update(x.provenance for x in edges)
                lines.update(
                    _line("D", r.label, r.key, tuple(r.props.items())) for r in matching(other, provs)
                )
        text = b"".join(sorted(lines))
        if token:
            text = text.replace(token, blank)
        digest = hashlib.blake2b(text, digest_size=DIGEST_CHARS // 2).hexdigest()
        before = previous.get(bundle_id(label, key))
        reused = before if before is not None and entry_digest(before) == digest else None
        return Bundle(label, key, own, edges, digest, resolve, reused)

    bundles: dict[str, Bundle] = {}
    for head in heads:
        bundle = build(head)
        bundles[bundle.ident] = bundle
    for node in nodes:
        if node not in heads and node not in touched:
            bundle = build(node)
            bundles[bundle.ident] = bundle
    return bundles


# ---- profiles --------------------------------------------------------------------------------------


def _display(node: NodeId, deps: Mapping[NodeId, list[NodeRecord]]) -> str:
    """A readable value for a related node: its name (or other caption), else its key."""
    for rec in reversed(deps.get(node, [])):
        for prop in ("name", "full", "call_sign", "mmsi"):
            value = rec.props.get(prop)
            if value:
                return str(value)
    return node[1]


def _sanction(node: NodeId, deps: Mapping[NodeId, list[NodeRecord]]) -> str:
    props: dict[str, Any] = {}
    for rec in deps.get(node, []):
        props.update(rec.props)
    parts = [props.get("authority"), props.get("list_name"), props.get("program")]
    text = " ".join(str(p) for p in parts if p)
    ref = props.get("list_reference")
    return f"{text} (ref {ref})" if text and ref else text or node[1]


def profile(
    head: NodeId, own: list[NodeRecord], edges: list[EdgeRecord], deps: list[NodeRecord]
) -> dict[str, Any]:
    """The facts the change log reports on, in a compact JSON-ready form (empty fields left out).

    name, imo, mmsi (the node's own properties); flags, mmsis, call_signs (current identity values);
    aliases; roles (owner, managers, operator pointing at the vessel, by relationship type); links
    (company links it states); designations (its Sanction keys with a readable text).
    """
    props: dict[str, Any] = {}
    for rec in own:
        props.update(rec.props)
    by_node: dict[NodeId, list[NodeRecord]] = defaultdict(list)
    for rec in deps:
        by_node[(rec.label, rec.key)].append(rec)
    sets: dict[str, set[str]] = defaultdict(set)
    aliases: set[str] = {str(a) for a in props.get("aliases") or ()}
    roles: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    links: set[tuple[str, str, str, str]] = set()
    designations: set[tuple[str, str]] = set()
    for edge in edges:
        src, dst = (edge.src_label, edge.src), (edge.dst_label, edge.dst)
        if src == head and edge.type == "NAMED":
            if edge.props.get("status") is not None:
                aliases.add(_display(dst, by_node))
        elif src == head and edge.type in IDENTITY:
            if edge.props.get("status") is None:
                sets[IDENTITY[edge.type]].add(dst[1])
        elif edge.type in VESSEL_ROLES and dst == head:
            roles[edge.type].add((src[0], src[1], _display(src, by_node)))
        elif edge.type in COMPANY_LINKS and src == head:
            links.add((edge.type, dst[0], dst[1], _display(dst, by_node)))
        elif edge.type == "SANCTIONED_AS" and src == head:
            designations.add((dst[1], _sanction(dst, by_node)))
    out: dict[str, Any] = {}
    for name in ("name", "imo", "mmsi"):
        if props.get(name):
            out[name] = str(props[name])
    for name, values in sorted(sets.items()):
        out[name] = sorted(values)
    aliases.discard(out.get("name", ""))
    if aliases:
        out["aliases"] = sorted(aliases)
    if roles:
        out["roles"] = {t: sorted([list(v) for v in vals]) for t, vals in sorted(roles.items())}
    if links:
        out["links"] = sorted([list(v) for v in links])
    if designations:
        out["designations"] = sorted([list(v) for v in designations])
    return out
