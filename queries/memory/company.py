"""The company dossier on the embedded store."""

from __future__ import annotations

from typing import Any

from graph.store import Store
from queries.memory._dossier import OWNED, dossier
from queries.memory._graph import G


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the company query; see queries/company.yaml."""
    wanted = p["company"]
    seeds = sorted(
        {
            *store.get_nodes("Company", [wanted]),
            *(c.key for c in store.find_nodes("Company", "name", [wanted])),
        }
    )
    g = G.around(store, "Company", seeds, OWNED)
    subjects = [c for c in g.nodes("Company") if c[1] == wanted or g.get(c, "name") == wanted]
    return dossier(g, subjects, p["as_of"])
