"""The vessel dossier on the embedded store."""

from __future__ import annotations

from typing import Any

from graph.store import Store
from queries.memory._dossier import dossier
from queries.memory._graph import G


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the vessel query; see queries/vessel.yaml."""
    g = G(store)
    wanted = p["vessel"]
    subjects = [v for v in g.nodes("Vessel") if v[1] == wanted or g.get(v, "imo") == wanted]
    return dossier(g, subjects, p["as_of"])
