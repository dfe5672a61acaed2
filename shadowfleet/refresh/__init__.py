"""Periodic refresh of sources: incremental, idempotent, with a change log (docs/refresh.md).

``shadowfleet refresh CONFIG`` and ``shadowfleet changes`` are thin layers over this package:

- :mod:`shadowfleet.refresh.config`    the YAML configuration of sources
- :mod:`shadowfleet.refresh.fetch`     files and URLs onto local disk, content hashes
- :mod:`shadowfleet.refresh.snapshot`  a snapshot's records cut into per-entity bundles, digests, profiles
- :mod:`shadowfleet.refresh.changes`   what changed between two snapshots, with deterministic keys
- :mod:`shadowfleet.refresh.state`     state files, the pending journal, the change log, the run lock
- :mod:`shadowfleet.refresh.engine`    the run itself
- :mod:`shadowfleet.refresh.watchlist` watched IMOs, MMSIs and names
"""

from __future__ import annotations

from pathlib import Path

from graph.config import data_home
from shadowfleet.refresh.config import ConfigError, RefreshConfig, SourceConfig, load_config
from shadowfleet.refresh.engine import Refresher, RunReport, SourceReport, store_id
from shadowfleet.refresh.state import RefreshLocked, StateDir, run_lock

__all__ = [
    "ConfigError",
    "RefreshConfig",
    "RefreshLocked",
    "Refresher",
    "RunReport",
    "SourceConfig",
    "SourceReport",
    "StateDir",
    "load_config",
    "refresh_root",
    "run_lock",
    "store_id",
]


def refresh_root(home: Path | None = None) -> Path:
    """Where refresh keeps its state: ``$SHADOWFLEET_HOME/refresh``."""
    return (home or data_home()) / "refresh"
