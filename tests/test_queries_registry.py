"""The query registry: shipped queries load; malformed or schema-violating files are refused by name."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from graph.memory_store import MemoryStore
from graph.store import Store, UnsupportedOperation
from queries.engine import decode_provenance, run_query
from queries.registry import (
    ParamError,
    QueryDefinitionError,
    UnknownQuery,
    get,
    load_all,
    load_query,
    referenced_names,
    registry,
)

EXPECTED = {
    "supply-chains",
    "flag-hoppers",
    "identity-changes",
    "shell-networks",
    "ownership-chain",
    "sanctions-exposure",
    "dark-activity",
    "cap-tally",
    "vessel",
    "company",
}
RET = " RETURN v.key AS vessel"
GOOD = {
    "name": "sample",
    "title": "Sample",
    "description": "A sample query.",
    "params": [{"name": "as_of", "type": "date", "default": "today", "description": "date"}],
    "columns": [{"name": "vessel", "description": "key"}],
    "cypher": "MATCH (v:Vessel)-[f:FLAGGED]->(:Country) WHERE f.valid_from <= $as_of" + RET,
}


def write(tmp_path: Path, **changes: object) -> Path:
    data = {**GOOD, **changes}
    path = tmp_path / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_every_query_is_shipped_with_an_embedded_implementation() -> None:
    specs = registry()
    assert set(specs) == EXPECTED
    for spec in specs.values():
        module = __import__(spec.module, fromlist=["run"])
        assert callable(module.run), spec.name
        if any(p.type == "date" for p in spec.params):
            assert spec.param("as_of") is not None, spec.name
        assert spec.title and spec.description and spec.columns


def test_documentation_covers_every_query() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "queries.md").read_text(encoding="utf-8")
    for name in EXPECTED:
        assert f"## {name}" in text, name


def test_a_good_file_loads(tmp_path: Path) -> None:
    spec = load_query(write(tmp_path))
    assert spec.name == "sample" and spec.column_names == ["vessel"]
    assert referenced_names(spec.cypher) == {"Vessel", "FLAGGED", "Country"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"cypher": "MATCH (v:Ship) WHERE v.name = $as_of" + RET},
            "unknown label or relationship type 'Ship'",
        ),
        ({"cypher": "MATCH (v:Vessel)-[:OWNS]->(c) WHERE v.name = $as_of" + RET}, "'OWNS'"),
        ({"cypher": "MATCH (v:Vessel|Boat) WHERE v.name = $as_of" + RET}, "'Boat'"),
        (
            {"cypher": "MATCH (v:Vessel) WHERE v.name = $as_of AND v.flag = $flag" + RET},
            "$flag",
        ),
        ({"cypher": "MATCH (v:Vessel)" + RET}, "declared but the Cypher never uses it"),
        (
            {"cypher": "MATCH (v:Vessel) WHERE v.colour = $as_of" + RET},
            "unknown property 'colour'",
        ),
        (
            {
                "params": [],
                "cypher": "MATCH (v:Vessel)-[f:FLAGGED]->() WHERE f.valid_from > '2020'" + RET,
            },
            "must take an 'as_of' date",
        ),
        (
            {"cypher": "MATCH (v:Vessel)-[:PARTICIPATED_IN*]-(w) WHERE w.name = $as_of" + RET},
            "without a literal upper bound",
        ),
        (
            {"cypher": "MATCH (v:Vessel)-[:PARTICIPATED_IN*1..3]-(w) WHERE w.name = $as_of" + RET},
            "needs an int 'max_hops'",
        ),
        (
            {"cypher": "MATCH (v:Vessel) ((a)-[r:PARTICIPATED_IN]-(b)){1,} (w) WHERE w.name = $as_of" + RET},
            "without a literal upper bound",
        ),
        ({"name": "Bad Name"}, "must be lower-case"),
        ({"columns": []}, "'columns'"),
        ({"params": [{"name": "as_of", "type": "datetime"}]}, "has type 'datetime'"),
        ({"params": [{"name": "as_of", "type": "int", "default": "soon"}]}, "default of 'as_of' is invalid"),
        ({"extra": 1}, "unknown field 'extra'"),
    ],
)
def test_bad_files_are_refused_naming_the_file(tmp_path: Path, changes: dict, message: str) -> None:
    path = write(tmp_path, **changes)
    with pytest.raises(QueryDefinitionError) as caught:
        load_query(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_path_queries_need_a_hub_cap_too(tmp_path: Path) -> None:
    params = [
        {"name": "as_of", "type": "date", "default": "today"},
        {"name": "max_hops", "type": "int", "default": 2, "max": 3},
    ]
    cypher = (
        "MATCH p = (v:Vessel)-[:PARTICIPATED_IN*1..3]-(w) WHERE length(p) <= $max_hops AND w.name = $as_of "
        "RETURN v.key AS vessel"
    )
    with pytest.raises(QueryDefinitionError, match="max_degree"):
        load_query(write(tmp_path, params=params, cypher=cypher))


def test_strings_and_comments_are_not_mistaken_for_labels(tmp_path: Path) -> None:
    cypher = "// :Ship is fine in a comment\nMATCH (v:Vessel) WHERE v.name = ':Boat' + $as_of" + RET
    assert load_query(write(tmp_path, cypher=cypher)).name == "sample"


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: broken\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(QueryDefinitionError, match=r"broken\.yaml"):
        load_all(tmp_path)


def test_parameters_are_converted_and_checked() -> None:
    spec = get("supply-chains")
    values = spec.bind({"window_days": "45", "as_of": "2024-02-29", "max_hops": 2})
    assert values["window_days"] == 45 and values["as_of"] == "2024-02-29" and values["max_hops"] == 2
    assert spec.bind({})["as_of"] == date.today().isoformat()
    assert spec.bind({})["max_hops"] == 3
    for bad, message in [
        ({"window_days": "soon"}, "'window_days' expects int"),
        ({"as_of": "2024-02-30"}, "'as_of' expects date"),
        ({"as_of": "29/02/2024"}, "'as_of' expects date"),
        ({"max_hops": 5}, "'max_hops' must be at most 4"),
        ({"window_days": -1}, "'window_days' must be at least 0"),
        ({"colour": "red"}, "unknown parameter 'colour'"),
    ]:
        with pytest.raises(ParamError, match=message):
            spec.bind(bad)
    cap = get("cap-tally").bind({"bbl_per_tonne": "7.33", "since": None})
    assert cap["bbl_per_tonne"] == 7.33 and cap["since"] is None
    with pytest.raises(ParamError, match="'vessel' is required"):
        get("ownership-chain").bind({})


def test_unknown_query_and_unsupported_store() -> None:
    with pytest.raises(UnknownQuery, match="available: cap-tally"):
        get("nope")

    class Bare(Store):
        backend = "bare"

    Bare.__abstractmethods__ = frozenset()
    bare = Bare()
    with pytest.raises(UnsupportedOperation, match="bare store cannot run the canned query 'cap-tally'"):
        run_query(bare, "cap-tally", {})


def test_store_run_query_delegates_to_the_engine() -> None:
    assert run_query(MemoryStore(None), "cap-tally", {"as_of": "2024-01-01"}) == []


def test_provenance_decoding() -> None:
    entries = [
        '{"record":"b#2","retrieved_at":"2024-01-01","source":"s"}',
        '{"record":"a#1","retrieved_at":"2024-01-01","source":"s"}',
        '{"record":"a#1","retrieved_at":"2024-01-01","source":"s"}',
        "not json",
    ]
    assert decode_provenance(entries) == [
        {"source": "not json", "record": "", "retrieved_at": ""},
        {"source": "s", "record": "a#1", "retrieved_at": "2024-01-01"},
        {"source": "s", "record": "b#2", "retrieved_at": "2024-01-01"},
    ]
