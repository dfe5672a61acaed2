"""`shadowfleet demo`: load the fictional demo case and print its headline findings.

The case lives in ``fixtures/demo/``: input files in the real formats the loaders read, listed in load
order by ``manifest.yaml``, and the story in its README. Loading merges on keys and every file carries a
fixed retrieval time, so running the demo twice changes nothing. The findings come from the canned
queries, asked as of the end of the case, so they do not drift with today's date.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from graph.config import open_store
from graph.store import Store, StoreError, WriteStats
from loaders.base import FORMATS, LoadError, LoadOptions, Reject
from shadowfleet.commands.load import load_into, write_rejects
from shadowfleet.output import emit_document

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "demo"
MANIFEST = FIXTURES / "manifest.yaml"
#: The date the demo asks its questions on: the end of the case.
AS_OF = "2025-03-31"
BROWSER_URL = "http://127.0.0.1:7474/browser/"
GUIDE_URL = "http://127.0.0.1:7373/guide.html"
FAILED = "error: "
Cell = Callable[[Mapping[str, Any], Mapping[str, str]], Any]


@dataclass(frozen=True)
class CaseFile:
    """One manifest entry: files loaded together by one loader, with their options."""

    paths: tuple[Path, ...]
    format: str
    mapping: Path | None = None
    as_of: str | None = None
    retrieved_at: str | None = None
    source: str | None = None

    def options(self) -> LoadOptions:
        return LoadOptions(
            mapping=self.mapping, as_of=self.as_of, retrieved_at=self.retrieved_at, source=self.source
        )

    @property
    def label(self) -> str:
        return ", ".join(p.name for p in self.paths)


@dataclass
class CaseLoad:
    """What loading the case did."""

    rows_read: int = 0
    rejects: list[Reject] = field(default_factory=list)
    stats: WriteStats = field(default_factory=WriteStats)


def read_manifest(path: Path = MANIFEST) -> list[CaseFile]:
    """The manifest's entries, in load order; LoadError when it is malformed or names a missing file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LoadError(f"{path}: cannot read the demo manifest ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise LoadError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    entries = data.get("files") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise LoadError(f"{path}: the manifest needs a non-empty 'files' list")
    out: list[CaseFile] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: files[{number}]"
        if not isinstance(entry, dict) or entry.get("format") not in FORMATS:
            raise LoadError(f"{where}: needs 'format', one of {', '.join(sorted(FORMATS))}")
        paths = tuple(path.parent / p for p in entry.get("paths") or [])
        missing = [str(p) for p in paths if not p.is_file()]
        if not paths or missing:
            raise LoadError(f"{where}: missing input file {missing[0] if missing else '(none listed)'}")
        mapping = entry.get("mapping")
        if mapping is not None:
            local = path.parent / mapping
            mapping = local if local.is_file() else Path(mapping)
        out.append(
            CaseFile(
                paths,
                entry["format"],
                mapping,
                _text(entry.get("as_of")),
                _text(entry.get("retrieved_at")),
                _text(entry.get("source")),
            )
        )
    return out


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def load_case(store: Store, console: Console, manifest: Path = MANIFEST) -> CaseLoad:
    """Load every file of the manifest into ``store``, in order."""
    result = CaseLoad()
    for entry in read_manifest(manifest):
        output, stats = load_into(store, entry.format, list(entry.paths), entry.options(), console)
        result.rows_read += output.rows_read
        result.rejects.extend(output.rejects)
        result.stats.add(stats)
    return result


# ---- findings ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A headline finding: a canned query, its parameters, and how to show its rows."""

    title: str
    query: str
    params: Mapping[str, Any]
    columns: Sequence[tuple[str, Cell]]
    note: str


def _join(value: Any, sep: str = ", ") -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return sep.join(_join(v, sep) for v in value)
    return str(value)


def _col(name: str, sep: str = ", ") -> Cell:
    return lambda row, names: _join(row.get(name), sep)


def _named(name: str, sep: str = "\n") -> Cell:
    """Node keys shown by their names."""

    def cell(row: Mapping[str, Any], names: Mapping[str, str]) -> str:
        value = row.get(name)
        keys = value if isinstance(value, list) else [value]
        return sep.join(names.get(k, k) for k in keys if k is not None)

    return cell


def _number(name: str) -> Cell:
    def cell(row: Mapping[str, Any], names: Mapping[str, str]) -> str:
        value = row.get(name)
        return f"{value:,.0f}" if isinstance(value, int | float) else _join(value)

    return cell


FINDINGS: tuple[Finding, ...] = (
    Finding(
        "The supply chain: Russian loadings to DPRK tankers through STS transfers",
        "supply-chains",
        {"as_of": AS_OF},
        (
            ("route", _col("route", " → ")),
            ("first STS", _col("first_date")),
            ("last STS", _col("last_date")),
            ("supplier evidence", _col("supplier_evidence", "\n")),
            ("receiver evidence", _col("receiver_evidence", "\n")),
        ),
        "Each link is checked on the date of its transfer: IRIS DAWN was sold by its Russian owner before "
        "it met SONG RIM 8, and ORCHID TIDE handed oil to SIN HUNG 3 before ZEYA TRADER loaded it, so "
        "neither is a chain.",
    ),
    Finding(
        "The flag hopper",
        "flag-hoppers",
        {"as_of": AS_OF, "min_changes": 3},
        (
            ("vessel", _col("name")),
            ("changes", _col("flag_changes")),
            ("flag timeline", _col("timeline", "\n")),
            ("MID/flag mismatches", _col("mid_mismatches", "\n")),
        ),
        "Four registries in two years, ending on a flag the IMO lists as fraudulent; its MMSI still "
        "carries the previous flag's MID.",
    ),
    Finding(
        "The shell cluster",
        "shell-networks",
        {"as_of": AS_OF},
        (
            ("tie", _col("tie_kind")),
            ("shared", _col("tie_name")),
            ("companies", _col("company_names", "\n")),
            ("vessels", _named("vessels")),
        ),
        "Single-ship companies in Hong Kong and the Marshall Islands with one address, one director, one "
        "registration agent and one ship manager.",
    ),
    Finding(
        "The cap tally: refined products delivered to the DPRK against the UN cap",
        "cap-tally",
        {"as_of": AS_OF},
        (
            ("year", _col("year")),
            ("deliveries", _number("deliveries")),
            ("dwt t", _number("deadweight_t")),
            ("33% bbl", _number("bbl_33")),
            ("60% bbl", _number("bbl_60")),
            ("90% bbl", _number("bbl_90")),
            ("over cap", _col("over_cap_at")),
        ),
        "A delivery is a DPRK tanker loading at a Russian port or receiving in an STS transfer (5 tankers in "
        "2024); barrels = deadweight × laden fraction × 7.46 bbl/t, against UNSCR 2397's cap of 500,000 "
        "barrels a year.",
    ),
)


def run_finding(store: Store, finding: Finding) -> list[dict[str, Any]] | str:
    """The finding's rows, or a one-line reason why it cannot be shown yet."""
    try:
        from queries.engine import run_query
        from queries.registry import UnknownQuery
    except ImportError as exc:
        return f"the canned queries are not available ({exc})"
    try:
        return run_query(store, finding.query, dict(finding.params))
    except UnknownQuery:
        return f"pending: the canned query {finding.query!r} is not written yet"
    except (ImportError, NotImplementedError) as exc:
        return f"pending: {finding.query} cannot run on this store yet ({exc})"
    except (StoreError, ValueError) as exc:
        return f"{FAILED}{finding.query} failed: {exc}"


def vessel_names(store: Store, results: Mapping[str, list[dict[str, Any]] | str]) -> dict[str, str]:
    """Names of the vessels the findings name by key (one lookup)."""
    keys: set[str] = set()
    for rows in results.values():
        for row in rows if isinstance(rows, list) else []:
            for column in ("vessels", "vessel_keys"):
                value = row.get(column)
                if isinstance(value, list):
                    keys.update(k for k in value if isinstance(k, str))
    found = store.get_nodes("Vessel", sorted(keys))
    return {key: str(view.props.get("name") or key) for key, view in found.items()}


def render(
    console: Console, finding: Finding, result: list[dict[str, Any]] | str, names: Mapping[str, str]
) -> None:
    console.rule(f"[bold]{finding.title}")
    if isinstance(result, str):
        colour = "red" if result.startswith(FAILED) else "yellow"
        console.print(result, style=colour, highlight=False, markup=False)
        return
    table = Table(show_lines=True)
    numeric = finding.query == "cap-tally"
    for header, _ in finding.columns:
        table.add_column(header, overflow="fold", no_wrap=numeric, justify="right" if numeric else "left")
    for row in result:
        table.add_row(*(str(cell(row, names)) for _, cell in finding.columns))
    console.print(table)
    if not result:
        console.print("[dim]no rows[/dim]")
    console.print(f"[dim]{finding.note}[/dim]", highlight=False)


def has_command(name: str) -> bool:
    """True when `shadowfleet NAME` exists (other commands are added as they are written)."""
    from shadowfleet.cli import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return name in action.choices
    return False


def browser_steps() -> list[str]:
    """How to open this graph in Neo4j Browser with the canned-query guide."""
    steps = [
        "  shadowfleet neo4j start          # local Neo4j 5.26, no Docker",
        "  shadowfleet demo --store neo4j   # the same case, loaded into it",
    ]
    if has_command("browser"):
        steps.append("  shadowfleet browser serve        # the guide and the style, on :7373")
    steps += [
        f"  open {BROWSER_URL}",
        "  the guide opens on connecting; else type",
        f"    :play {GUIDE_URL}",
        "  its slides hold these canned queries, to run as graphs.",
    ]
    if has_command("query"):
        steps.append("  shadowfleet query list           # the same queries in the terminal")
    if has_command("report"):
        steps.append("  shadowfleet report query supply-chains   # a case file to hand over")
    return steps


def finding_document(result: list[dict[str, Any]] | str, failed: bool) -> dict[str, Any]:
    if isinstance(result, str):
        return {"error" if failed else "pending": result.removeprefix(FAILED)}
    return {"rows": result}


# ---- the command ---------------------------------------------------------------------------------------


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "demo", parents=[common], help="load the fictional demo case and show the headline findings"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    err = Console(stderr=True)
    with open_store(args.store) as store:
        loaded = load_case(store, err)
        results = {finding.query: run_finding(store, finding) for finding in FINDINGS}
        names = vessel_names(store, results)
        counts = store.counts().as_dict()
        location, backend = store.location, store.backend
    rejects_file = write_rejects(loaded.rejects, "demo", None)
    elapsed = time.perf_counter() - started
    failed = [q for q, r in results.items() if isinstance(r, str) and r.startswith(FAILED)]
    pending = [q for q, r in results.items() if isinstance(r, str) and q not in failed]
    status = 1 if failed else 0
    if args.format != "table":
        emit_document(
            {
                "store": location,
                "rows_read": loaded.rows_read,
                "rows_rejected": len(loaded.rejects),
                "rejects_file": str(rejects_file) if rejects_file else None,
                "nodes_created": loaded.stats.nodes_created,
                "relationships_created": loaded.stats.edges_created,
                "total_nodes": counts["total_nodes"],
                "total_relationships": counts["total_relationships"],
                "as_of": AS_OF,
                "findings": {q: finding_document(r, q in failed) for q, r in results.items()},
            },
            "json",
        )
        return status
    out = Console()
    out.print(
        f"[bold]shadowfleet demo[/bold]: a fictional Russia→DPRK refined-oil case "
        f"(story: {FIXTURES.relative_to(FIXTURES.parents[1])}/README.md)",
        highlight=False,
    )
    out.print(
        f"Loaded {loaded.rows_read} source rows into the {backend} store ({location}): "
        f"{counts['total_nodes']} nodes, {counts['total_relationships']} relationships "
        f"({loaded.stats.nodes_created} nodes and {loaded.stats.edges_created} relationships new this run). "
        f"Findings as of {AS_OF}.",
        highlight=False,
    )
    if loaded.rejects:
        out.print(
            f"[red]{len(loaded.rejects)} input rows were rejected[/red] (written to {rejects_file}); "
            f"first: {loaded.rejects[0].file}:{loaded.rejects[0].line}: {loaded.rejects[0].reason}",
            highlight=False,
        )
    for finding in FINDINGS:
        render(out, finding, results[finding.query], names)
    if pending:
        out.print(f"[yellow]Pending findings: {', '.join(pending)}.[/yellow]", highlight=False)
    if failed:
        out.print(f"[red]Failed findings: {', '.join(failed)}.[/red]", highlight=False)
    out.rule("[bold]Explore the same graph in Neo4j Browser")
    out.print("\n".join(browser_steps()), highlight=False)
    out.print(f"[dim]demo finished in {elapsed:.1f} s[/dim]", highlight=False)
    return status
