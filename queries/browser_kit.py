"""The Neo4j Browser kit: a GraSS stylesheet and a Browser guide, generated, plus the server that hands
them to Browser.

* The stylesheet (``queries/browser/style.grass``) is generated from ``graph/schema.yaml``: every label
  gets a rule, captioned by the schema's ``caption`` property, coloured and sized by what it is (vessel,
  vessel identifier, company, person, place, sanction, red flag, event). The palette below is the only
  hand-made part. The committed file must equal :func:`stylesheet` (a test checks it).
* The guide is an HTML slide deck in Browser's remote-guide format (``<slide>`` elements): one slide per
  canned query, generated from ``queries/*.yaml`` (title, description, ``:param`` lines and the Cypher in
  runnable blocks). The Cypher is the YAML's, byte for byte: the guide is never edited by hand.
* Browser fetches remote guides and stylesheets only over HTTP from hosts on
  ``browser.remote_content_hostname_whitelist``; Neo4j's own HTTP server cannot serve extra files. So a
  tiny HTTP server (:class:`GuideServer`, ``shadowfleet browser serve``) serves both on
  ``http://127.0.0.1:7373``, regenerating them on every request so that an edited query shows up on the
  next ``:play``. ``browser.post_connect_cmd`` in ``graph/neo4j_runtime/neo4j.conf`` runs
  ``:style`` and ``:play`` against it whenever an analyst connects to the local Neo4j.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any

from graph.schema import Schema, default_schema
from queries.registry import QUERIES_DIR, QuerySpec, load_all

__all__ = [
    "GUIDE_HOST",
    "GUIDE_PORT",
    "GuideServer",
    "cypher_literal",
    "graph_view_cypher",
    "guide_html",
    "load_queries",
    "node_styles",
    "param_lines",
    "parse_grass",
    "post_connect_cmd",
    "stylesheet",
]

KIT_DIR: Path = Path(__file__).resolve().parent / "browser"
STYLE_FILE: Path = KIT_DIR / "style.grass"
GUIDE_TEMPLATE: Path = KIT_DIR / "guide.html"
SLIDE_TEMPLATE: Path = KIT_DIR / "slide.html"
GRAPH_TEMPLATE: Path = KIT_DIR / "graph.html"

#: Where the guide server listens. Fixed, because neo4j.conf's browser.post_connect_cmd names it.
GUIDE_HOST = "127.0.0.1"
GUIDE_PORT = 7373
GUIDE_PATH = "/guide.html"
STYLE_PATH = "/style.grass"
_SERVER_TAG = "shadowfleet-browser-kit"


def base_url(port: int = GUIDE_PORT, host: str = GUIDE_HOST) -> str:
    """Root URL of the guide server, e.g. ``http://127.0.0.1:7373``."""
    return f"http://{host}:{port}"


def post_connect_cmd(base: str | None = None) -> str:
    """The value of ``browser.post_connect_cmd``: apply the stylesheet, then open the guide."""
    base = base or base_url()
    return f"style {base}{STYLE_PATH}; play {base}{GUIDE_PATH}"


# ---------------------------------------------------------------------------------------------------
# The stylesheet
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """How one kind of node is drawn."""

    color: str
    border: str
    text: str
    diameter: int
    font: int = 10
    border_width: int = 2


# What each label is, and how that kind is drawn. Colours: blue for vessels and their identifiers, orange
# for companies, purple for people, greys and teal for places, red for sanctions and red flags; events
# are small, with a thick border, each in its own colour (black for AIS gaps: the vessel went dark).
LOOKS: dict[str, Look] = {
    "Vessel": Look("#1F5FBF", "#0B3A80", "#FFFFFF", 72, 11, 3),
    "VesselName": Look("#B9D3F5", "#6E9BD6", "#0B2545", 36, 8),
    "Mmsi": Look("#A9C6EE", "#6E9BD6", "#0B2545", 36, 8),
    "CallSign": Look("#CFE0F7", "#6E9BD6", "#0B2545", 36, 8),
    "Company": Look("#F08C00", "#A35F00", "#1F1300", 62, 10, 3),
    "Person": Look("#8E44AD", "#5B2C6F", "#FFFFFF", 56, 10, 3),
    "Address": Look("#D5D8DC", "#A6ACAF", "#1C2833", 40, 8),
    "Country": Look("#7F8C8D", "#566573", "#FFFFFF", 40, 9),
    "Port": Look("#16A085", "#0E6655", "#FFFFFF", 48, 9),
    "Sanction": Look("#D62828", "#6B0000", "#FFFFFF", 58, 11, 5),
    "Anomaly": Look("#FFB3B3", "#D62828", "#5A0000", 38, 8, 3),
    "StsTransfer": Look("#E7298A", "#5E0F38", "#FFFFFF", 54, 7, 5),
    "PortCall": Look("#2CA02C", "#124712", "#FFFFFF", 54, 7, 5),
    "AisGap": Look("#222222", "#000000", "#FFFFFF", 54, 7, 5),
    "Loitering": Look("#B8A000", "#5C5000", "#FFFFFF", 54, 7, 5),
    "ChangeEvent": Look("#FFE08A", "#B7950B", "#3D2E00", 40, 8),
    "SourceSnapshot": Look("#E5E7E9", "#A6ACAF", "#1C2833", 34, 7),
}
# A label added to the schema later still gets a rule (and a caption) until it is given a look here.
EVENT_LOOK = Look("#C2185B", "#4A0A23", "#FFFFFF", 54, 7, 5)
OTHER_LOOK = Look("#A5ABB6", "#7B828E", "#FFFFFF", 44, 9)

# Event captions say what the event is before its date, so two dated circles are told apart.
CAPTION_PREFIX: dict[str, str] = {
    "StsTransfer": "STS",
    "PortCall": "call",
    "AisGap": "dark",
    "Loitering": "loiter",
}

# Relationship colours by family; a type not listed takes the colour of its target when that is one
# label (e.g. a new event type), else the default grey.
REL_LOOKS: dict[str, tuple[str, int]] = {
    "SANCTIONED_AS": ("#D62828", 3),
    "REGISTERED_OWNER_OF": ("#F08C00", 3),
    "BENEFICIAL_OWNER_OF": ("#F08C00", 3),
    "SHAREHOLDER_OF": ("#F08C00", 2),
    "SHIP_MANAGER_OF": ("#F5B041", 2),
    "ISM_MANAGER_OF": ("#F5B041", 2),
    "OPERATOR_OF": ("#F5B041", 2),
    "COMMERCIAL_MANAGER_OF": ("#F5B041", 2),
    "DIRECTOR_OF": ("#B07CC6", 2),
    "REGISTRATION_AGENT_OF": ("#B0B7BC", 1),
    "REGISTERED_AT": ("#B0B7BC", 1),
    "INCORPORATED_IN": ("#B0B7BC", 1),
    "NATIONAL_OF": ("#B0B7BC", 1),
    "LOCATED_IN": ("#B0B7BC", 1),
    "NAMED": ("#8FB3E6", 1),
    "FLAGGED": ("#8FB3E6", 2),
    "HAS_MMSI": ("#8FB3E6", 1),
    "HAS_CALL_SIGN": ("#8FB3E6", 1),
    "HAS_ANOMALY": ("#FF8A8A", 2),
    "LINKED_TO": ("#9E9E9E", 1),
    "POSSIBLY_SAME_AS": ("#9E9E9E", 1),
}

_BASE_NODE: dict[str, str] = {
    "diameter": "50px",
    "color": "#A5ABB6",
    "border-color": "#9AA1AC",
    "border-width": "2px",
    "text-color-internal": "#FFFFFF",
    "font-size": "10px",
}
_BASE_REL: dict[str, str] = {
    "color": "#A5ABB6",
    "shaft-width": "1px",
    "font-size": "8px",
    "padding": "3px",
    "text-color-external": "#000000",
    "text-color-internal": "#FFFFFF",
    "caption": "<type>",
}


def look_for(label: str, schema: Schema | None = None) -> Look:
    """The look of a label: its own, else the generic event or other look."""
    schema = schema or default_schema()
    if label in LOOKS:
        return LOOKS[label]
    return EVENT_LOOK if schema.node(label).event else OTHER_LOOK


def caption_for(label: str, schema: Schema | None = None) -> str:
    """The GraSS caption of a label: the schema's caption property, prefixed for events."""
    schema = schema or default_schema()
    node = schema.node(label)
    prefix = CAPTION_PREFIX.get(label) or ("event" if node.event and label not in LOOKS else "")
    caption = "{" + node.caption + "}"
    return f"{prefix} {caption}" if prefix else caption


def node_styles(schema: Schema | None = None) -> dict[str, dict[str, str]]:
    """GraSS rules for every label of the schema, keyed by label, in schema order."""
    schema = schema or default_schema()
    rules: dict[str, dict[str, str]] = {}
    for label in schema.nodes:
        look = look_for(label, schema)
        rules[label] = {
            "color": look.color,
            "border-color": look.border,
            "border-width": f"{look.border_width}px",
            "text-color-internal": look.text,
            "diameter": f"{look.diameter}px",
            "font-size": f"{look.font}px",
            "caption": caption_for(label, schema),
        }
    return rules


def relationship_styles(schema: Schema | None = None) -> dict[str, dict[str, str]]:
    """GraSS rules for every relationship type of the schema, keyed by type."""
    schema = schema or default_schema()
    rules: dict[str, dict[str, str]] = {}
    for rel_type, rel in schema.relationships.items():
        if rel_type in REL_LOOKS:
            color, width = REL_LOOKS[rel_type]
        elif len(rel.targets) == 1:
            color, width = look_for(next(iter(rel.targets)), schema).color, 2
        else:
            color, width = _BASE_REL["color"], 1
        rules[rel_type] = {"color": color, "shaft-width": f"{width}px", "caption": "<type>"}
    return rules


def _rule(selector: str, props: Mapping[str, str]) -> str:
    body = "".join(
        f'  {name}: "{value}";\n' if name == "caption" else f"  {name}: {value};\n"
        for name, value in props.items()
    )
    return f"{selector} {{\n{body}}}\n"


def stylesheet(schema: Schema | None = None) -> str:
    """The GraSS stylesheet, in the layout Browser itself exports (``:style`` then download).

    GraSS has no comments (Browser's parser would glue them to the next selector), so the header that
    says the file is generated lives in docs/browser.md instead.
    """
    schema = schema or default_schema()
    parts = [_rule("node", _BASE_NODE), _rule("relationship", _BASE_REL)]
    parts += [_rule(f"node.{label}", props) for label, props in node_styles(schema).items()]
    parts += [_rule(f"relationship.{t}", props) for t, props in relationship_styles(schema).items()]
    return "\n".join(parts)


def parse_grass(text: str) -> dict[str, dict[str, str]]:
    """Parse GraSS the way Neo4j Browser 5 does (``grassUtils.parseGrass``), for checks and tests.

    Quotes (single or double) toggle a literal mode and are dropped; a declaration is kept only when it
    splits into exactly two parts on ``:``, so a value may not contain a colon.
    """
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        if isinstance(data, dict):
            return data
    in_quote = in_rule = in_nested = False
    selector, body = "", ""
    raw: dict[str, str] = {}
    for ch in text:
        structural = True
        if ch == "{":
            if in_quote:
                structural = False
            elif in_rule:
                in_nested = True
            else:
                in_rule = True
        elif ch == "}":
            if in_quote:
                structural = False
            elif in_nested:
                in_nested = False
            else:
                in_rule = False
                raw[selector] = body
                selector, body = "", ""
        elif ch in "'\"":
            in_quote = not in_quote
        else:
            structural = False
        if not structural:
            if in_rule:
                body += ch
            elif not ch.isspace():
                selector += ch
    rules: dict[str, dict[str, str]] = {}
    for selector, body in raw.items():
        props: dict[str, str] = {}
        for decl in body.split(";"):
            parts = decl.split(":")
            if len(parts) == 2:
                props[parts[0].strip()] = parts[1].strip()
        rules[selector] = props
    return rules


# ---------------------------------------------------------------------------------------------------
# The guide
# ---------------------------------------------------------------------------------------------------


def load_queries(directory: Path | None = None, schema: Schema | None = None) -> list[QuerySpec]:
    """The canned queries of ``directory`` (default ``queries/``), validated by the registry, by name."""
    return list(load_all(directory or QUERIES_DIR, schema).values())


def cypher_literal(value: Any, kind: str | None = None) -> str:
    """A Python value as a Cypher literal, for ``:param name => literal`` lines.

    A date parameter whose default is ``today`` becomes ``toString(date())``, evaluated by Neo4j when the
    line runs, because dates are ISO strings in the graph.
    """
    if kind == "date" and isinstance(value, str) and value.strip().lower() == "today":
        return "toString(date())"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(cypher_literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"`{k}`: {cypher_literal(v)}" for k, v in value.items()) + "}"
    text = str(value.isoformat() if hasattr(value, "isoformat") else value)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def param_lines(query: QuerySpec, overrides: Mapping[str, Any] | None = None) -> str:
    """The ``:param`` lines that set every parameter of ``query`` to its default (or an override).

    Browser runs them as one multi-statement block (``:param`` is allowed there). The ``=>`` form has
    Neo4j evaluate the literal, so integers stay integers.
    """
    overrides = overrides or {}
    lines = []
    for p in query.params:
        value = overrides.get(p.name, p.default)
        lines.append(f":param {p.name} => {cypher_literal(value, p.type)};")
    return "\n".join(lines)


_KEY_WORD = re.compile(r"\bkeys?\b", re.IGNORECASE)


def key_columns(query: QuerySpec) -> list[str]:
    """The output columns that hold node keys (their description says "key" or "keys")."""
    return [c.name for c in query.columns if _KEY_WORD.search(c.description)]


def graph_view_cypher(query: QuerySpec, schema: Schema | None = None) -> str | None:
    """The query's Cypher, unchanged, wrapped so that Browser can draw its result as a graph.

    Canned queries return keys and values (the same rows on both stores), which Browser shows as a table.
    The wrapper runs the query as a subquery, collects the keys found in its key columns, finds the nodes
    by key under any label of the schema (the planner turns the label disjunction into one unique-index
    seek per label) and returns them with the relationships between them. None when the query has no
    key column.
    """
    schema = schema or default_schema()
    columns = key_columns(query)
    if not columns:
        return None
    inner = query.cypher.strip().rstrip(";").splitlines()
    body = "\n".join("  " + line if line.strip() else "" for line in inner)
    labels = "|".join(schema.nodes)
    listed = ", ".join(f"`{c}`" for c in columns)
    return (
        f"CALL () {{\n{body}\n}}\n"
        f"UNWIND [{listed}] AS sf_value\n"
        "UNWIND CASE WHEN sf_value IS :: LIST<ANY> THEN sf_value ELSE [sf_value] END AS sf_key\n"
        "WITH DISTINCT sf_key WHERE sf_key IS :: STRING NOT NULL\n"
        f"MATCH (sf_node:{labels}) WHERE sf_node.key = sf_key\n"
        "WITH collect(DISTINCT sf_node) AS sf_nodes\n"
        "UNWIND sf_nodes AS sf_a\n"
        "OPTIONAL MATCH (sf_a)-[sf_rel]->(sf_b) WHERE sf_b IN sf_nodes\n"
        "RETURN sf_a, sf_rel, sf_b"
    )


def _code(text: str) -> str:
    """Escape text for HTML: entities for ``& < > " '`` and also ``=``, because Browser strips anything
    that looks like an ``on...=`` attribute from a remote guide before rendering it."""
    return html.escape(text, quote=True).replace("=", "&#61;")


def _prose(text: str) -> str:
    """Description text as HTML paragraphs; `backticks` become <code>."""
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "\n".join("<p>" + re.sub(r"`([^`]+)`", r"<code>\1</code>", _code(para)) + "</p>" for para in paras)


def _params_table(query: QuerySpec) -> str:
    if not query.params:
        return "<p><em>No parameters.</em></p>"
    rows = []
    for p in query.params:
        default = "" if p.default is None else _code(str(p.default))
        parts = [p.type, "required" if p.required else ""]
        parts += [f"min {p.minimum:g}" if p.minimum is not None else ""]
        parts += [f"max {p.maximum:g}" if p.maximum is not None else ""]
        kind = ", ".join(x for x in parts if x)
        rows.append(
            f"<tr><td><code>${_code(p.name)}</code></td><td>{_code(kind)}</td>"
            f"<td><code>{default}</code></td><td>{_code(p.description)}</td></tr>"
        )
    return (
        '<table class="table-condensed sf-params"><thead><tr><th>parameter</th><th>type</th>'
        "<th>default</th><th>meaning</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _legend(schema: Schema) -> str:
    return "\n".join(
        f'<span class="sf-chip" style="background:{s["color"]};color:{s["text-color-internal"]};'
        f'border:2px solid {s["border-color"]}">{_code(label)}</span>'
        for label, s in node_styles(schema).items()
    )


def _template(path: Path) -> Template:
    return Template(path.read_text(encoding="utf-8"))


def guide_html(
    queries: Sequence[QuerySpec] | None = None,
    *,
    base: str | None = None,
    schema: Schema | None = None,
) -> str:
    """The Browser guide: an introduction slide, then one slide per canned query, in registry order.

    ``:play <base>/guide.html#slide-N`` opens slide N in the stream (1-based: the first query is on slide
    2); ``:guide <base>/guide.html#slide-K`` opens the side panel at slide K (0-based: the first query is
    ``#slide-1``). The introduction's links use the latter.
    """
    schema = schema or default_schema()
    queries = load_queries(schema=schema) if queries is None else list(queries)
    base = base or base_url()
    guide_url = f"{base}{GUIDE_PATH}"
    slide_tpl, graph_tpl = _template(SLIDE_TEMPLATE), _template(GRAPH_TEMPLATE)
    toc, slides = [], []
    for number, query in enumerate(queries, start=2):
        # `:guide URL#slide-K` opens the side panel at slide K (0-based). A `:play URL#slide-N` link
        # (1-based) would reuse this frame, and Browser 5.24 then keeps showing the current slide.
        toc.append(
            f'<li><a exec-topic="guide {_code(guide_url)}#slide-{number - 1}">{_code(query.title)}</a> '
            f"<code>{_code(query.name)}</code></li>"
        )
        params = param_lines(query)
        graph = graph_view_cypher(query, schema)
        slides.append(
            slide_tpl.substitute(
                name=_code(query.name),
                title=_code(query.title),
                number=number,
                total=len(queries) + 1,
                description=_prose(query.description),
                params_table=_params_table(query),
                params_block=(
                    f'<pre class="runnable sf-params-block" data-query="{_code(query.name)}">'
                    f"{_code(params)}</pre>"
                    if params
                    else ""
                ),
                columns=", ".join(f"<code>{_code(c.name)}</code>" for c in query.columns),
                cypher=_code(query.cypher.strip()),
                graph_view=(
                    graph_tpl.substitute(
                        name=_code(query.name),
                        key_columns=", ".join(f"<code>{_code(c)}</code>" for c in key_columns(query)),
                        cypher=_code(graph),
                    )
                    if graph
                    else ""
                ),
                cli=_code(f"shadowfleet query run {query.name}"),
            )
        )
    return _template(GUIDE_TEMPLATE).substitute(
        count=len(queries),
        toc="\n".join(toc) or "<li><em>No canned queries found in queries/*.yaml.</em></li>",
        legend=_legend(schema),
        style_cmd=_code(f":style {base}{STYLE_PATH}"),
        guide_cmd=_code(f":play {guide_url}"),
        sidebar_cmd=_code(f":guide {guide_url}"),
        slides="\n".join(slides),
    )


def error_guide(message: str) -> str:
    """A one-slide guide saying why the real one could not be built."""
    return (
        "<article class='guide'><carousel class='deck container-fluid'><slide class='row-fluid'>"
        "<div class='col-sm-12'><h3>shadowfleet guide unavailable</h3>"
        f"<p>The guide could not be generated from queries/*.yaml:</p><pre>{_code(message)}</pre>"
        "<p>Fix the query file, then run <code>:play</code> again.</p></div></slide></carousel></article>"
    )


# ---------------------------------------------------------------------------------------------------
# The guide server
# ---------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: GuideServer
    server_version = "shadowfleet-browser-kit"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"browser kit: {self.address_string()} {format % args}\n")

    def _cors(self) -> None:
        # Browser (served from 127.0.0.1:7474) fetches the guide cross-origin and sends no-cache headers,
        # so the fetch is preflighted.
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "pragma, cache-control, content-type")
        self.send_header("Access-Control-Max-Age", "600")

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self._cors()
        self.end_headers()

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        status = 200
        try:
            if path in (GUIDE_PATH, "/", "/index.html"):
                queries = load_queries(self.server.queries_dir)
                body, ctype = guide_html(queries, base=self.server.public_base), "text/html; charset=utf-8"
            elif path == STYLE_PATH:
                body, ctype = stylesheet(), "text/plain; charset=utf-8"
            elif path == "/health":
                root = str(QUERIES_DIR.parent)
                body = json.dumps({"service": _SERVER_TAG, "root": root, "pid": os.getpid()})
                ctype = "application/json"
            else:
                status, body, ctype = 404, f"not found: {path}\n", "text/plain; charset=utf-8"
        except Exception as exc:  # a broken query file must not kill the server
            status, ctype = 200 if path == GUIDE_PATH else 500, "text/html; charset=utf-8"
            body = error_guide(f"{type(exc).__name__}: {exc}")
        data = body.encode("utf-8")
        self.send_response(status)
        self._cors()
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Shadowfleet", _SERVER_TAG)
        self.end_headers()
        if not head:
            self.wfile.write(data)


class GuideServer(ThreadingHTTPServer):
    """Serves ``/guide.html``, ``/style.grass`` and ``/health``, generated afresh on every request.

    ``port=0`` picks a free port (tests); :attr:`base` is then the URL to use. ``queries_dir`` replaces
    ``queries/`` as the source of the canned queries (tests).
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        port: int = GUIDE_PORT,
        host: str = GUIDE_HOST,
        verbose: bool = False,
        queries_dir: Path | None = None,
    ) -> None:
        super().__init__((host, port), _Handler)
        self.verbose = verbose
        self.queries_dir = queries_dir
        self.public_base = base_url(self.server_address[1], host)
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return self.public_base

    def start_thread(self) -> GuideServer:
        """Serve from a daemon thread (for tests and embedding); :meth:`stop` ends it."""
        self._thread = threading.Thread(target=self.serve_forever, name="browser-kit", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread:
            self._thread.join(timeout=5)


def probe(port: int = GUIDE_PORT, host: str = GUIDE_HOST, timeout: float = 1.0) -> dict[str, Any] | None:
    """What answers ``/health`` on the port if it is our guide server, else None."""
    try:
        with urllib.request.urlopen(f"{base_url(port, host)}/health", timeout=timeout) as resp:
            data = json.loads(resp.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("service") == _SERVER_TAG else None


def _kit_home() -> Path:
    base = Path(os.environ.get("SHADOWFLEET_HOME") or ".shadowfleet").expanduser()
    return (base / "browser").resolve()


def _pid_file(port: int) -> Path:
    return _kit_home() / f"guide-server-{port}.pid"


def _is_our_process(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return "queries.browser_kit" in cmdline


def start_background(port: int = GUIDE_PORT, timeout: float = 15.0) -> dict[str, Any]:
    """Start the guide server as a detached process (idempotent) and wait until it answers.

    Returns its ``/health`` answer plus ``started`` (False when one was already running). Raises
    OSError when the port is held by something else or the server does not come up.
    """
    running = probe(port)
    if running:
        return {**running, "started": False}
    home = _kit_home()
    home.mkdir(parents=True, exist_ok=True)
    log = home / f"guide-server-{port}.log"
    env = dict(os.environ)
    root = str(QUERIES_DIR.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "queries.browser_kit", "serve", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=root,
            env=env,
            start_new_session=True,
        )
    _pid_file(port).write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = probe(port)
        if answer:
            return {**answer, "started": True}
        if proc.poll() is not None:
            tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
            _pid_file(port).unlink(missing_ok=True)
            raise OSError(f"the guide server exited at once (port {port} in use?): {tail}")
        time.sleep(0.1)
    raise OSError(f"the guide server did not answer on {base_url(port)} within {timeout:.0f}s; see {log}")


def stop_background(port: int = GUIDE_PORT) -> bool:
    """Stop the detached guide server this checkout started on ``port``; True if one was stopped."""
    pid_file = _pid_file(port)
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return False
    pid_file.unlink(missing_ok=True)
    if not _is_our_process(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if not Path(f"/proc/{pid}").exists():
            break
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    return True


def neo4j_browser_settings(store: Any) -> dict[str, str]:
    """The ``browser.*`` settings a Neo4j server hands to Browser (``CALL dbms.clientConfig()``)."""
    with store.driver.session(database="system") as session:
        records = list(session.run("CALL dbms.clientConfig() YIELD name, value RETURN name, value"))
    return {r["name"]: str(r["value"]) for r in records if str(r["name"]).startswith("browser.")}


def _serve_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m queries.browser_kit")
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="serve the guide and stylesheet until interrupted")
    serve.add_argument("--port", type=int, default=GUIDE_PORT)
    serve.add_argument("--verbose", action="store_true")
    sub.add_parser("guide", help="print the guide HTML")
    sub.add_parser("style", help="print the GraSS stylesheet")
    args = parser.parse_args(argv)
    if args.cmd == "guide":
        sys.stdout.write(guide_html())
        return 0
    if args.cmd == "style":
        sys.stdout.write(stylesheet())
        return 0
    server = GuideServer(args.port, verbose=args.verbose)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    sys.stderr.write(f"browser kit: serving {server.base}{GUIDE_PATH} and {server.base}{STYLE_PATH}\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(_serve_main())
