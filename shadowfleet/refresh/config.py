"""The refresh configuration: which sources to refresh, where they live, and how to read them.

A YAML file::

    as_of: null                  # optional default snapshot date (else --as-of, else today, UTC)
    watchlist: watchlist.txt     # optional; matches among a run's changes become alerts
    bulk_records: 250000         # optional; a first snapshot larger than this is written in batches
    sources:
      - name: ofac-sdn           # unique; names the state folder and the provenance source
        format: ofac             # a `shadowfleet load` format
        paths: [sdn.csv, add.csv, alt.csv]    # or path:, url:, urls: (http/https)
        schedule: daily          # a hint for people and the summary, nothing runs it
      - name: registry
        format: registry
        url: https://example.org/registry.csv
        mapping: registry-edition2.yaml       # optional column mapping
        timeout: 120             # seconds, for URLs

Relative paths (files, mappings, the watchlist) are resolved against the folder of the config file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from loaders.base import FORMATS

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_KNOWN = {
    "name",
    "format",
    "path",
    "paths",
    "url",
    "urls",
    "mapping",
    "schedule",
    "timeout",
    "provenance",
    "stable_ids",
    "description",
}
# Formats whose provenance record ids name the list entry (OFAC ent_num, UN reference), not a line: a
# record whose key changed (an OFAC vessel without IMO renamed) is then matched to its previous self.
STABLE_ID_FORMATS = frozenset({"ofac", "un"})


# A first snapshot (or a rewrite of a lost one) of more records than this is written in committed
# batches rather than one transaction (a 1 GiB Neo4j heap does not hold millions of changes at once).
BULK_RECORDS = 250_000


class ConfigError(ValueError):
    """The refresh configuration is invalid; the message names the file and the problem."""


@dataclass(frozen=True)
class SourceConfig:
    """One source to refresh."""

    name: str
    format: str
    locations: tuple[str, ...]
    mapping: Path | None = None
    schedule: str | None = None
    timeout: float = 60.0
    provenance: str | None = None
    stable_ids: bool = False

    @property
    def provenance_source(self) -> str:
        """The source name written into provenance (default: the source's name)."""
        return self.provenance or self.name

    @property
    def remote(self) -> bool:
        return any(is_url(loc) for loc in self.locations)


@dataclass(frozen=True)
class RefreshConfig:
    """The whole configuration file."""

    path: Path
    sources: tuple[SourceConfig, ...]
    watchlist: Path | None = None
    as_of: str | None = None
    bulk_records: int = BULK_RECORDS

    def source(self, name: str) -> SourceConfig:
        for src in self.sources:
            if src.name == name:
                return src
        raise ConfigError(f"{self.path}: no source named {name!r} (have: {', '.join(self.names)})")

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sources]


def is_url(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    raise ConfigError(f"{where}: expected a string or a non-empty list of strings")


def _resolve(base: Path, location: str) -> str:
    if is_url(location):
        return location
    path = Path(location).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def parse_source(raw: Any, base: Path, where: str) -> SourceConfig:
    """Validate one entry of ``sources``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: each source must be a mapping")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{where}: 'name' must be 1-64 letters, digits, '.', '_' or '-'")
    where = f"{where} ({name})"
    fmt = raw.get("format")
    if fmt not in FORMATS:
        raise ConfigError(f"{where}: 'format' must be one of {', '.join(sorted(FORMATS))}")
    given = [k for k in ("path", "paths", "url", "urls") if k in raw]
    if len(given) != 1:
        raise ConfigError(f"{where}: give exactly one of path, paths, url, urls")
    locations = _strings(raw[given[0]], f"{where}: {given[0]}")
    if given[0].startswith("url") and not all(is_url(u) for u in locations):
        raise ConfigError(f"{where}: {given[0]} must be http:// or https:// URLs")
    mapping = raw.get("mapping")
    if mapping is not None and not isinstance(mapping, str):
        raise ConfigError(f"{where}: 'mapping' must be a path")
    timeout = raw.get("timeout", 60)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise ConfigError(f"{where}: 'timeout' must be a positive number of seconds")
    provenance = raw.get("provenance")
    if provenance is not None and not isinstance(provenance, str):
        raise ConfigError(f"{where}: 'provenance' must be a string")
    stable = raw.get("stable_ids", fmt in STABLE_ID_FORMATS)
    if not isinstance(stable, bool):
        raise ConfigError(f"{where}: 'stable_ids' must be true or false")
    schedule = raw.get("schedule")
    return SourceConfig(
        name=name,
        format=fmt,
        locations=tuple(_resolve(base, loc) for loc in locations),
        mapping=Path(_resolve(base, mapping)) if mapping else None,
        schedule=str(schedule) if schedule is not None else None,
        timeout=float(timeout),
        provenance=provenance,
        stable_ids=stable,
    )


def load_config(path: Path) -> RefreshConfig:
    """Read and validate a refresh configuration file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list) or not data["sources"]:
        raise ConfigError(f"{path}: expected a mapping with a non-empty 'sources' list")
    unknown = sorted(set(data) - {"sources", "watchlist", "as_of", "bulk_records"})
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}")
    base = path.resolve().parent
    sources = tuple(parse_source(raw, base, f"{path}: sources[{i}]") for i, raw in enumerate(data["sources"]))
    seen: set[str] = set()
    for src in sources:
        if src.name in seen:
            raise ConfigError(f"{path}: source name {src.name!r} is used twice")
        seen.add(src.name)
    watchlist = data.get("watchlist")
    if watchlist is not None and not isinstance(watchlist, str):
        raise ConfigError(f"{path}: 'watchlist' must be a path")
    as_of = data.get("as_of")
    if as_of is not None:
        as_of = str(as_of)
    bulk = data.get("bulk_records", BULK_RECORDS)
    if not isinstance(bulk, int) or isinstance(bulk, bool) or bulk < 0:
        raise ConfigError(f"{path}: 'bulk_records' must be a number of records (0 or more)")
    return RefreshConfig(
        path=path,
        sources=sources,
        watchlist=Path(_resolve(base, watchlist)) if watchlist else None,
        as_of=as_of,
        bulk_records=bulk,
    )
