"""Registry snapshots build dated identity history; column mappings and dates cope with messy files."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.records import NodeRecord, Provenance
from graph.store import Store
from loaders import events, ownership, registry
from loaders.base import LoadError, LoadOptions
from loaders.dates import parse_date, parse_datetime
from loaders.mapping import MAPPINGS_DIR, load_mapping, parse_mapping, shipped_mappings

DATA = Path(__file__).parent / "data" / "loaders" / "registry"
WHEN = "2024-02-01T00:00:00Z"
SNAPSHOTS = [
    (DATA / "snap-2023-01.csv", LoadOptions(retrieved_at=WHEN)),
    (DATA / "snap-2023-07.csv", LoadOptions(mapping=Path("registry-edition2"), retrieved_at=WHEN)),
    (DATA / "snap-2024-01.csv", LoadOptions(as_of="12 Jan 2024", retrieved_at=WHEN)),
]
PROV = Provenance("test", "row#1", WHEN)


def load_snapshot(store: Store, index: int) -> registry.LoadOutput:
    path, options = SNAPSHOTS[index]
    out = registry.load([path], options)
    store.write(out.records)
    return out


def periods(store: Store, key: str, rel: str, direction: str = "out") -> list[tuple]:
    found = []
    for edge in store.edges("Vessel", [key], [rel], direction):  # type: ignore[arg-type]
        other = edge.dst if direction == "out" else edge.src
        props = edge.props
        found.append(
            (other, props.get("valid_from"), props.get("valid_to"), props["first_seen"], props["last_seen"])
        )
    return sorted(found, key=lambda p: p[3])


def test_snapshots_build_dated_history(store: Store) -> None:
    rejects = [len(load_snapshot(store, i).rejects) for i in range(3)]
    assert rejects == [2, 1, 0]
    assert periods(store, "imo:1000019", "FLAGGED") == [
        ("PA", None, "2024-01-12", "2023-01-15", "2023-07-15"),
        ("CM", "2024-01-12", None, "2024-01-12", "2024-01-12"),
    ]
    assert periods(store, "imo:1000021", "NAMED") == [
        ("NORTHERN WREN", None, "2023-07-15", "2023-01-15", "2023-01-15"),
        ("WREN STAR", "2023-07-15", None, "2023-07-15", "2024-01-12"),
    ]
    assert periods(store, "imo:1000021", "FLAGGED") == [("CK", None, None, "2023-01-15", "2024-01-12")]
    assert periods(store, "imo:1000019", "REGISTERED_OWNER_OF", "in") == [
        ("imoco:6000011", None, "2024-01-12", "2023-01-15", "2023-07-15"),
        ("imoco:6000038", "2024-01-12", None, "2024-01-12", "2024-01-12"),
    ]
    assert periods(store, "imo:1000019", "HAS_MMSI") == [
        ("352000101", None, "2024-01-12", "2023-01-15", "2023-07-15"),
        ("613000101", "2024-01-12", None, "2024-01-12", "2024-01-12"),
    ]
    # The ISM manager is named with its company number in one column only: still one company.
    assert periods(store, "imo:1000019", "ISM_MANAGER_OF", "in") == [
        ("imoco:6000024", None, None, "2023-01-15", "2024-01-12")
    ]
    assert store.edges("Vessel", ["imo:1000019"], ["OPERATOR_OF", "COMMERCIAL_MANAGER_OF"], "in") == []
    vessel = store.get_node("Vessel", "imo:1000019")
    assert vessel is not None
    assert vessel.props["flag"] == "CM" and vessel.props["deadweight"] == 104500.0
    assert [p.record for p in vessel.sources()] == [
        "snap-2023-01.csv#2",
        "snap-2023-07.csv#2",
        "snap-2024-01.csv#2",
    ]


def test_invalid_imo_is_claimed_not_keyed(store: Store) -> None:
    load_snapshot(store, 0)
    assert store.get_node("Vessel", "imo:1234568") is None
    petrel = store.get_node("Vessel", "mmsi:671000303")
    assert petrel is not None
    assert petrel.props["claimed_imos"] == ["1234568"] and "imo" not in petrel.props
    anomalies = store.edges("Vessel", ["mmsi:671000303"], ["HAS_ANOMALY"], "out")
    assert [e.dst for e in anomalies] == ["anomaly:invalid_imo:Vessel:mmsi:671000303:1234568"]


def test_loading_a_snapshot_again_changes_nothing(store: Store) -> None:
    for i in range(3):
        load_snapshot(store, i)
    before = store.counts()
    keys = ["imo:1000019", "imo:1000021", "mmsi:671000303"]
    edges_before = sorted(
        store.edges("Vessel", keys, None, "out") + store.edges("Vessel", keys, None, "in"), key=repr
    )
    for i in (2, 0, 1):
        stats = store.write(registry.load([SNAPSHOTS[i][0]], SNAPSHOTS[i][1]).records)
        assert stats.nodes_created == 0 and stats.edges_created == 0
    assert store.counts() == before
    edges_after = sorted(
        store.edges("Vessel", keys, None, "out") + store.edges("Vessel", keys, None, "in"), key=repr
    )
    assert edges_after == edges_before


def test_rejects_name_the_line_and_the_fault() -> None:
    out = registry.load([DATA / "snap-2023-01.csv"], LoadOptions(retrieved_at=WHEN))
    assert out.rows_read == 5
    assert [(r.line, r.reason) for r in out.rejects] == [
        (5, "flag: unknown country 'Atlantis'"),
        (6, "mmsi: '12345' is not nine digits"),
    ]
    assert out.rejects[0].file.endswith("snap-2023-01.csv") and "SILENT ALBATROSS" in out.rejects[0].raw


def test_provenance_and_progress() -> None:
    seen: list[int] = []
    out = registry.load(
        [DATA / "snap-2024-01.csv"], LoadOptions(as_of="2024-01-12", source="reg-x", progress=seen.append)
    )
    assert sum(seen) == out.rows_read == 2
    assert {r.provenance for r in out.records if getattr(r, "label", None) != "Country"} == {
        Provenance("reg-x", "snap-2024-01.csv#2", out.records[0].provenance.retrieved_at),  # type: ignore[union-attr]
        Provenance("reg-x", "snap-2024-01.csv#3", out.records[0].provenance.retrieved_at),  # type: ignore[union-attr]
    }
    observed = {r.observed for r in out.records if not isinstance(r, NodeRecord)}
    assert observed == {"2024-01-12"}


def test_missing_required_column_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "no-name.csv"
    path.write_text("imo,flag\n1000019,PA\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"no-name\.csv: no column for required field 'name'"):
        registry.load([path], LoadOptions(as_of="2024-01-01"))


def test_missing_snapshot_date_is_a_load_error() -> None:
    with pytest.raises(LoadError, match=r"snap-2024-01\.csv: no snapshot date"):
        registry.load([DATA / "snap-2024-01.csv"], LoadOptions())
    with pytest.raises(LoadError, match="--as-of"):
        registry.load([DATA / "snap-2024-01.csv"], LoadOptions(as_of="someday"))


def test_snapshot_records_pure() -> None:
    records = registry.snapshot_records(
        {"imo": "IMO 1000018", "name": "QUIET FERN", "mmsi": "0", "registered_owner": "Fern Lines Ltd"},
        "2024-01-01",
        PROV,
    )
    vessel = records[0]
    assert isinstance(vessel, NodeRecord)
    assert vessel.key.startswith("vsl:") and vessel.props["claimed_imos"] == ("1000018",)
    assert {r.type for r in records if not isinstance(r, NodeRecord)} == {
        "NAMED",
        "REGISTERED_OWNER_OF",
        "HAS_ANOMALY",
    }
    assert [r.key for r in records if isinstance(r, NodeRecord) and r.label == "Anomaly"] == [
        f"anomaly:invalid_imo:Vessel:{vessel.key}:1000018"
    ]
    with pytest.raises(ValueError, match="no vessel identifier"):
        registry.snapshot_records({"flag": None}, "2024-01-01", PROV)
    with pytest.raises(ValueError, match="build_year"):
        registry.snapshot_records({"name": "X", "build_year": 1066}, "2024-01-01", PROV)


@pytest.mark.parametrize(
    ("raw", "order", "expected"),
    [
        ("2021-03-12", "DMY", "2021-03-12"),
        ("12/03/2021", "DMY", "2021-03-12"),
        ("03/12/2021", "MDY", "2021-03-12"),
        ("12.03.2021", "DMY", "2021-03-12"),
        ("12 Mar 2021", "DMY", "2021-03-12"),
        ("23-MAR-2006", "MDY", "2006-03-23"),
        ("March 12, 2021", "DMY", "2021-03-12"),
        ("20210312", "DMY", "2021-03-12"),
        ("2021/03/12", "DMY", "2021-03-12"),
        ("2021-03-12T23:10:00+05:00", "DMY", "2021-03-12"),
    ],
)
def test_parse_date(raw: str, order: str, expected: str) -> None:
    assert parse_date(raw, order) == expected


@pytest.mark.parametrize("raw", ["31/02/2021", "13/13/2021", "yesterday", "2021", "12 Foo 2021"])
def test_parse_date_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_date(raw)


def test_parse_datetime_and_partial_dates() -> None:
    assert parse_datetime("2021-03-12T10:00:00+02:00") == "2021-03-12T08:00:00Z"
    assert parse_datetime("12/03/2021 14:30") == "2021-03-12T14:30:00Z"
    assert parse_datetime("2021-03-12") == "2021-03-12"
    assert parse_datetime("1615557600") == "2021-03-12T14:00:00Z"
    assert parse_date("2021", partial=True) == "2021" and parse_date("2021-3", partial=True) == "2021-03"


@pytest.mark.parametrize(
    ("document", "fault"),
    [
        (
            {"format": "events", "fields": {"name": "x"}},
            "format is 'events', but this is the 'registry' loader",
        ),
        ({"format": "registry", "fields": {"nmae": "x"}}, "unknown field 'nmae'"),
        ({"format": "registry", "fields": {"name": {"colum": "x"}}}, "field 'name': unknown key 'colum'"),
        ({"format": "registry", "fields": {"name": {}}}, "field 'name' needs a column or a constant"),
        ({"format": "registry", "dates": {"order": "DDMM"}, "fields": {"name": "x"}}, "dates.order"),
        ({"format": "registry", "fields": {"name": "x", "as_of": {"constant": "soon"}}}, "constant"),
        ({"format": "registry", "csv": {"delimiter": ";;"}, "fields": {"name": "x"}}, "single character"),
        ({"format": "registry", "fields": {}}, "'fields' must map"),
        ({"format": "registry", "fields": {"name": "x"}, "extra": 1}, "unknown key 'extra'"),
        ([1, 2], "must be a mapping"),
    ],
)
def test_mapping_faults_name_the_file(document: object, fault: str) -> None:
    with pytest.raises(LoadError, match=r"bad\.yaml: invalid mapping: .*" + fault.replace("(", r"\(")):
        parse_mapping(document, Path("bad.yaml"), "registry", registry.CATALOGUE)


def test_mapping_file_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: registry\nfields: [unclosed\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"broken\.yaml: invalid mapping: not valid YAML"):
        load_mapping(broken, "registry", registry.CATALOGUE)
    with pytest.raises(LoadError, match="no such mapping file"):
        registry.load([DATA / "snap-2023-01.csv"], LoadOptions(mapping=tmp_path / "absent.yaml"))


def test_mapping_constants_renamed_columns_and_empty_values(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "format: registry\n"
        "dates: {order: MDY}\n"
        "fields:\n"
        "  name: {columns: [Vessel, 'Ship Name'], required: true}\n"
        "  flag: {column: Flag, values: {Liberia Intl: LR}}\n"
        "  as_of: Date\n"
        "  vessel_type: {constant: Tanker}\n",
        encoding="utf-8",
    )
    data = tmp_path / "s.csv"
    data.write_text("ship_name;FLAG;date\nLOW TIDE;Liberia Intl;03/12/2021\nNONE SUCH;Unknown;03/12/2021\n")
    out = registry.load([data], LoadOptions(mapping=mapping))
    vessels = [r for r in out.records if isinstance(r, NodeRecord) and r.label == "Vessel"]
    assert [dict(v.props) for v in vessels] == [
        {"name": "LOW TIDE", "flag": "LR", "vessel_type": "Tanker"},
        {"name": "NONE SUCH", "vessel_type": "Tanker"},
    ]
    assert {r.observed for r in out.records if not isinstance(r, NodeRecord)} == {"2021-03-12"}


def test_shipped_mappings_are_valid() -> None:
    catalogues = {
        "registry": registry.CATALOGUE,
        "ownership": ownership.CATALOGUE,
        "events": events.CATALOGUE,
    }
    names = shipped_mappings()
    assert {"registry-generic", "registry-edition2", "ownership-generic", "events-generic"} <= set(names)
    for name in names:
        fmt = name.split("-")[0]
        mapping = load_mapping(MAPPINGS_DIR / f"{name}.yaml", fmt, catalogues[fmt])
        assert mapping.fields


def _history(store: Store) -> dict[str, object]:
    """Every period of the test vessels (all fields, sources) and their properties."""
    keys = ["imo:1000019", "imo:1000021"]
    rels = ["NAMED", "FLAGGED", "HAS_MMSI", "HAS_CALL_SIGN"]
    owners = ["REGISTERED_OWNER_OF", "SHIP_MANAGER_OF", "ISM_MANAGER_OF", "OPERATOR_OF"]
    edges = store.edges("Vessel", keys, rels, "out") + store.edges("Vessel", keys, owners, "in")
    return {
        "edges": sorted(
            (
                e.type,
                e.src,
                e.dst,
                e.key,
                sorted((k, str(v)) for k, v in e.props.items()),
                sorted(e.provenance),
            )
            for e in edges
        ),
        "nodes": {k: (v.props, sorted(v.claims)) for k, v in store.get_nodes("Vessel", keys).items()},
    }


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0), (0, 2, 1)])
def test_snapshots_in_any_order_give_the_same_graph(store: Store, order: tuple[int, ...]) -> None:
    from graph.memory_store import MemoryStore

    reference = MemoryStore(None)
    for index in range(3):
        load_snapshot(reference, index)
    for index in order:
        load_snapshot(store, index)
    assert _history(store) == _history(reference)
