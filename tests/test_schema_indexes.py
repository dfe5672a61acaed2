"""Index declarations in graph/schema.yaml become Neo4j statements; a bad declaration is refused."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from graph.schema import SCHEMA_PATH, SchemaError, default_schema, parse_schema


def test_relationship_indexes_become_range_indexes() -> None:
    statements = default_schema().constraints_cypher()
    assert (
        "CREATE INDEX rel_flagged_valid_from IF NOT EXISTS FOR ()-[r:FLAGGED]-() ON (r.valid_from)"
        in statements
    )
    assert not any("ON (r.key)" in s for s in statements)  # MERGE would seek it: quadratic writes


def test_an_index_on_an_undeclared_relationship_property_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
    bad = copy.deepcopy(data)
    bad["relationships"]["FLAGGED"]["indexes"] = ["colour"]
    with pytest.raises(SchemaError, match="FLAGGED indexes undeclared property 'colour'"):
        parse_schema(bad, tmp_path / "schema.yaml")
    bad["relationships"]["FLAGGED"]["indexes"] = ["key"]
    with pytest.raises(SchemaError, match="undeclared property 'key'"):
        parse_schema(bad, tmp_path / "schema.yaml")
