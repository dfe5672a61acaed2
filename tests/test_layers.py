"""Data flows one way: no lower layer imports a higher one (graph < loaders < queries < shadowfleet)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = ("graph", "loaders", "queries", "shadowfleet")


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("layer", ORDER[:-1])
def test_no_lower_layer_imports_a_higher_one(layer: str) -> None:
    higher = set(ORDER[ORDER.index(layer) + 1 :])
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & higher)
        for path in sorted((ROOT / layer).rglob("*.py"))
        if imported_packages(path) & higher
    }
    assert offenders == {}
