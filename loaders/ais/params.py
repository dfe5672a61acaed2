"""Detector parameters: named presets, and ``--param name=value`` overrides checked against them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

# Global Fishing Watch's published definitions (shared/domain/anchors.md §2.1). "From shore" is measured
# from the bundled Natural Earth 1:50m coastline (loaders/ais/shore.py); "from a port or anchorage" from
# the port points. chunk_hours only bounds the memory of the encounter join: results do not depend on it.
GFW: dict[str, Any] = {
    "resample_minutes": 10,
    "max_interp_gap_minutes": 60,
    "chunk_hours": 2,
    "encounter_max_distance_m": 500.0,
    "encounter_min_duration_minutes": 120,
    "encounter_max_median_speed_knots": 2.0,
    "encounter_min_port_distance_km": 10.0,
    "encounter_min_shore_distance_km": 0.0,
    "encounter_merge_gap_minutes": 20,
    "loiter_max_speed_knots": 2.0,
    "loiter_min_duration_hours": 4.0,
    "loiter_min_shore_distance_nm": 20.0,
    "gap_min_hours": 12.0,
    "gap_disabling_min_offshore_nm": 50.0,
    "gap_disabling_lookback_hours": 48.0,
    "gap_disabling_min_positions_per_12h": 20,
    "port_entry_km": 3.0,
    "port_exit_km": 4.0,
    "port_stop_speed_knots": 0.5,
    "port_min_gap_hours": 4.0,
    "port_require_stop": True,
    "draught_min_change_m": 0.5,
    "draught_settle_hours": 12.0,
    "barrels_per_tonne": 7.45,
    "clone_max_speed_knots": 50.0,
    "clone_min_jump_km": 10.0,
    "clone_min_jumps": 2,
    # An isolated fix implying more than this from both neighbours is left out of the track (no
    # published threshold; the cloning one: no merchant ship makes 50 kn, and 10 km is beyond GPS noise)
    "spike_max_speed_knots": 50.0,
    "spike_min_km": 10.0,
}

PRESETS: dict[str, dict[str, Any]] = {
    "gfw": GFW,
    # Starboard's longer tier (< 200 m for >= 30 min, ~10 km from shore); loitering as GFW.
    "starboard": {
        **GFW,
        "encounter_max_distance_m": 200.0,
        "encounter_min_duration_minutes": 30,
        "encounter_min_shore_distance_km": 10.0,
        "encounter_merge_gap_minutes": 10,
    },
    # Wider nets for triage: 1 km for 1 h, gaps from 6 h (GFW's off/on event threshold).
    "sensitive": {
        **GFW,
        "encounter_max_distance_m": 1000.0,
        "encounter_min_duration_minutes": 60,
        "encounter_max_median_speed_knots": 3.0,
        "gap_min_hours": 6.0,
        "loiter_min_duration_hours": 2.0,
    },
}
DEFAULT_PRESET = "gfw"


class ParameterError(ValueError):
    """An unknown preset or parameter, or a value of the wrong type."""


def _coerce(name: str, text: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        return float(text)
    except ValueError:
        raise ParameterError(f"parameter {name}: {text!r} is not a {type(default).__name__}") from None


def resolve(
    preset: str = DEFAULT_PRESET, overrides: Iterable[str] | Mapping[str, Any] = ()
) -> dict[str, Any]:
    """The preset's parameters with ``name=value`` overrides applied."""
    if preset not in PRESETS:
        raise ParameterError(f"unknown preset {preset!r}; choose one of {', '.join(sorted(PRESETS))}")
    params = dict(PRESETS[preset])
    items = overrides.items() if isinstance(overrides, Mapping) else (_split(o) for o in overrides)
    for name, value in items:
        if name not in params:
            raise ParameterError(f"unknown parameter {name!r}; known: {', '.join(sorted(params))}")
        params[name] = _coerce(name, value, params[name]) if isinstance(value, str) else value
    if params["port_exit_km"] < params["port_entry_km"]:
        raise ParameterError("port_exit_km must be at least port_entry_km")
    return params


def _split(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ParameterError(f"--param expects name=value, got {text!r}")
    return name.strip(), value.strip()


def params_json(params: Mapping[str, Any], keys: Iterable[str]) -> str:
    """Canonical JSON of the parameters a detector used (stored on each event)."""
    return json.dumps({k: params[k] for k in sorted(keys)}, sort_keys=True, separators=(",", ":"))


def params_digest(text: str) -> str:
    """Short digest of a parameter set, part of event keys so two parameter sets never overwrite."""
    return hashlib.sha1(text.encode()).hexdigest()[:8]
