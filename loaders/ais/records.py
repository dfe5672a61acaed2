"""Detected AIS events and identity reports as graph records, each carrying its evidence.

Every event node names its detector and parameters (JSON) and lists, per vessel, the input file and
the AIS points behind it (count, first and last point with time, position and line). Provenance names
the source "ais" (or ``--source``), the file and the line range, and the file's retrieval time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from graph.keys import is_valid_imo, name_key, vessel_key
from graph.records import EdgeRecord, NodeRecord, Provenance, Record
from graph.schema import default_schema
from graph.store import Store
from loaders.ais import detectors as det
from loaders.ais.params import params_digest, params_json
from loaders.ais.pipeline import Detection, draught_range
from loaders.ais.ports import Port
from loaders.countries import lookup_country

DETECTOR_PARAMS = {
    "encounter": ("ais.encounters", det.ENCOUNTER_PARAMS),
    "loitering": ("ais.loitering", det.LOITER_PARAMS),
    "gap": ("ais.gaps", det.GAP_PARAMS),
    "port_call": ("ais.port_calls", det.PORT_PARAMS),
    "anomaly": ("ais.identity", det.CLONE_PARAMS),
}
# Anomalies from a detector of their own (and whose parameters are stored with them)
ANOMALY_DETECTORS = {"position_spike": ("ais.position_spikes", det.SPIKE_PARAMS)}


# Distances from shore the detectors report; written once graph/schema.yaml declares them on the node.
SHORE_PROPS = ("shore_km", "start_shore_km", "end_shore_km")


def iso(t: int | None) -> str | None:
    """Unix seconds as an ISO-8601 UTC timestamp."""
    if t is None:
        return None
    return datetime.fromtimestamp(int(t), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(t: int) -> str:
    return datetime.fromtimestamp(int(t), tz=UTC).strftime("%Y-%m-%d")


@dataclass
class VesselRef:
    """The graph vessel an MMSI resolves to, and what the store already knows about it."""

    key: str
    exists: bool = False
    deadweight: float | None = None
    flag: str | None = None


def resolve_vessels(
    mmsis: Iterable[int], imos: dict[int, str], store: Store | None = None
) -> dict[int, VesselRef]:
    """Map MMSIs to vessel keys: a valid IMO from the AIS static reports, else the stored vessel that
    holds the MMSI (property or HAS_MMSI), else ``mmsi:NNNNNNNNN``."""
    out: dict[int, VesselRef] = {}
    wanted = sorted({int(m) for m in mmsis})
    by_mmsi: dict[str, set[str]] = {}
    if store is not None and wanted:
        texts = [str(m) for m in wanted]
        for node in store.find_nodes("Vessel", "mmsi", texts):
            by_mmsi.setdefault(str(node.props.get("mmsi")), set()).add(node.key)
        for edge in store.edges("Mmsi", texts, ["HAS_MMSI"], "in"):
            if edge.props.get("valid_to") is None:
                by_mmsi.setdefault(edge.dst, set()).add(edge.src)
    for m in wanted:
        text = str(m)
        imo = imos.get(m)
        stored = by_mmsi.get(text, set())
        if imo and is_valid_imo(imo):
            key = f"imo:{imo}"
        elif len(stored) == 1:
            key = next(iter(stored))
        else:
            key = vessel_key(mmsi=text) if len(text) == 9 else f"mmsi:{text}"
        out[m] = VesselRef(key)
    if store is not None and out:
        found = store.get_nodes("Vessel", sorted({r.key for r in out.values()}))
        for ref in out.values():
            node = found.get(ref.key)
            if node is not None:
                ref.exists = True
                dwt = node.props.get("deadweight")
                ref.deadweight = float(dwt) if isinstance(dwt, int | float) else None
                ref.flag = node.props.get("flag")
    return out


class RecordBuilder:
    """Turns one detection run into records."""

    def __init__(
        self, detection: Detection, files: Sequence[Path], retrieved: Sequence[str], source: str = "ais"
    ) -> None:
        self.detection = detection
        self.files = [str(f) for f in files]
        self.names = {str(f): Path(f).name for f in files}
        self.retrieved = {str(f): r for f, r in zip(files, retrieved, strict=True)}
        self.source = source
        self.params = detection.params
        self.records: list[Record] = []
        self._ports: dict[str, Port] = {}

    def _prov(self, file: str, record: str) -> Provenance:
        return Provenance(
            self.source, f"{self.names.get(file, Path(file).name)}#{record}", self.retrieved.get(file, "")
        )

    def _event_prov(self, event: det.Event, detector: str) -> Provenance:
        if event.evidence:
            ev = event.evidence[0]
            return self._prov(ev["file"], f"L{ev['first']['line']}-L{ev['last']['line']}")
        file = self.files[0] if self.files else "ais"
        return self._prov(file, f"{detector}:{event.mmsis[0]}@{iso(event.start)}")

    def build(self, refs: dict[int, VesselRef]) -> list[Record]:
        self._vessels(refs)
        self._identity(refs)
        self._claimed_imos(refs)
        for event in self.detection.events:
            detector, keys = ANOMALY_DETECTORS.get(event.props.get("kind"), DETECTOR_PARAMS[event.kind])
            params = params_json(self.params, keys)
            handler = getattr(self, f"_{event.kind}")
            handler(event, refs, detector, params)
        for port in self._ports.values():
            self._port(port)
        return self.records

    # ---- vessels and identity -------------------------------------------------------------------

    def _vessels(self, refs: dict[int, VesselRef]) -> None:
        runs = self.detection.identity_runs
        latest: dict[tuple[int, str], str] = {}
        if runs.height:
            for row in runs.sort("last").iter_rows(named=True):
                latest[(int(row["mmsi"]), row["field"])] = row["value"]
        file = self.files[0] if self.files else "ais"
        for mmsi, ref in refs.items():
            props: dict[str, Any] = {}
            if not ref.exists:
                props = {"mmsi": str(mmsi), "name": latest.get((mmsi, "name"))}
                props["call_sign"] = latest.get((mmsi, "call_sign"))
                imo = latest.get((mmsi, "imo"))
                props["imo"] = imo if imo and is_valid_imo(imo) else None
            self.records.append(NodeRecord("Vessel", ref.key, props, self._prov(file, f"mmsi:{mmsi}")))

    def _identity(self, refs: dict[int, VesselRef]) -> None:
        from loaders.identifiers import call_sign_record, identity_anomalies, mmsi_record

        tracks = self.detection.tracks
        for vid, mmsi in enumerate(tracks.mmsis):
            ref = refs.get(int(mmsi))
            if ref is None:
                continue
            a, b = int(tracks.starts[vid]), int(tracks.ends[vid]) - 1
            file = self.files[int(tracks.src[a])]
            prov = self._prov(file, f"L{tracks.line[a]}")
            self.records.append(mmsi_record(str(mmsi), prov))
            for t, i in ((tracks.t[a], a), (tracks.t[b], b)):
                self.records.append(
                    EdgeRecord(
                        "HAS_MMSI", "Vessel", ref.key, "Mmsi", str(mmsi),
                        provenance=self._prov(file, f"L{tracks.line[i]}"), observed=day(int(t)),
                    )
                )  # fmt: skip
            if ref.flag:
                self.records += identity_anomalies(
                    "Vessel", ref.key, provenance=prov, mmsi=str(mmsi), flag=ref.flag
                )
        runs = self.detection.identity_runs
        if not runs.height:
            return
        for row in runs.iter_rows(named=True):
            ref = refs.get(int(row["mmsi"]))
            if ref is None or row["field"] == "imo":
                continue
            file = self.files[int(row["src"])]
            prov = self._prov(file, f"L{row['line']}")
            if row["field"] == "name":
                key = name_key(row["value"])
                if not key:
                    continue
                self.records.append(NodeRecord("VesselName", key, {"name": key}, prov))
                rel, label = "NAMED", "VesselName"
            else:
                node = call_sign_record(row["value"], prov)
                self.records.append(node)
                key, rel, label = node.key, "HAS_CALL_SIGN", "CallSign"
            for t in sorted({day(row["first"]), day(row["last"])}):
                self.records.append(
                    EdgeRecord(rel, "Vessel", ref.key, label, key, provenance=prov, observed=t)
                )

    def _claimed_imos(self, refs: dict[int, VesselRef]) -> None:
        """IMOs broadcast that fail the check (wrong check digit, not seven digits): kept on the vessel as
        ``claimed_imos`` with an ``invalid_imo`` Anomaly, each citing the first report that claimed it;
        never a key (``resolve_vessels`` keys only valid ones)."""
        from loaders.identifiers import identity_anomalies

        runs = self.detection.identity_runs
        if not runs.height:
            return
        seen: set[tuple[int, str]] = set()
        for row in runs.filter(pl.col("field") == "imo").sort("first", "line").iter_rows(named=True):
            mmsi, value = int(row["mmsi"]), row["value"]
            ref = refs.get(mmsi)
            if ref is None or is_valid_imo(value) or (mmsi, value) in seen:
                continue
            seen.add((mmsi, value))
            self.detection.counts["invalid_imos_claimed"] = len(seen)
            prov = self._prov(self.files[int(row["src"])], f"L{row['line']}")
            self.records.append(NodeRecord("Vessel", ref.key, {"claimed_imos": [value]}, prov))
            self.records += identity_anomalies(
                "Vessel", ref.key, provenance=prov, claimed_imos=[value], observed=day(row["first"])
            )

    # ---- events ---------------------------------------------------------------------------------

    def _evidence(self, event: det.Event) -> list[str]:
        out = []
        for ev in event.evidence:
            item = {
                "mmsi": ev["mmsi"],
                "file": self.names.get(ev["file"], ev["file"]),
                "points": ev["points"],
                "first": {**ev["first"], "t": iso(ev["first"]["t"])},
                "last": {**ev["last"], "t": iso(ev["last"]["t"])},
            }
            out.append(json.dumps(item, sort_keys=True, separators=(",", ":")))
        return out

    @staticmethod
    def _shore(label: str, event: det.Event) -> dict[str, Any]:
        declared = default_schema().node(label).properties
        return {k: event.props[k] for k in SHORE_PROPS if k in event.props and k in declared}

    def _key(self, prefix: str, event: det.Event, params: str, extra: str = "") -> str:
        ids = "-".join(str(m) for m in event.mmsis)
        return f"{prefix}:ais:{ids}:{iso(event.start)}{extra}:{params_digest(params)}"

    def _encounter(self, event: det.Event, refs: dict[int, VesselRef], detector: str, params: str) -> None:
        prov = self._event_prov(event, detector)
        key = self._key("sts", event, params)
        p = event.props
        threshold = self.params["draught_min_change_m"]
        cargo_parts = []
        edges = []
        for mmsi, (before, after) in zip(event.mmsis, p["draughts"], strict=True):
            activity, change = det.draught_activity(before, after, threshold)
            role = {"loading": "receiver", "discharging": "giver"}.get(activity, "unknown")
            ref = refs[mmsi]
            lo, hi = draught_range(self.detection, mmsi)
            cargo = det.implied_cargo_t(change, ref.deadweight, lo, hi)
            if cargo is not None:
                cargo_parts.append(f"{mmsi}: ~{cargo:.0f} t implied by draught {before} → {after} m")
            props = {"role": role, "draught_before": before, "draught_after": after, "implied_cargo_t": cargo}
            edges.append(
                EdgeRecord("PARTICIPATED_IN", "Vessel", ref.key, "StsTransfer", key, "", props, prov)
            )
        node = {
            "start": iso(event.start),
            "end": iso(event.end),
            "lat": p["lat"],
            "lon": p["lon"],
            "hours": p["hours"],
            "min_distance_m": p["min_distance_m"],
            "median_speed_knots": p["median_speed_knots"],
            "evidence": self._evidence(event),
            "detector": detector,
            "parameters": params,
            "cargo": "; ".join(cargo_parts) or None,
            **self._shore("StsTransfer", event),
        }
        self.records.append(NodeRecord("StsTransfer", key, node, prov))
        self.records += edges

    def _loitering(self, event: det.Event, refs: dict[int, VesselRef], detector: str, params: str) -> None:
        prov = self._event_prov(event, detector)
        key = self._key("loiter", event, params)
        p = event.props
        node = {
            "start": iso(event.start),
            "end": iso(event.end),
            "lat": p["lat"],
            "lon": p["lon"],
            "hours": p["hours"],
            "median_speed_knots": p["median_speed_knots"],
            "evidence": self._evidence(event),
            "detector": detector,
            "parameters": params,
            **self._shore("Loitering", event),
        }
        self.records.append(NodeRecord("Loitering", key, node, prov))
        self.records.append(
            EdgeRecord("LOITERED", "Vessel", refs[event.mmsis[0]].key, "Loitering", key, "", {}, prov)
        )

    def _gap(self, event: det.Event, refs: dict[int, VesselRef], detector: str, params: str) -> None:
        prov = self._event_prov(event, detector)
        key = self._key("gap", event, params)
        node = {
            "start": iso(event.start),
            "end": iso(event.end),
            **{k: v for k, v in event.props.items() if k not in SHORE_PROPS},
            **self._shore("AisGap", event),
            "evidence": self._evidence(event),
            "detector": detector,
            "parameters": params,
        }
        self.records.append(NodeRecord("AisGap", key, node, prov))
        self.records.append(
            EdgeRecord("WENT_DARK", "Vessel", refs[event.mmsis[0]].key, "AisGap", key, "", {}, prov)
        )

    def _port_call(self, event: det.Event, refs: dict[int, VesselRef], detector: str, params: str) -> None:
        prov = self._event_prov(event, detector)
        p = event.props
        port: Port = p["port"]
        self._ports[port.key] = port
        key = self._key("portcall", event, params, f":{port.key}")
        mmsi = event.mmsis[0]
        activity, change = det.draught_activity(
            p["draught_in"], p["draught_out"], self.params["draught_min_change_m"]
        )
        lo, hi = draught_range(self.detection, mmsi)
        cargo = det.implied_cargo_t(change, refs[mmsi].deadweight, lo, hi)
        node = {
            "arrival": iso(event.start),
            "departure": None if p["open_end"] else iso(event.end),
            "hours": p["hours"],
            "draught_in": p["draught_in"],
            "draught_out": p["draught_out"],
            "draught_change_m": change,
            "activity": activity,
            "implied_cargo_t": cargo,
            "implied_cargo_bbl": round(cargo * self.params["barrels_per_tonne"]) if cargo else None,
            "evidence": self._evidence(event),
            "detector": detector,
            "parameters": params,
        }
        self.records.append(NodeRecord("PortCall", key, node, prov))
        self.records.append(EdgeRecord("MADE_CALL", "Vessel", refs[mmsi].key, "PortCall", key, "", {}, prov))
        self.records.append(EdgeRecord("AT_PORT", "PortCall", key, "Port", port.key, "", {}, prov))

    def _anomaly(self, event: det.Event, refs: dict[int, VesselRef], detector: str, params: str) -> None:
        from loaders.identifiers import anomaly_key

        prov = self._event_prov(event, detector)
        p = event.props
        mmsi = event.mmsis[0]
        targets = [("Vessel", refs[mmsi].key)]
        if p["kind"] == "mmsi_cloning":
            targets.append(("Mmsi", str(mmsi)))
        for label, key in targets:
            akey = anomaly_key(p["kind"], label, key, p["value"])
            node = {
                "kind": p["kind"],
                "detail": p["detail"],
                "detector": detector,
                "parameters": params if p["kind"] in ("mmsi_cloning", *ANOMALY_DETECTORS) else "{}",
                "observed": iso(event.start),
                "evidence": self._evidence(event),
            }
            self.records.append(NodeRecord("Anomaly", akey, node, prov))
            self.records.append(EdgeRecord("HAS_ANOMALY", label, key, "Anomaly", akey, "", {}, prov))

    def _port(self, port: Port) -> None:
        prov = Provenance("shadowfleet-ports", f"ports.csv#{port.key}", "")
        props = {
            "name": port.name,
            "locode": port.locode,
            "country": port.country,
            "lat": port.lat,
            "lon": port.lon,
        }
        self.records.append(NodeRecord("Port", port.key, props, prov))
        country = lookup_country(port.country) if port.country else None
        if country is not None:
            self.records.append(country.record())
            self.records.append(
                EdgeRecord("LOCATED_IN", "Port", port.key, "Country", country.code, "", {}, prov)
            )


def static_imos(detection: Detection) -> dict[int, str]:
    """The latest valid IMO each MMSI broadcast."""
    runs = detection.identity_runs
    out: dict[int, str] = {}
    if not runs.height:
        return out
    for row in runs.filter(runs["field"] == "imo").sort("last").iter_rows(named=True):
        if is_valid_imo(row["value"]):
            out[int(row["mmsi"])] = row["value"]
    return out


def event_mmsis(detection: Detection, with_positions: bool = False) -> set[int]:
    """MMSIs that appear in an event or in a static report (and, optionally, every MMSI with positions)."""
    found = {int(m) for m in detection.tracks.mmsis} if with_positions else set()
    runs = detection.identity_runs
    if runs.height:
        found.update(int(m) for m in runs["mmsi"].unique().to_list())
    for event in detection.events:
        found.update(event.mmsis)
    return found
