"""The vessel dossier on the embedded store."""

from __future__ import annotations

from typing import Any

from graph.store import Store
from queries.memory._dossier import OWNED, dossier
from queries.memory._graph import G


def run(store: Store, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the vessel query; see queries/vessel.yaml."""
    wanted = p["vessel"]
    seeds = sorted(
        {*store.get_nodes("Vessel", [wanted]), *(v.key for v in store.find_nodes("Vessel", "imo", [wanted]))}
    )
    g = G.around(store, "Vessel", seeds, OWNED)
    subjects = [v for v in g.nodes("Vessel") if v[1] == wanted or g.get(v, "imo") == wanted]
    return dossier(g, subjects, p["as_of"])
