"""Write a case file: one self-contained HTML file (opens offline, no script) and a Markdown version.

The HTML inlines its CSS and its three SVG drawings (map, timeline, subgraph); the Markdown links the
same drawings, written beside it in ``<name>.assets/``. Each footnote prints the canned query's Cypher
(the one in queries/<name>.yaml) with the ``:param`` lines that reproduce the fact in Neo4j Browser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from graph.files import write_atomic
from queries.browser_kit import param_lines
from queries.casefile.map import map_svg
from queries.casefile.model import CaseFile, Footnote
from queries.casefile.picture import picture_svg
from queries.casefile.timeline import timeline_svg
from queries.registry import get

DRAWINGS = ("map", "timeline", "graph")


@dataclass(frozen=True)
class Written:
    """The files a case file was written to."""

    html: Path
    markdown: Path
    assets: list[Path]


def drawings(case: CaseFile) -> dict[str, str]:
    """The SVG drawings of a case file by name (an empty string where there is nothing to draw)."""
    return {
        "map": map_svg(case.places),
        "timeline": timeline_svg(case),
        "graph": picture_svg(case.nodes, case.edges),
    }


def reproduce(note: Footnote) -> str:
    """The ``:param`` lines and the Cypher that return the footnoted row in Neo4j Browser."""
    return param_lines(get(note.query), note.params) + "\n" + get(note.query).cypher.strip()


def queries_used(case: CaseFile) -> list[dict[str, str]]:
    """Each canned query the footnotes cite, once, with its title and Cypher (printed in an appendix)."""
    names = list(dict.fromkeys(note.query for note in case.footnotes))
    return [{"name": n, "title": get(n).title, "cypher": get(n).cypher.strip()} for n in names]


def render_html(case: CaseFile, svgs: dict[str, str]) -> str:
    """The case file as one HTML page."""
    template = _environment().get_template("casefile.html.j2")
    return template.render(
        case=case,
        svgs={k: Markup(v) for k, v in svgs.items()},  # our own SVG, built with escaping
        notes=[_note(n) for n in case.footnotes],
        queries=queries_used(case),
        columns=case.table_columns,
        rows=[{c: _cell(r.get(c)) for c in case.table_columns} for r in case.table_rows],
    )


def render_markdown(case: CaseFile, assets: dict[str, str]) -> str:
    """The case file as Markdown; ``assets`` maps drawing names to relative file paths."""
    out = [
        f"# {case.title}",
        "",
        f"As of **{case.as_of}**; generated {case.generated_at} from the {case.store}.",
        "",
    ]
    if case.query_name:
        out += [f"Query `{case.query_name}` with {_params(case.query_params)}.", ""]
    for section in case.sections:
        out += [f"## {section.title}", ""]
        out += [f"- {c.text} {_refs_md(c.footnotes)}".rstrip() for c in section.claims]
        out.append("")
    for name, title in (("map", "Map"), ("timeline", "Timeline"), ("graph", "The subgraph")):
        if name in assets:
            out += [f"## {title}", "", f"![{title}]({assets[name]})", ""]
    if case.table_rows:
        out += ["## The query's rows", "", "| " + " | ".join(case.table_columns) + " |"]
        out.append("|" + "---|" * len(case.table_columns))
        for row in case.table_rows:
            cells = [_cell(row.get(c)).replace("|", "\\|").replace("\n", " ") for c in case.table_columns]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    out += ["## What the data does not show", ""] + [f"- {c}" for c in case.caveats] + [""]
    out += ["## Sources and how to reproduce each fact", ""]
    for note in case.footnotes:
        view = _note(note)
        out += [
            f'<a id="fn-{note.number}"></a>**[{note.number}]** query `{note.query}`, '
            f"row with {view['expect']}.",
            "",
        ]
        out += [f"- {s}" for s in view["sources"]]
        out += ["", f"Parameters, then the Cypher of [`{note.query}`](#q-{note.query}):", ""]
        out += ["```cypher", view["params_block"], "```", ""]
    out += ["## The queries", ""]
    for query in queries_used(case):
        out += [f'<a id="q-{query["name"]}"></a>### `{query["name"]}`: {query["title"]}', ""]
        out += ["```cypher", query["cypher"], "```", ""]
    return "\n".join(out)


def write_case(case: CaseFile, html_path: Path) -> Written:
    """Write ``html_path``, the Markdown beside it (same name, ``.md``) and its drawings."""
    svgs = drawings(case)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    assets_dir = html_path.with_name(html_path.stem + ".assets")
    assets_dir.mkdir(exist_ok=True)
    links: dict[str, str] = {}
    written: list[Path] = []
    for name in DRAWINGS:
        if svgs[name]:
            path = assets_dir / f"{name}.svg"
            write_atomic(path, svgs[name].encode("utf-8"))
            links[name] = f"{assets_dir.name}/{path.name}"
            written.append(path)
    write_atomic(html_path, render_html(case, svgs).encode("utf-8"))
    markdown = html_path.with_suffix(".md")
    write_atomic(markdown, render_markdown(case, links).encode("utf-8"))
    return Written(html_path, markdown, written)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("queries.casefile", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _note(note: Footnote) -> dict[str, Any]:
    return {
        "number": note.number,
        "query": note.query,
        "params": _params(note.params),
        "expect": ", ".join(f"{k} = {_cell(v)}" for k, v in note.expect.items()),
        "sources": [_source(s) for s in note.sources],
        "params_block": param_lines(get(note.query), note.params),
    }


def _source(source: dict[str, str]) -> str:
    return f"{source.get('source')}, record {source.get('record')}, retrieved {source.get('retrieved_at')}"


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def _refs_md(numbers: list[int]) -> str:
    return "".join(f"[[{n}]](#fn-{n})" for n in numbers)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
