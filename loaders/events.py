"""Vessel events from CSV or JSON lines: ship-to-ship transfers, port calls, loadings and discharges.

An STS transfer names two or more vessels (by IMO, MMSI or name), a start and optionally an end, a
position, evidence (satellite image ids, report URLs) and a confidence between 0 and 1. A port call
names one vessel, a port (UN/LOCODE or name), arrival and departure and the draughts on each; a
loading or discharge is a port call with that activity. Event keys are digests of the kind, the
vessels and the start, so loading the same file twice yields the same events.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from graph.keys import clean_imo, normalize_name
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from loaders.base import LoadOptions, LoadOutput
from loaders.countries import Country, lookup_country
from loaders.mapping import FieldDef, column_id, convert, is_empty, load_rows, resolve_mapping
from loaders.registry import vessel_ref

KIND_NAMES: dict[str, str] = {
    **dict.fromkeys(("sts", "ststransfer", "shiptoship", "shiptoshiptransfer", "encounter"), "sts"),
    **dict.fromkeys(("portcall", "portvisit", "call", "visit"), "port_call"),
    **dict.fromkeys(("loading", "load", "loaded"), "loading"),
    **dict.fromkeys(("discharge", "discharging", "unloading", "unload", "discharged"), "discharge"),
}
ROLE_NAMES: dict[str, str] = {
    **dict.fromkeys(("giver", "donor", "supplier", "source", "mother", "discharging", "lightering"), "giver"),
    **dict.fromkeys(("receiver", "recipient", "taker", "daughter", "loading", "receiving"), "receiver"),
    **dict.fromkeys(("unknown", "participant", "either"), "unknown"),
}
VESSEL_SLOTS = ("vessel", "vessel2", "vessel3")
CATALOGUE: dict[str, FieldDef] = {
    "kind": FieldDef("text", doc="sts, port_call, loading or discharge (common spellings accepted)"),
    **{
        f"{slot}_{part}": FieldDef(kind, doc=f"{slot} {part}")
        for slot in VESSEL_SLOTS
        for part, kind in (("imo", "raw"), ("mmsi", "raw"), ("name", "text"), ("role", "text"))
    },
    "vessels": FieldDef("raw", doc="more vessels: 'IMO 1234567; 273123456; NAME', or JSON objects"),
    "start": FieldDef("datetime", doc="STS start"),
    "end": FieldDef("datetime", doc="STS end"),
    "lat": FieldDef("float", doc="latitude, -90..90"),
    "lon": FieldDef("float", doc="longitude, -180..180"),
    "evidence": FieldDef("list", doc="satellite image ids, report URLs"),
    "confidence": FieldDef("fraction", doc="0..1 (or a percentage)"),
    "cargo": FieldDef("text", doc="cargo, e.g. refined products"),
    "detector": FieldDef("text", doc="who or what found the event"),
    "port_name": FieldDef("text", doc="port name"),
    "port_locode": FieldDef("text", doc="UN/LOCODE, e.g. RUVYP"),
    "port_country": FieldDef("country", doc="port country (else from the LOCODE)"),
    "arrival": FieldDef("datetime", doc="port arrival (else start)"),
    "departure": FieldDef("datetime", doc="port departure (else end)"),
    "draught_in": FieldDef("float", doc="draught on arrival, metres"),
    "draught_out": FieldDef("float", doc="draught on departure, metres"),
    "activity": FieldDef("text", doc="loading, discharge or other activity at the port"),
}
_LOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")


def event_key(kind: str, vessel_keys: Sequence[str], start: str) -> str:
    """A deterministic event key: digest of the kind, the sorted vessel keys and the start."""
    text = "\x1f".join([kind, *sorted(vessel_keys), start])
    prefix = "sts" if kind == "sts" else "pc"
    return f"{prefix}:{hashlib.sha1(text.encode('utf-8')).hexdigest()[:16]}"


def event_kind(raw: str | None) -> str:
    """The canonical event kind; ValueError when missing or unknown."""
    if raw is None:
        raise ValueError("kind: missing event kind")
    found = KIND_NAMES.get(column_id(raw))
    if found is None:
        raise ValueError(f"kind: unknown event kind {raw!r}")
    return found


def _role(raw: Any, field: str) -> str | None:
    if is_empty(raw):
        return None
    found = ROLE_NAMES.get(column_id(str(raw)))
    if found is None:
        raise ValueError(f"{field}: unknown role {raw!r} (giver, receiver or unknown)")
    return found


def _listed(item: Any) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return {k: item.get(k) for k in ("imo", "mmsi", "name", "role")}
    text = " ".join(str(item).split())
    digits = text.upper().removeprefix("IMO").strip(" :.#")
    if re.fullmatch(r"\d{9}", digits) and not text.upper().startswith("IMO"):
        return {"mmsi": digits}
    if clean_imo(text):
        return {"imo": text}
    return {"name": text}


def vessels_of(values: Mapping[str, Any], prov: Provenance) -> list[tuple[NodeRecord, str | None]]:
    """The distinct vessels a row names, each with its role; ValueError on a malformed identifier."""
    specs: list[tuple[dict[str, Any], str]] = []
    for slot in VESSEL_SLOTS:
        spec = {part: values.get(f"{slot}_{part}") for part in ("imo", "mmsi", "name", "role")}
        specs.append((spec, f"{slot}_role"))
    listed = values.get("vessels")
    if isinstance(listed, str):
        listed = convert("list", listed)
    for item in listed or []:
        specs.append((_listed(item), "vessels.role"))
    found: dict[str, tuple[NodeRecord, str | None]] = {}
    for spec, role_field in specs:
        imo, mmsi, name = (None if is_empty(spec.get(k)) else spec[k] for k in ("imo", "mmsi", "name"))
        if imo is None and mmsi is None and name is None:
            continue
        _, node = vessel_ref(imo, mmsi, name and " ".join(str(name).split()), prov)
        role = _role(spec.get("role"), role_field)
        if node.key not in found or (found[node.key][1] is None and role):
            found[node.key] = (node, role)
    return list(found.values())


def _position(values: Mapping[str, Any]) -> tuple[float | None, float | None]:
    lat, lon = values.get("lat"), values.get("lon")
    if (lat is None) != (lon is None):
        raise ValueError("lat/lon: give both or neither")
    if lat is not None and not -90 <= lat <= 90:
        raise ValueError(f"lat: {lat} is outside -90..90")
    if lon is not None and not -180 <= lon <= 180:
        raise ValueError(f"lon: {lon} is outside -180..180")
    return lat, lon


def _order(start: str, end: str | None, names: tuple[str, str]) -> None:
    if end is None:
        return
    n = min(len(start), len(end))
    if end[:n] < start[:n]:
        raise ValueError(f"{names[1]} {end} is before {names[0]} {start}")


def sts_records(values: Mapping[str, Any], prov: Provenance) -> list[Record]:
    """Records for one STS transfer row."""
    vessels = vessels_of(values, prov)
    if len(vessels) < 2:
        raise ValueError("an STS transfer needs at least two distinct vessels")
    start, end = values.get("start"), values.get("end")
    if start is None:
        raise ValueError("start: missing")
    _order(start, end, ("start", "end"))
    lat, lon = _position(values)
    key = event_key("sts", [v.key for v, _ in vessels], start)
    props = {
        "start": start,
        "end": end,
        "lat": lat,
        "lon": lon,
        "evidence": values.get("evidence") or None,
        "confidence": values.get("confidence"),
        "cargo": values.get("cargo"),
        "detector": values.get("detector"),
    }
    records: list[Record] = [NodeRecord("StsTransfer", key, props, prov)]
    for vessel, role in vessels:
        records.append(vessel)
        records.append(
            EdgeRecord(
                "PARTICIPATED_IN",
                "Vessel",
                vessel.key,
                "StsTransfer",
                key,
                "",
                {"role": role or "unknown"},
                prov,
            )
        )
    return records


def port_node(
    name: str | None, locode: str | None, country: Country | None, prov: Provenance
) -> tuple[NodeRecord, list[Record]]:
    """The Port node (keyed by UN/LOCODE, else by name and country) and its country records."""
    code = re.sub(r"[\s\-]+", "", locode).upper() if locode else None
    if code is not None and not _LOCODE.match(code):
        raise ValueError(f"port_locode: {locode!r} is not a UN/LOCODE")
    if country is None and code is not None:
        country = lookup_country(code[:2])
    if code is None and not name:
        raise ValueError("port: missing (give a port name or UN/LOCODE)")
    if code:
        key = code
    else:
        digest = hashlib.sha1(f"{normalize_name(name or '')}\x1f{country.code if country else ''}".encode())
        key = "port:" + digest.hexdigest()[:16]
    props = {"name": name, "locode": code, "country": country.code if country else None}
    node = NodeRecord("Port", key, props, prov)
    extra: list[Record] = []
    if country is not None:
        extra.append(country.record())
        extra.append(EdgeRecord("LOCATED_IN", "Port", key, "Country", country.code, provenance=prov))
    return node, extra


def port_call_records(kind: str, values: Mapping[str, Any], prov: Provenance) -> list[Record]:
    """Records for one port call, loading or discharge row."""
    vessels = vessels_of(values, prov)
    if len(vessels) != 1:
        raise ValueError(f"a port call needs exactly one vessel, found {len(vessels)}")
    vessel = vessels[0][0]
    arrival = values.get("arrival") or values.get("start")
    departure = values.get("departure") or values.get("end")
    if arrival is None:
        raise ValueError("arrival: missing")
    _order(arrival, departure, ("arrival", "departure"))
    _position(values)
    for name in ("draught_in", "draught_out"):
        draught = values.get(name)
        if draught is not None and not 0 <= draught <= 40:
            raise ValueError(f"{name}: {draught} m is not a plausible draught")
    activity = kind if kind != "port_call" else values.get("activity")
    if activity is not None:
        activity = KIND_NAMES.get(column_id(activity), activity.lower())
    port, records = port_node(
        values.get("port_name"), values.get("port_locode"), values.get("port_country"), prov
    )
    key = event_key("port_call", [vessel.key], arrival)
    props = {
        "arrival": arrival,
        "departure": departure,
        "draught_in": values.get("draught_in"),
        "draught_out": values.get("draught_out"),
        "activity": activity,
        "detector": values.get("detector"),
    }
    records += [
        vessel,
        port,
        NodeRecord("PortCall", key, props, prov),
        EdgeRecord("MADE_CALL", "Vessel", vessel.key, "PortCall", key, "", {}, prov),
        EdgeRecord("AT_PORT", "PortCall", key, "Port", port.key, "", {}, prov),
    ]
    return records


def event_records(values: Mapping[str, Any], prov: Provenance) -> list[Record]:
    """Records for one event row of any kind; ValueError when the row cannot be used."""
    kind = event_kind(values.get("kind"))
    if kind == "sts":
        return sts_records(values, prov)
    return port_call_records(kind, values, prov)


def load(paths: Sequence[Path], options: LoadOptions) -> LoadOutput:
    """Read event files (CSV, or JSON lines for .jsonl/.ndjson/.json) through a column mapping."""
    mapping = resolve_mapping(options, "events", CATALOGUE, "events-generic")
    return load_rows(paths, options, "events", mapping, event_records)
