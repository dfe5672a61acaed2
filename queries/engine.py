"""Run a canned query on any store: Cypher on Neo4j, the matching Python module on the embedded store.

Both paths return the same rows in the same order with the same columns; the results are then shaped
identically (provenance decoded, null entries dropped from map cells), so a parity test can compare the
two stores row for row.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from graph.keys import clean_imo, is_valid_mmsi, name_key, normalize_name
from graph.store import NodeView, Store, StoreError, UnsupportedOperation
from queries.registry import QuerySpec, get

Row = dict[str, Any]


def run_query(store: Store, name: str, params: Mapping[str, Any] | None = None) -> list[Row]:
    """Run the canned query ``name`` with ``params`` (strings are converted to the declared types).

    Raises UnknownQuery for a name that does not exist, ParamError for a bad parameter and
    UnsupportedOperation when the store can run neither Cypher nor the embedded implementation.
    """
    spec = get(name)
    values = spec.bind(params or {})
    with gc_paused():
        rows = execute(store, spec, values)
        return [shape_row(spec, row) for row in rows]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a query runs.

    A query allocates many short-lived, acyclic objects (freed by reference counting anyway), and each
    full collection they trigger walks every object of a loaded embedded graph: on a 2-million-node
    graph that is seconds per collection, and it made the embedded queries' times vary by 2-3x.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def execute(store: Store, spec: QuerySpec, values: Mapping[str, Any]) -> list[Row]:
    """Raw rows from the store, before shaping."""
    run_cypher = getattr(store, "run_cypher", None)
    if callable(run_cypher):
        rows = run_cypher(spec.cypher, values)
    elif hasattr(type(store), "graph"):  # on the class: reading the property would load the graph
        module = importlib.import_module(spec.module)
        rows = module.run(store, dict(values))
    else:
        raise UnsupportedOperation(f"the {store.backend} store cannot run the canned query {spec.name!r}")
    for row in rows[:1]:
        if list(row) != spec.column_names:
            raise StoreError(
                f"query {spec.name} returned columns {list(row)}, but {spec.path.name} declares "
                f"{spec.column_names}"
            )
    return rows


def shape_row(spec: QuerySpec, row: Mapping[str, Any]) -> Row:
    """Decode provenance columns and normalise map cells (sorted keys, null entries dropped)."""
    out: Row = {}
    for column in spec.columns:
        value = row.get(column.name)
        if column.decode == "provenance":
            value = decode_provenance(value or [])
        out[column.name] = normalise(value)
    return out


def normalise(value: Any) -> Any:
    """Maps get sorted keys without null entries, recursively; everything else is kept as it is."""
    if isinstance(value, Mapping):
        return {k: normalise(value[k]) for k in sorted(value) if value[k] is not None}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def decode_provenance(entries: list[str]) -> list[dict[str, str]]:
    """JSON provenance strings as ``{source, record, retrieved_at}`` maps, deduplicated and sorted."""
    decoded: dict[tuple[str, str, str], dict[str, str]] = {}
    for entry in entries:
        try:
            data = json.loads(entry)
            item = {
                "source": str(data["source"]),
                "record": str(data["record"]),
                "retrieved_at": str(data["retrieved_at"]),
            }
        except (TypeError, ValueError, KeyError):
            item = {"source": str(entry), "record": "", "retrieved_at": ""}
        decoded[(item["source"], item["record"], item["retrieved_at"])] = item
    return [decoded[k] for k in sorted(decoded)]


# ---- finding the entity a dossier is about -----------------------------------------------------


def find_vessels(store: Store, text: str) -> list[NodeView]:
    """Vessels matching a key, an IMO number, an MMSI, or a current or past name (exact, normalised)."""
    text = text.strip()
    found: dict[str, NodeView] = {}

    def add(views: list[NodeView] | dict[str, NodeView]) -> None:
        for view in views.values() if isinstance(views, dict) else views:
            found.setdefault(view.key, view)

    add(store.get_nodes("Vessel", [text]))
    imo = clean_imo(text)
    if imo:
        add(store.get_nodes("Vessel", [f"imo:{imo}"]))
        add(store.find_nodes("Vessel", "imo", [imo]))
    if is_valid_mmsi(text):
        add(store.get_nodes("Vessel", [f"mmsi:{text}"]))
        add(store.find_nodes("Vessel", "mmsi", [text]))
    if not found:
        names = sorted({text, text.upper(), normalize_name(text)})
        add(store.find_nodes("Vessel", "name", names))
        named = store.edges("VesselName", [name_key(text)], ["NAMED"], "in")
        add(store.get_nodes("Vessel", sorted({e.src for e in named})))
    if not found:
        add(_scan_names(store, "Vessel", text))
    return [found[k] for k in sorted(found)]


def find_companies(store: Store, text: str) -> list[NodeView]:
    """Companies matching a key or a name (exact, upper-case or normalised)."""
    text = text.strip()
    found = dict(store.get_nodes("Company", [text]))
    if not found:
        names = sorted({text, text.upper(), normalize_name(text)})
        for view in store.find_nodes("Company", "name", names):
            found.setdefault(view.key, view)
    if not found:
        for view in _scan_names(store, "Company", text):
            found.setdefault(view.key, view)
    return [found[k] for k in sorted(found)]


def _scan_names(store: Store, label: str, text: str) -> list[NodeView]:
    """Nodes whose name or an alias normalises to the same form as ``text`` (a full scan: last resort)."""
    wanted = normalize_name(text)
    if not wanted:
        return []
    out: list[NodeView] = []
    for batch in store.scan_nodes(label):
        for view in batch:
            names = [view.props.get("name"), *(view.props.get("aliases") or [])]
            if any(isinstance(n, str) and normalize_name(n) == wanted for n in names):
                out.append(view)
    return out
