"""What changed between two snapshots of a source, worked out from their bundles.

The kinds of change (``what``):

=====================  ==========================================================================
new_record             a vessel, company or person the source now lists and did not before
record_disappeared     one the source listed and no longer does (end-dated in the graph)
new_designation        a sanctions entry appeared for the entity
designation_lifted     a sanctions entry disappeared (its Sanction gets ``delisting_date``)
rename                 the entity's name changed
reflag                 the vessel's flag changed
new_mmsi               a new MMSI for the vessel
new_call_sign          a new call sign for the vessel
new_owner              a new registered (or beneficial) owner of the vessel
new_manager            a new ship, ISM or commercial manager of the vessel
new_operator           a new operator of the vessel
link_ended             an owner, manager, operator or company link the source no longer states
new_company_link       a new link to a company or person (Linked To, shareholder, director, ...)
new_alias              a new alias or former name
=====================  ==========================================================================

A new entity gives one ``new_record`` (plus ``new_designation`` per sanctions entry), not one change
per fact. Every change has a deterministic key: the source, the previous snapshot it is measured
against, the entity, the kind and the two values. Recomputing the same diff gives the same keys, which
is what makes a re-run after a crash merge into, rather than duplicate, what was already written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from shadowfleet.refresh.snapshot import SUBJECTS, VESSEL_ROLES, Bundle, Entry, entry_digest, split_id

KINDS = (
    "new_record",
    "record_disappeared",
    "new_designation",
    "designation_lifted",
    "rename",
    "reflag",
    "new_mmsi",
    "new_call_sign",
    "new_owner",
    "new_manager",
    "new_operator",
    "link_ended",
    "new_company_link",
    "new_alias",
)
_ROLE_WORDS = {
    "REGISTERED_OWNER_OF": "registered owner",
    "BENEFICIAL_OWNER_OF": "beneficial owner",
    "SHIP_MANAGER_OF": "ship manager",
    "ISM_MANAGER_OF": "ISM manager",
    "COMMERCIAL_MANAGER_OF": "commercial manager",
    "OPERATOR_OF": "operator",
    "LINKED_TO": "link",
    "SHAREHOLDER_OF": "shareholding in",
    "DIRECTOR_OF": "directorship of",
    "REGISTRATION_AGENT_OF": "registration agency for",
}


@dataclass(frozen=True)
class Change:
    """One reported change about one entity."""

    what: str
    entity_label: str
    entity_key: str
    entity_name: str | None = None
    imo: str | None = None
    mmsi: str | None = None
    relation: str | None = None
    old_value: str | None = None
    new_value: str | None = None
    previous_key: str | None = None

    def sort_key(self) -> tuple[str, ...]:
        return (
            self.entity_label,
            self.entity_key,
            str(KINDS.index(self.what)).zfill(2),
            self.relation or "",
            self.old_value or "",
            self.new_value or "",
        )

    def key(self, source: str, basis: str) -> str:
        """Deterministic ChangeEvent key; ``basis`` names the previous snapshot the change is against."""
        parts = (
            source,
            basis,
            self.entity_label,
            self.entity_key,
            self.what,
            self.relation or "",
            self.old_value or "",
            self.new_value or "",
        )
        digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]
        return f"chg:{source}:{digest}"

    def entity(self) -> str:
        """The entity as people name it: ``Vessel ARTAVIL (IMO 9187629)``."""
        name = self.entity_name or self.entity_key
        ids = []
        if self.imo:
            ids.append(f"IMO {self.imo}")
        elif self.mmsi:
            ids.append(f"MMSI {self.mmsi}")
        return f"{self.entity_label} {name}" + (f" ({', '.join(ids)})" if ids else "")

    def summary(self, source: str) -> str:
        """One line for people."""
        who, old, new = self.entity(), self.old_value, self.new_value
        role = _ROLE_WORDS.get(self.relation or "", (self.relation or "").lower())
        was = f" (was {old})" if old else ""
        text = {
            "new_record": f"{who}: new in {source}",
            "record_disappeared": f"{who}: no longer in {source}",
            "new_designation": f"{who}: newly designated: {new}",
            "designation_lifted": f"{who}: designation lifted: {old}",
            "rename": f"{who}: renamed {old} -> {new}",
            "reflag": f"{who}: re-flagged {old or '?'} -> {new or '?'}",
            "new_mmsi": f"{who}: new MMSI {new}{was}",
            "new_call_sign": f"{who}: new call sign {new}{was}",
            "new_owner": f"{who}: new {role} {new}{was}",
            "new_manager": f"{who}: new {role} {new}{was}",
            "new_operator": f"{who}: new {role} {new}{was}",
            "link_ended": f"{who}: {role} {old} no longer stated",
            "new_company_link": f"{who}: new {role} {new}",
            "new_alias": f"{who}: new alias {new}",
        }[self.what]
        return text

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Diff:
    """Bundles to (re)write, bundles gone, and the changes to report."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rekeyed: dict[str, str] = field(default_factory=dict)  # new bundle id -> previous bundle id
    changes: list[Change] = field(default_factory=list)
    previous: dict[str, Entry] = field(default_factory=dict)  # parsed entries of changed/removed bundles


def _joined(values: list[str] | None) -> str | None:
    return "; ".join(values) if values else None


def _entity(
    label: str, key: str, profile: Mapping[str, Any], previous_key: str | None = None
) -> dict[str, Any]:
    return {
        "entity_label": label,
        "entity_key": key,
        "entity_name": profile.get("name"),
        "imo": profile.get("imo"),
        "mmsi": profile.get("mmsi") or (profile.get("mmsis") or [None])[0],
        "previous_key": previous_key,
    }


def profile_changes(
    label: str, key: str, old: Mapping[str, Any], new: Mapping[str, Any], previous_key: str | None = None
) -> list[Change]:
    """The reportable differences between two profiles of the same entity."""
    ent = _entity(label, key, new or old, previous_key)
    out: list[Change] = []
    if old.get("name") != new.get("name") and new.get("name"):
        out.append(Change("rename", **ent, old_value=old.get("name"), new_value=new.get("name")))
    if old.get("flags", []) != new.get("flags", []) and (old.get("flags") or new.get("flags")):
        out.append(
            Change("reflag", **ent, old_value=_joined(old.get("flags")), new_value=_joined(new.get("flags")))
        )
    for field_name, what in (("mmsis", "new_mmsi"), ("call_signs", "new_call_sign")):
        before = old.get(field_name, [])
        for value in new.get(field_name, []):
            if value not in before:
                out.append(Change(what, **ent, old_value=_joined(before), new_value=value))
    old_roles: Mapping[str, list[list[str]]] = old.get("roles", {})
    new_roles: Mapping[str, list[list[str]]] = new.get("roles", {})
    for rel in sorted(set(old_roles) | set(new_roles)):
        before = {(v[0], v[1]): v[2] for v in old_roles.get(rel, [])}
        after = {(v[0], v[1]): v[2] for v in new_roles.get(rel, [])}
        added = [after[k] for k in sorted(after) if k not in before]
        gone = [before[k] for k in sorted(before) if k not in after]
        for name in added:
            out.append(
                Change(
                    VESSEL_ROLES[rel],
                    **ent,
                    relation=rel,
                    old_value=_joined(sorted(before.values())),
                    new_value=name,
                )
            )
        if not added:
            for name in gone:
                out.append(Change("link_ended", **ent, relation=rel, old_value=name))
    before_links = {(v[0], v[1], v[2]): v[3] for v in old.get("links", [])}
    after_links = {(v[0], v[1], v[2]): v[3] for v in new.get("links", [])}
    for link in sorted(set(after_links) - set(before_links)):
        out.append(Change("new_company_link", **ent, relation=link[0], new_value=after_links[link]))
    for link in sorted(set(before_links) - set(after_links)):
        out.append(Change("link_ended", **ent, relation=link[0], old_value=before_links[link]))
    before_des = {v[0]: v[1] for v in old.get("designations", [])}
    after_des = {v[0]: v[1] for v in new.get("designations", [])}
    for ref in sorted(set(after_des) - set(before_des)):
        out.append(Change("new_designation", **ent, relation="SANCTIONED_AS", new_value=after_des[ref]))
    for ref in sorted(set(before_des) - set(after_des)):
        out.append(Change("designation_lifted", **ent, relation="SANCTIONED_AS", old_value=before_des[ref]))
    old_aliases = set(old.get("aliases", [])) | ({old["name"]} if old.get("name") else set())
    for alias in new.get("aliases", []):
        if alias not in old_aliases:
            out.append(Change("new_alias", **ent, new_value=alias))
    return out


def diff_bundles(previous: Mapping[str, str], current: Mapping[str, Bundle], stable_ids: bool) -> Diff:
    """Compare the previous snapshot's state entries with the current snapshot's bundles."""
    result = Diff()
    for ident, bundle in current.items():
        before = previous.get(ident)
        if before is None:
            result.added.append(ident)
        elif entry_digest(before) != bundle.digest:
            result.changed.append(ident)
    result.removed = [ident for ident in previous if ident not in current]
    old: dict[str, Entry] = {ident: Entry(previous[ident]) for ident in result.changed + result.removed}
    if stable_ids:
        # A subject whose key changed (a vessel without IMO, renamed) is the same list entry.
        gone = {
            (split_id(i)[0], old[i].record_id): i
            for i in result.removed
            if old[i].record_id and old[i].primary and split_id(i)[0] in SUBJECTS
        }
        for ident in result.added:
            bundle = current[ident]
            if bundle.label in SUBJECTS and bundle.primary:
                old_ident = gone.pop((bundle.label, bundle.record_id or ""), None)
                if old_ident is not None:
                    result.rekeyed[ident] = old_ident
    paired_old = set(result.rekeyed.values())
    for ident in sorted(result.added):
        bundle = current[ident]
        if bundle.label not in SUBJECTS:
            continue
        if ident in result.rekeyed:
            old_ident = result.rekeyed[ident]
            result.changes += profile_changes(
                bundle.label, bundle.key, old[old_ident].profile, bundle.profile, split_id(old_ident)[1]
            )
        elif bundle.primary:
            ent = _entity(bundle.label, bundle.key, bundle.profile)
            result.changes.append(Change("new_record", **ent, new_value=bundle.profile.get("name")))
            for _ref, text in bundle.profile.get("designations", []):
                result.changes.append(
                    Change("new_designation", **ent, relation="SANCTIONED_AS", new_value=text)
                )
    for ident in sorted(result.changed):
        bundle = current[ident]
        if bundle.label in SUBJECTS:
            result.changes += profile_changes(bundle.label, bundle.key, old[ident].profile, bundle.profile)
    for ident in sorted(result.removed):
        label, key = split_id(ident)
        before = old[ident]
        if label not in SUBJECTS or ident in paired_old or not before.primary:
            continue
        ent = _entity(label, key, before.profile)
        result.changes.append(Change("record_disappeared", **ent, old_value=before.profile.get("name")))
        for _ref, text in before.profile.get("designations", []):
            result.changes.append(
                Change("designation_lifted", **ent, relation="SANCTIONED_AS", old_value=text)
            )
    result.changes.sort(key=Change.sort_key)
    result.previous = old
    return result
