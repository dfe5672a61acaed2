"""Choosing and opening a store from options and the environment."""

from __future__ import annotations

import os
from pathlib import Path

from graph.store import Store, StoreError

STORES = ("memory", "neo4j")


def data_home() -> Path:
    """The data directory: ``$SHADOWFLEET_HOME`` or ``./.shadowfleet``."""
    return Path(os.environ.get("SHADOWFLEET_HOME") or ".shadowfleet").resolve()


def store_kind(choice: str | None = None) -> str:
    """The store to use: the explicit choice, else ``$SHADOWFLEET_STORE``, else ``memory``."""
    kind = (choice or os.environ.get("SHADOWFLEET_STORE") or "memory").strip().lower()
    if kind not in STORES:
        raise StoreError(f"unknown store {kind!r}; choose one of {', '.join(STORES)}")
    return kind


def open_store(choice: str | None = None, home: Path | None = None) -> Store:
    """Open the chosen store. Neo4j settings come from NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD and
    NEO4J_DATABASE, as with Neo4j's own tools."""
    kind = store_kind(choice)
    if kind == "neo4j":
        from graph.neo4j_store import Neo4jStore

        return Neo4jStore()
    from graph.memory_store import MemoryStore

    return MemoryStore(home or data_home())
