"""The company dossier on the embedded store."""

from __future__ import annotations

from typing import Any

from graph.store import Store
from queries.memory._dossier import dossier
from queries.memory._graph import G


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the company query; see queries/company.yaml."""
    g = G(store)
    wanted = p["company"]
    subjects = [c for c in g.nodes("Company") if c[1] == wanted or g.get(c, "name") == wanted]
    return dossier(g, subjects, p["as_of"])
