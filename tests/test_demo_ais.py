"""The demo case's AIS tracks (fixtures/demo/ais): they decode in full; `detect` re-derives the case's STS
transfers from them, its dark periods and port calls, and nothing among the innocent traffic; and the
supply-chains query finds the case's chains on a graph whose transfers come from the AIS alone.

Each extract is detected on its own, as fixtures/demo/ais/SOURCE.md says to run it. The dry detections
are made once per module; the graph (the demo case without the imagery transfers and the analyst's gaps,
plus the detected events) is loaded once per store.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import test_demo_case as demo_case  # the ground-truth checker of the demo case, reused as is
import yaml
from rich.console import Console

from graph.memory_store import MemoryStore
from graph.store import Store
from loaders.ais import detectors as det
from loaders.ais.decode import AisBatch, read_ais
from loaders.ais.params import resolve
from loaders.ais.pipeline import Detection
from loaders.ais.records import static_imos
from loaders.base import LoadOptions
from shadowfleet.commands.demo import FIXTURES, CaseLoad, read_manifest
from shadowfleet.commands.detect import detect_into
from shadowfleet.commands.load import load_into

AIS = FIXTURES / "ais"
FILES = sorted(AIS.glob("*.nmea"))
CONTENTS: dict[str, Any] = yaml.safe_load((AIS / "contents.yaml").read_text(encoding="utf-8"))["files"]
TRANSFERS = [
    json.loads(line)
    for line in (FIXTURES / "events" / "sts-transfers.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
GFW = resolve("gfw")
STEP_S = GFW["resample_minutes"] * 60
RETRIEVED = "2025-03-15T00:00:00Z"
# The inputs the detected events replace in the graph.
REPLACED = {"sts-transfers.jsonl", "ais-gaps.jsonl"}
# A transfer the tracks hold that GFW's encounter definition rightly leaves out.
NOT_ENCOUNTERS = {
    frozenset({"4202008", "4201664"}): "bunkering 5.5 km from the Nakhodka port point, inside "
    "encounter_min_port_distance_km (10 km): a port operation, not an encounter at sea",
}
NAMES = {key.removeprefix("imo:"): label for label, key in demo_case.NAMES.items()}
_QUIET = Console(file=open(os.devnull, "w"), stderr=False)  # noqa: SIM115 - lives as long as the module


def unix(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def day(t: int) -> str:
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d")


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Extract:
    """One AIS file read and detected on its own, with each MMSI's broadcast IMO."""

    path: Path
    batch: AisBatch
    detection: Detection
    imos: dict[int, str]

    def imo_pair(self, event: det.Event) -> frozenset[str]:
        return frozenset(self.imos[m] for m in event.mmsis)

    def span(self, imo: str) -> tuple[int, int] | None:
        """First and last report time of the vessel broadcasting ``imo`` in this extract."""
        mmsis = [m for m, i in self.imos.items() if i == imo]
        times = self.batch.positions.filter(self.batch.positions["mmsi"].is_in(mmsis))["t"]
        return (int(times.min()), int(times.max())) if len(times) else None

    def reports_near(self, imo: str, t: int, within_s: int) -> bool:
        mmsis = [m for m, i in self.imos.items() if i == imo]
        pos = self.batch.positions
        near = pos.filter(pos["mmsi"].is_in(mmsis) & ((pos["t"] - t).abs() <= within_s))
        return near.height > 0


@cache
def extract(path: Path, **overrides: Any) -> Extract:
    batch, detection, _, _ = detect_into(None, [path], resolve("gfw", overrides))
    return Extract(path, batch, detection, static_imos(detection))


def extracts(**overrides: Any) -> list[Extract]:
    return [extract(path, **overrides) for path in FILES]


def encounters(**overrides: Any) -> list[tuple[Extract, det.Event]]:
    return [(x, e) for x in extracts(**overrides) for e in x.detection.of("encounter")]


def shipped(transfer: dict[str, Any]) -> bool:
    """Both vessels report within an hour of the transfer's start and of its end, in one extract."""
    start, end = unix(transfer["start"]), unix(transfer["end"])
    return any(
        all(x.reports_near(transfer[k], t, 3600) for k in ("vessel_imo", "vessel2_imo") for t in (start, end))
        for x in extracts()
    )


def pair(transfer: dict[str, Any]) -> frozenset[str]:
    return frozenset({transfer["vessel_imo"], transfer["vessel2_imo"]})


def label(imos: frozenset[str]) -> str:
    return " + ".join(sorted(NAMES.get(i, i) for i in imos))


# ---- the files ---------------------------------------------------------------------------------------


def test_contents_lists_every_extract() -> None:
    assert {p.name for p in FILES} == set(CONTENTS) and len(FILES) == 9


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_extract_decodes_in_full(path: Path) -> None:
    listed = CONTENTS[path.name]
    batch = read_ais([path])
    assert batch.rejects == []
    assert batch.counts["lines"] == listed["lines"]
    assert batch.positions.height == listed["positions"]
    assert batch.statics.height == listed["static_reports"]
    assert batch.counts["messages_decoded"] == listed["positions"] + listed["static_reports"]
    assert batch.positions["t"].null_count() == 0 and batch.statics["t"].null_count() == 0
    per_mmsi = {str(m): n for m, n in batch.positions.group_by("mmsi").len().iter_rows()}
    assert per_mmsi == {mmsi: v["positions"] for mmsi, v in listed["vessels"].items()}
    identities = {(str(r["mmsi"]), r["imo"], r["name"]) for r in batch.statics.iter_rows(named=True)}
    assert identities == {(mmsi, v["imo"], v["name"]) for mmsi, v in listed["vessels"].items()}
    first = datetime.fromtimestamp(int(batch.positions["t"].min()), tz=UTC)
    assert first.strftime("%Y-%m-%dT%H:%M:%SZ") == listed["first"]


# ---- encounters --------------------------------------------------------------------------------------


def test_every_transfer_of_the_case_is_shipped() -> None:
    missing = [f"{label(pair(t))} {t['start']}" for t in TRANSFERS if not shipped(t)]
    assert missing == []


def test_detect_rederives_the_transfers_and_nothing_else() -> None:
    found = encounters()
    problems = []
    used: set[int] = set()
    for transfer in TRANSFERS:
        if pair(transfer) in NOT_ENCOUNTERS:
            continue
        start = unix(transfer["start"])
        matches = [
            k
            for k, (x, e) in enumerate(found)
            if x.imo_pair(e) == pair(transfer)
            and abs(e.start - start) <= STEP_S
            and km(e.props["lat"], e.props["lon"], transfer["lat"], transfer["lon"]) <= 1.0
        ]
        if len(matches) != 1:
            problems.append(
                f"{label(pair(transfer))} {transfer['start']}: {len(matches)} matching encounters"
            )
        used.update(matches)
    for k, (x, e) in enumerate(found):
        if k not in used:
            problems.append(f"unexpected encounter {label(x.imo_pair(e))} {day(e.start)} in {x.path.name}")
    assert problems == []
    assert len(found) == len(TRANSFERS) - len(NOT_ENCOUNTERS)


def test_the_transfer_left_out_is_in_the_tracks() -> None:
    """The bunkering is there to be found with a 5 km port exclusion: GFW's 10 km leaves it out."""
    close_in = {x.imo_pair(e) for x, e in encounters(encounter_min_port_distance_km=5.0)}
    assert set(NOT_ENCOUNTERS) <= close_in


def test_innocent_traffic_is_close_but_never_an_encounter() -> None:
    """The moored pair and the pass-by do come within 500 m of another ship: only the definition (port
    distance, speed and duration) keeps them out."""
    moored = {frozenset({"4201872", "4201664"}), frozenset({"4201664", "4101010"})}
    passing = {frozenset({"4202450", "4100030"}), frozenset({"4202450", "4100212"})}
    detected = {x.imo_pair(e) for x, e in encounters()}
    assert not (moored | passing) & detected
    in_port = {x.imo_pair(e) for x, e in encounters(encounter_min_port_distance_km=0.0)}
    assert moored <= in_port
    naive = encounters(encounter_min_duration_minutes=0, encounter_max_median_speed_knots=100.0)
    passes = {x.imo_pair(e): e for x, e in naive if x.imo_pair(e) in passing}
    assert set(passes) == passing
    assert all(e.props["median_speed_knots"] > 2 and e.end - e.start < 3600 for e in passes.values())


def test_every_encounter_carries_the_evidence_of_both_vessels() -> None:
    problems = [
        f"{label(x.imo_pair(e))} {day(e.start)}: evidence of {len(e.evidence)} vessel(s)"
        for x, e in encounters()
        if {ev["mmsi"] for ev in e.evidence} != {str(m) for m in e.mmsis}
    ]
    assert problems == []


def test_draughts_give_roles_and_port_activities() -> None:
    """Each vessel's draught goes down where the story has it give and up where it receives or loads."""
    threshold = GFW["draught_min_change_m"]
    problems = []
    for x, e in encounters():
        transfer = next(t for t in TRANSFERS if pair(t) == x.imo_pair(e) and t["start"][:10] == day(e.start))
        roles = {
            transfer["vessel_imo"]: transfer["vessel_role"],
            transfer["vessel2_imo"]: transfer["vessel2_role"],
        }
        for mmsi, (before, after) in zip(e.mmsis, e.props["draughts"], strict=True):
            activity, _ = det.draught_activity(before, after, threshold)
            got = {"loading": "receiver", "discharging": "giver"}.get(activity, activity)
            if got != roles[x.imos[mmsi]]:
                problems.append(f"{NAMES.get(x.imos[mmsi])} {day(e.start)}: {got}, not {roles[x.imos[mmsi]]}")
    recorded = {
        (r["vessel_imo"], r["port_locode"], r["arrival"][:10]): r["activity"] for r in port_call_rows()
    }
    wanted = {"loading": "loading", "discharge": "discharging", "cargo operations": "none"}
    for x in extracts():
        for e in x.detection.of("port_call"):
            imo, port = x.imos[e.mmsis[0]], e.props["port"].key
            activity, _ = det.draught_activity(e.props["draught_in"], e.props["draught_out"], threshold)
            if activity != wanted[recorded[(imo, port, day(e.start))]]:
                problems.append(f"{NAMES.get(imo, imo)} at {port} {day(e.start)}: {activity}")
    assert problems == []


# ---- dark periods and port calls ---------------------------------------------------------------------


def analyst_gaps() -> list[tuple[str, int, int]]:
    """The analyst's AIS gaps as (IMO, start, end)."""
    lines = [json.loads(line) for line in (FIXTURES / "analyst" / "ais-gaps.jsonl").read_text().splitlines()]
    gaps = {r["key"]: r["props"] for r in lines if r.get("node") == "AisGap"}
    return [
        (r["from"][1].removeprefix("imo:"), unix(gaps[r["to"][1]]["start"]), unix(gaps[r["to"][1]]["end"]))
        for r in lines
        if r.get("rel") == "WENT_DARK"
    ]


def test_detected_gaps_are_the_analyst_gaps() -> None:
    """Every detected gap lies inside an analyst gap of the same vessel and starts or ends with it;
    every analyst gap the tracks reach (reports just before and just after it) holds a detected one.
    A gap that covered a transfer is two silences around it (README.md, "AIS tracks")."""
    analyst = analyst_gaps()
    detected = [(x.imos[e.mmsis[0]], e.start, e.end) for x in extracts() for e in x.detection.of("gap")]
    strays = [
        (NAMES.get(i), day(s))
        for i, s, e in detected
        if not any(i == a and a0 <= s and e <= a1 and (s == a0 or e == a1) for a, a0, a1 in analyst)
    ]
    assert strays == []
    reached = [
        (i, s, e)
        for i, s, e in analyst
        if any(x.reports_near(i, s, 1) and x.reports_near(i, e, 1) for x in extracts())
    ]
    empty = [
        (NAMES.get(i), day(s))
        for i, s, e in reached
        if not any(d[0] == i and s <= d[1] <= e for d in detected)
    ]
    assert empty == []
    not_reached = sorted(NAMES.get(i, i) for i, s, e in analyst if (i, s, e) not in reached)
    assert not_reached == ["HANBIT GLORY", "JIN LUN 9", "KALYPSO NAXOS"]  # the innocent gaps, not shipped


def port_call_rows() -> list[dict[str, str]]:
    import csv

    with (FIXTURES / "events" / "port-calls.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_detected_port_calls_are_the_recorded_ones() -> None:
    """Each detected port call is a row of port-calls.csv (vessel, port, arrival within an hour), and each
    row of a tracked vessel that the extract covers from arrival to departure is detected."""
    rows = port_call_rows()
    problems = []
    for x in extracts():
        detected = [(x.imos[e.mmsis[0]], e.props["port"].key, e.start) for e in x.detection.of("port_call")]
        spans = {imo: x.span(imo) for imo in set(x.imos.values())}
        covered = [
            r
            for r in rows
            if spans.get(r["vessel_imo"])
            and spans[r["vessel_imo"]][0] <= unix(r["arrival"])
            and unix(r["departure"]) <= spans[r["vessel_imo"]][1]
        ]
        for imo, port, arrival in detected:
            if not any(
                r["vessel_imo"] == imo
                and r["port_locode"] == port
                and abs(unix(r["arrival"]) - arrival) <= 3600
                for r in covered
            ):
                problems.append(f"{x.path.name}: invented call {NAMES.get(imo, imo)} {port} {day(arrival)}")
        for r in covered:
            if not any(
                d[0] == r["vessel_imo"]
                and d[1] == r["port_locode"]
                and abs(unix(r["arrival"]) - d[2]) <= 3600
                for d in detected
            ):
                problems.append(
                    f"{x.path.name}: missed call {r['vessel_name']} {r['port_locode']} {r['arrival']}"
                )
    assert problems == []


# ---- the graph: the demo case with detected events instead of imagery and analyst gaps ----------------


@dataclass
class DetectedCase:
    store: Store
    load: CaseLoad


def load_detected_case(store: Store) -> CaseLoad:
    """The demo case without the imagery transfers and the analyst's gaps, then each AIS extract."""
    result = CaseLoad()
    for entry in read_manifest():
        if {p.name for p in entry.paths} & REPLACED:
            continue
        output, stats = load_into(store, entry.format, list(entry.paths), entry.options(), _QUIET)
        result.rows_read += output.rows_read
        result.rejects.extend(output.rejects)
        result.stats.add(stats)
    options = LoadOptions(retrieved_at=RETRIEVED, source="demo-ais")
    for path in FILES:
        _, _, stats, _ = detect_into(store, [path], GFW, options=options, source="demo-ais")
        assert stats is not None
        result.stats.add(stats)
    return result


@pytest.fixture(scope="module", params=["memory", "neo4j"])
def detected_case(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DetectedCase]:
    """The detected case loaded into each store once (the Neo4j half shares the server lock of conftest)."""
    if request.param == "memory":
        store: Store = MemoryStore(tmp_path_factory.mktemp("demo-ais"))
        yield DetectedCase(store, load_detected_case(store))
        return
    neo = request.getfixturevalue("neo4j_session_store")
    with request.getfixturevalue("exclusive_neo4j")(neo) as store:
        yield DetectedCase(store, load_detected_case(store))


def test_graph_holds_only_detected_transfers(detected_case: DetectedCase) -> None:
    store = detected_case.store
    assert detected_case.load.rejects == []
    transfers = [node for page in store.scan_nodes("StsTransfer") for node in page]
    assert len(transfers) == len(TRANSFERS) - len(NOT_ENCOUNTERS)
    assert {t.props["detector"] for t in transfers} == {"ais.encounters"}
    assert {t.sources()[0].source for t in transfers} == {"demo-ais"}
    edges = store.edges("StsTransfer", [t.key for t in transfers], ["PARTICIPATED_IN"], "in")
    pairs: dict[str, set[str]] = {}
    for edge in edges:
        pairs.setdefault(edge.dst, set()).add(edge.src.removeprefix("imo:"))
    expected = {(pair(t), t["start"][:10]) for t in TRANSFERS if pair(t) not in NOT_ENCOUNTERS}
    by_key = {t.key: t for t in transfers}
    assert {(frozenset(v), by_key[k].props["start"][:10]) for k, v in pairs.items()} == expected


def test_vessels_broadcast_the_registry_mmsi(detected_case: DetectedCase) -> None:
    """Each MMSI in the tracks is the one the registry gives the vessel on the extract's dates."""
    store = detected_case.store
    problems = []
    for name, listed in CONTENTS.items():
        first, last = listed["first"][:10], listed["last"][:10]
        for mmsi, vessel in listed["vessels"].items():
            edges = store.edges("Vessel", [f"imo:{vessel['imo']}"], ["HAS_MMSI"], "out")
            valid = [
                e
                for e in edges
                if e.dst == mmsi
                and (e.props.get("valid_from") or "") <= first
                and (e.props.get("valid_to") or "9999") > last
            ]
            if not valid:
                problems.append(f"{name}: {vessel['name']} broadcasts {mmsi}, not its registry MMSI")
    assert problems == []


SUPPLY_CHAINS = [
    pytest.param(index, check, id=f"supply-chains-{index}")
    for index, check in enumerate(demo_case.GROUND_TRUTH["queries"]["supply-chains"])
]


@pytest.mark.parametrize(("index", "check"), SUPPLY_CHAINS)
def test_supply_chains_from_detected_events(
    detected_case: DetectedCase, index: int, check: dict[str, Any]
) -> None:
    """ground_truth.yaml's supply-chains rows, on the graph whose transfers are all detected from AIS."""
    case = demo_case.LoadedCase(detected_case.store, detected_case.load)
    demo_case.test_query_meets_ground_truth(case, "supply-chains", index, check)
