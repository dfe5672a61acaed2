"""The Neo4j Browser kit: stylesheet, guide, settings and guide server (queries/browser_kit.py).

The end-to-end check in a real Browser is tests/e2e/test_neo4j_browser.py; these tests need no browser.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from graph.schema import default_schema
from queries import browser_kit as kit
from queries.registry import QuerySpec, load_all, strip_cypher
from shadowfleet import cli

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "graph" / "neo4j_runtime" / "neo4j.conf"
HEX = re.compile(r"^#[0-9A-F]{6}$")


# ---- helpers ------------------------------------------------------------------------------------


def browser_clean_html(text: str) -> str:
    """Neo4j Browser 5.24's ``cleanHtml``, applied to every remote guide before it is rendered."""
    text = re.sub(r"(\s+(on[^\s=]+)[^\s=]*\s*=\s*(\"[^\"]*\"|'[^']*'|[\w\-.:]+\s*))", "", text, flags=re.I)
    text = re.sub(r"<script\b[^<]*(?:(?!</script>)<[^<]*)*(</script>)?", "", text, flags=re.I)
    text = re.sub(r"href=\".*javascript:[^\"]*\"", 'href=""', text, count=1)
    return re.sub(r"href='.*javascript:[^']*'", "href=''", text, count=1)


class _Blocks(HTMLParser):
    """Collects the text of ``<pre>`` blocks by class and ``data-query``, and the exec-topic links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str, str]] = []  # (class, data-query, text)
        self.links: list[str] = []
        self.slides = 0
        self._open: tuple[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "slide":
            self.slides += 1
        if tag == "a" and "exec-topic" in a:
            self.links.append(a["exec-topic"])
        if tag == "pre":
            self._open, self._text = (a.get("class", ""), a.get("data-query", "")), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self._open:
            self.blocks.append((*self._open, "".join(self._text)))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)


def parse_guide(text: str) -> _Blocks:
    parser = _Blocks()
    parser.feed(browser_clean_html(text))
    return parser


def block(guide: _Blocks, kind: str, name: str) -> str | None:
    found = [t for cls, q, t in guide.blocks if kind in cls.split() and q == name]
    assert len(found) <= 1, (kind, name)
    return found[0] if found else None


def write_query(
    folder: Path, name: str, cypher: str, columns: list[dict[str, str]], params: str = ""
) -> None:
    cols = "\n".join(f"  - name: {c['name']}\n    description: {c['description']}" for c in columns)
    body = "\n".join("  " + line for line in cypher.strip().splitlines())
    (folder / f"{name}.yaml").write_text(
        f"name: {name}\ntitle: Test {name}\ndescription: A test query; `x` = 1 <b>not bold</b>.\n"
        f"{params}columns:\n{cols}\ncypher: |\n{body}\n"
    )


@pytest.fixture(scope="module")
def queries() -> list[QuerySpec]:
    return kit.load_queries()


@pytest.fixture(scope="module")
def guide(queries: list[QuerySpec]) -> _Blocks:
    return parse_guide(kit.guide_html(queries))


# ---- the stylesheet -----------------------------------------------------------------------------


def test_committed_stylesheet_is_the_generated_one() -> None:
    assert kit.STYLE_FILE.read_text(encoding="utf-8") == kit.stylesheet(), (
        "queries/browser/style.grass is stale: run `shadowfleet browser style -o queries/browser/style.grass`"
    )


def test_every_label_and_type_has_a_rule_captioned_by_the_schema() -> None:
    schema = default_schema()
    rules = kit.parse_grass(kit.stylesheet())
    assert set(rules) == {"node", "relationship"} | {f"node.{label}" for label in schema.nodes} | {
        f"relationship.{t}" for t in schema.relationships
    }
    for label, node in schema.nodes.items():
        caption = rules[f"node.{label}"]["caption"]
        assert caption.endswith("{" + node.caption + "}"), (label, caption)
        if node.event:  # an event says what it is before its date
            assert caption != "{" + node.caption + "}", label


def test_browser_parses_back_every_declaration() -> None:
    """Browser keeps a declaration only if it splits into two on ':'; nothing may be lost."""
    parsed = kit.parse_grass(kit.stylesheet())
    for label, props in kit.node_styles().items():
        assert parsed[f"node.{label}"] == props
    for rel_type, props in kit.relationship_styles().items():
        assert parsed[f"relationship.{rel_type}"] == props


def test_kinds_are_told_apart_at_a_glance() -> None:
    styles = kit.node_styles()
    for props in styles.values():
        assert HEX.match(props["color"]) and HEX.match(props["border-color"]), props
    main = ["Vessel", "Company", "Person", "Sanction", "StsTransfer", "PortCall", "AisGap", "Loitering"]
    colours = [styles[label]["color"] for label in main]
    assert len(set(colours)) == len(colours), (
        "vessels, companies, people, sanctions and events share a colour"
    )
    size = {label: int(styles[label]["diameter"].removesuffix("px")) for label in styles}
    events = [label for label, node in default_schema().nodes.items() if node.event]
    assert events and all(size[e] < size["Vessel"] for e in events)
    assert size["Vessel"] == max(size.values())
    # Events share a thick border that no entity has (besides the sanction's, which is red).
    widths = {label: styles[label]["border-width"] for label in styles}
    assert {widths[e] for e in events} == {"5px"}
    assert all(widths[label] != "5px" for label in styles if label not in events and label != "Sanction")


def test_a_new_label_still_gets_a_look_and_its_caption() -> None:
    schema = default_schema()
    assert kit.look_for("Vessel", schema) == kit.LOOKS["Vessel"]
    for label in schema.nodes:
        assert kit.look_for(label, schema) in (*kit.LOOKS.values(), kit.EVENT_LOOK, kit.OTHER_LOOK)


def test_parse_grass_follows_browser_rules() -> None:
    text = 'node.A {\n  color: #FFFFFF;\n  caption: "{name}";\n  bad: a:b;\n}\n'
    text += 'relationship { caption: "<type>"; }'
    assert kit.parse_grass(text) == {
        "node.A": {"color": "#FFFFFF", "caption": "{name}"},
        "relationship": {"caption": "<type>"},
    }
    assert kit.parse_grass('{"node": {"color": "#000000"}}') == {"node": {"color": "#000000"}}


# ---- the guide ----------------------------------------------------------------------------------


def test_the_guide_holds_every_canned_query_verbatim(queries: list[QuerySpec], guide: _Blocks) -> None:
    assert queries, "no canned queries in queries/*.yaml"
    assert guide.slides == len(queries) + 1
    for spec in queries:
        # Exactly the registry's Cypher, surviving Browser's sanitising of remote guides.
        assert block(guide, "sf-cypher", spec.name) == spec.cypher.strip(), spec.name
        params = block(guide, "sf-params-block", spec.name)
        if spec.params:
            assert params == kit.param_lines(spec)
            assert [line.split()[1] for line in params.splitlines()] == [p.name for p in spec.params]
            assert all(line.startswith(":param ") and line.endswith(";") for line in params.splitlines())
        else:
            assert params is None


def test_the_guide_links_each_query_to_its_slide(queries: list[QuerySpec], guide: _Blocks) -> None:
    url = f"{kit.base_url()}{kit.GUIDE_PATH}"
    assert guide.links == [f"guide {url}#slide-{i}" for i in range(1, len(queries) + 1)]


def test_graph_views_wrap_the_query_unchanged(queries: list[QuerySpec], guide: _Blocks) -> None:
    schema = default_schema()
    wrapped = 0
    for spec in queries:
        graph = kit.graph_view_cypher(spec, schema)
        assert block(guide, "sf-graph", spec.name) == (graph or None)
        if graph is None:
            assert not kit.key_columns(spec)
            continue
        wrapped += 1
        inner = "\n".join(line.removeprefix("  ") for line in graph.split("\n}\nUNWIND")[0].splitlines()[1:])
        assert inner == spec.cypher.strip()
        assert all(f"`{c}`" in graph for c in kit.key_columns(spec))
        assert "|".join(schema.nodes) in graph
        # The wrapper's own names cannot clash with the query's columns.
        assert not {c.name for c in spec.columns} & {"sf_value", "sf_key", "sf_node", "sf_nodes", "sf_a"}
    assert wrapped, "no canned query has a key column, so the guide draws no graph"


def test_guide_from_a_folder_of_queries(tmp_path: Path) -> None:
    cypher = "MATCH (v:Vessel) WHERE v.name = $name AND 1 <= 2\nRETURN v.key AS vessel, v.name AS name"
    params = 'params:\n  - name: name\n    type: string\n    default: "O\'Hara"\n    description: a name\n'
    write_query(tmp_path, "one", cypher, [{"name": "vessel", "description": "Vessel key."}], params)
    write_query(
        tmp_path, "two", "MATCH (c:Company) RETURN c.name AS name", [{"name": "name", "description": "n"}]
    )
    specs = kit.load_queries(tmp_path)
    text = kit.guide_html(specs, base="http://127.0.0.1:9")
    parsed = parse_guide(text)
    assert block(parsed, "sf-cypher", "one") == cypher
    assert block(parsed, "sf-params-block", "one") == ":param name => 'O\\'Hara';"
    assert block(parsed, "sf-graph", "two") is None  # no key column
    assert block(parsed, "sf-params-block", "two") is None
    assert "<b>not bold</b>" not in text and "<code>x</code>" in text
    assert ":play http://127.0.0.1:9/guide.html" in parsed.blocks[1][2]
    body = text.split("<carousel", 1)[1].split(">", 1)[1]
    assert "=" not in re.sub(r"<[^>]*>", "", body), "a raw '=' in the text could be eaten by Browser"


@pytest.mark.parametrize(
    ("value", "kind", "literal"),
    [
        ("today", "date", "toString(date())"),
        ("2024-06-30", "date", "'2024-06-30'"),
        (None, "string", "null"),
        (3, "int", "3"),
        (2.5, "float", "2.5"),
        (True, "bool", "true"),
        ("a'b\\c", "string", "'a\\'b\\\\c'"),
        (["RU", 1], None, "['RU', 1]"),
    ],
)
def test_cypher_literal(value: Any, kind: str | None, literal: str) -> None:
    assert kit.cypher_literal(value, kind) == literal


def test_params_cover_exactly_what_the_cypher_uses(queries: list[QuerySpec]) -> None:
    for spec in queries:
        lines = kit.param_lines(spec).splitlines()
        assert {line.split()[1] for line in lines} == set(re.findall(r"\$(\w+)", strip_cypher(spec.cypher)))


# ---- settings -----------------------------------------------------------------------------------


def _conf_value(name: str) -> str | None:
    for line in CONF.read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    return None


def test_neo4j_conf_opens_the_guide_on_connect() -> None:
    assert _conf_value("browser.post_connect_cmd") == kit.post_connect_cmd()
    allowed = (_conf_value("browser.remote_content_hostname_whitelist") or "").split(",")
    assert kit.GUIDE_HOST in [h.strip() for h in allowed]


def test_post_connect_commands_split_as_browser_splits_them() -> None:
    """Browser splits post_connect_cmd on ';' (outside quotes) and prefixes each part with ':'."""
    parts = [":" + p.strip() for p in kit.post_connect_cmd().split(";")]
    assert parts == [f":style {kit.base_url()}/style.grass", f":play {kit.base_url()}/guide.html"]


# ---- the guide server ---------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[kit.GuideServer]:
    write_query(
        tmp_path, "one", "MATCH (v:Vessel) RETURN v.key AS vessel", [{"name": "vessel", "description": "key"}]
    )
    srv = kit.GuideServer(0, queries_dir=tmp_path).start_thread()
    try:
        yield srv
    finally:
        srv.stop()


def fetch(
    url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_server_serves_guide_and_style_to_browser(server: kit.GuideServer) -> None:
    status, headers, body = fetch(f"{server.base}/guide.html", headers={"Pragma": "no-cache"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert block(parse_guide(body), "sf-cypher", "one") == "MATCH (v:Vessel) RETURN v.key AS vessel"
    assert f"{server.base}/guide.html" in body  # links point at this server
    status, headers, body = fetch(f"{server.base}/style.grass")
    assert status == 200 and body == kit.stylesheet()
    # Browser's guide fetch sends pragma/cache-control, so Chromium preflights it.
    status, headers, _ = fetch(
        f"{server.base}/guide.html",
        "OPTIONS",
        {"Origin": "http://127.0.0.1:7474", "Access-Control-Request-Headers": "pragma,cache-control"},
    )
    assert status == 204
    assert {"pragma", "cache-control"} <= {
        h.strip() for h in headers["Access-Control-Allow-Headers"].split(",")
    }
    status, _, body = fetch(f"{server.base}/health")
    assert status == 200 and json.loads(body)["service"] == "shadowfleet-browser-kit"
    assert kit.probe(server.server_address[1])["root"] == str(ROOT)
    assert fetch(f"{server.base}/nope")[0] == 404


def test_server_explains_a_broken_query_file(server: kit.GuideServer) -> None:
    (server.queries_dir / "two.yaml").write_text("name: two\ncypher: [not, text]\n")
    status, _, body = fetch(f"{server.base}/guide.html")
    assert status == 200 and "guide unavailable" in body and "two.yaml" in body


def test_probe_ignores_other_services(server: kit.GuideServer) -> None:
    assert kit.probe(1) is None


# ---- the CLI ------------------------------------------------------------------------------------


def test_cli_prints_style_and_guide(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["browser", "style"]) == 0
    assert capsys.readouterr().out == kit.stylesheet()
    out = tmp_path / "guide.html"
    assert cli.main(["browser", "guide", "-o", str(out)]) == 0
    assert parse_guide(out.read_text()).slides == len(load_all()) + 1


def test_cli_usage_error_for_unknown_action(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["browser", "nope"])
    assert exc.value.code == 2


# ---- on Neo4j -----------------------------------------------------------------------------------


@pytest.mark.neo4j
def test_every_guide_block_compiles_on_neo4j(neo4j_session_store: Any, queries: list[QuerySpec]) -> None:
    """EXPLAIN plans each query and its graph view without touching data."""
    dummy = {"string": "x", "int": 1, "float": 1.0, "date": "2024-01-01", "bool": True}
    with neo4j_session_store.driver.session(database=neo4j_session_store.database) as session:
        for spec in queries:
            values = spec.bind({p.name: dummy[p.type] for p in spec.params if p.required})
            for cypher in (spec.cypher, kit.graph_view_cypher(spec)):
                if cypher:
                    session.run("EXPLAIN " + cypher, values).consume()


@pytest.mark.neo4j
def test_neo4j_hands_browser_the_kit_settings(neo4j_session_store: Any) -> None:
    """The running server's settings come from the same conf template (unless started before it changed)."""
    settings = kit.neo4j_browser_settings(neo4j_session_store)
    if settings.get("browser.post_connect_cmd") != kit.post_connect_cmd():
        pytest.skip(
            "the running Neo4j was started before browser.post_connect_cmd was set; restart it "
            f"(it reports {settings.get('browser.post_connect_cmd')!r})"
        )
    assert kit.GUIDE_HOST in settings["browser.remote_content_hostname_whitelist"].split(",")
