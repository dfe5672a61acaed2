"""End to end: Neo4j Browser, driven by headless Debian Chromium, runs a canned query from our guide and
draws the result with our stylesheet.

Needs the local Neo4j (``shadowfleet neo4j start``; NEO4J_URI for Bolt, NEO4J_BROWSER_URL for Browser,
default http://127.0.0.1:7474/browser/), Debian's ``chromium`` and the ``playwright`` package (never a
browser downloaded by ``playwright install``). Without them the test is skipped with the reason, unless
SHADOWFLEET_REQUIRE_NEO4J=1 (CI), where it fails.

The path is the analyst's: connect with "No authentication"; the server's ``browser.post_connect_cmd``
applies the style and opens the guide (when the running server was started without it, the test types
the same two commands); follow the guide's link to the supply-chains slide (it opens in the side
panel), click its ``:param`` block, its Cypher and its graph view, and run each. Screenshots go to
tests/artifacts/.
"""

from __future__ import annotations

import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from graph.records import EdgeRecord, NodeRecord, Provenance
from graph.store import Store
from queries import browser_kit as kit

pytestmark = pytest.mark.neo4j

REQUIRE = os.environ.get("SHADOWFLEET_REQUIRE_NEO4J") == "1"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
BROWSER_URL = os.environ.get("NEO4J_BROWSER_URL") or "http://127.0.0.1:7474/browser/"
QUERY = "supply-chains"
WAIT_MS = 30_000
# Planning supply-chains' quantified path pattern takes Neo4j 5.26 about 11 s on a busy 2-core machine,
# and Browser plans it twice (the table, then the graph view).
QUERY_WAIT_MS = 180_000
PARAM_DONE = '[data-testid="multi-statement-list-icon"][title="Status: success"]'

# A small fictional case: a Russian-flagged tanker hands cargo to an intermediary, which hands it on to a
# DPRK-flagged tanker four days later.
SUPPLIER, MIDDLE, RECEIVER = "e2e:vsl:vostok-pearl", "e2e:vsl:sea-orchid", "e2e:vsl:paektu-glory"
STS1, STS2 = "e2e:sts:1", "e2e:sts:2"
VESSEL_NAMES = {SUPPLIER: "VOSTOK PEARL", MIDDLE: "SEA ORCHID", RECEIVER: "PAEKTU GLORY"}


def _unavailable(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"SHADOWFLEET_REQUIRE_NEO4J=1 but the Browser test cannot run: {reason}")
    pytest.skip(f"Neo4j Browser end-to-end test skipped: {reason}")


def _case() -> list[NodeRecord | EdgeRecord]:
    prov = Provenance("e2e-browser-test", "fictional", "2024-06-01T00:00:00Z")
    recs: list[NodeRecord | EdgeRecord] = [
        NodeRecord("Country", "RU", {"name": "Russia", "iso2": "RU"}, prov),
        NodeRecord("Country", "KP", {"name": "North Korea", "iso2": "KP"}, prov),
        NodeRecord("Country", "PA", {"name": "Panama", "iso2": "PA", "flag_of_convenience": True}, prov),
        NodeRecord("StsTransfer", STS1, {"start": "2024-03-10", "end": "2024-03-11"}, prov),
        NodeRecord("StsTransfer", STS2, {"start": "2024-03-14", "end": "2024-03-15"}, prov),
    ]
    for key, name in VESSEL_NAMES.items():
        recs.append(NodeRecord("Vessel", key, {"name": name, "vessel_type": "Oil Products Tanker"}, prov))
    period = {"valid_from": "2019-01-01"}
    for key, flag in ((SUPPLIER, "RU"), (MIDDLE, "PA"), (RECEIVER, "KP")):
        recs.append(EdgeRecord("FLAGGED", "Vessel", key, "Country", flag, "2019-01-01", period, prov))
    roles = [(SUPPLIER, STS1, "giver"), (MIDDLE, STS1, "receiver")]
    roles += [(MIDDLE, STS2, "giver"), (RECEIVER, STS2, "receiver")]
    for vessel, sts, role in roles:
        recs.append(EdgeRecord("PARTICIPATED_IN", "Vessel", vessel, "StsTransfer", sts, props={"role": role}))
    return recs


@pytest.fixture(scope="module")
def browser_url() -> str:
    try:
        with urllib.request.urlopen(BROWSER_URL, timeout=5) as resp:
            resp.read(100)
    except (urllib.error.URLError, OSError) as exc:
        _unavailable(f"Neo4j Browser does not answer at {BROWSER_URL} ({exc}); run `shadowfleet neo4j start`")
    return BROWSER_URL


@pytest.fixture
def guide_base() -> Iterator[str]:
    """Serve the guide where the server's post_connect_cmd looks for it, else on a free port."""
    running = kit.probe()
    if running and running.get("root") == str(Path(kit.__file__).resolve().parents[1]):
        yield kit.base_url()
        return
    try:
        server = kit.GuideServer(kit.GUIDE_PORT)
    except OSError:
        server = kit.GuideServer(0)
    server.start_thread()
    try:
        yield server.base
    finally:
        server.stop()


def _bolt_address(store: Store) -> str:
    parsed = urlparse(getattr(store, "uri", "bolt://127.0.0.1:7687"))
    return f"{parsed.hostname or '127.0.0.1'}:{parsed.port or 7687}"


def _run(page: Any, command: str) -> None:
    """Type a command into Browser's editor and run it."""
    page.get_by_test_id("activeEditor").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(command)
    page.get_by_test_id("editor-Run").click()


def _frame(page: Any, command_prefix: str) -> Any:
    """The newest result frame whose command starts with ``command_prefix``."""
    frames = page.get_by_test_id("frame").filter(
        has=page.get_by_test_id("frameCommand").filter(has_text=command_prefix)
    )
    frames.first.wait_for(timeout=WAIT_MS)
    return frames.first


def _apply_style(page: Any, base: str) -> None:
    """Run ``:style <url>``; Browser refuses remote content until it has read the server's allowlist."""
    for _ in range(20):
        _run(page, f":style {base}{kit.STYLE_PATH}")
        frame = _frame(page, f":style {base}")
        page.wait_for_timeout(500)
        if "not allowed" not in frame.inner_text():
            return
        page.wait_for_timeout(500)
    pytest.fail(f"Browser would not fetch {base}{kit.STYLE_PATH}: {frame.inner_text()[:300]}")


def _graph_nodes(frame: Any) -> list[dict[str, str]]:
    """Caption and fill colour of every node drawn in a result frame's SVG."""
    return frame.locator("svg g.node").evaluate_all(
        """nodes => nodes.map(n => {
            const ring = n.querySelector('circle.b-outline') || n.querySelector('circle');
            const lines = Array.from(n.querySelectorAll('text')).map(t => t.textContent.trim());
            const fill = (ring && ring.getAttribute('fill')) || '';
            return {caption: lines.filter(Boolean).join(' '), fill: fill};
        })"""
    )


@pytest.mark.parametrize("store", ["neo4j"], indirect=True)
def test_browser_runs_a_canned_query_with_our_style(
    store: Store, chromium: dict[str, Any], browser_url: str, guide_base: str
) -> None:
    from playwright.sync_api import expect, sync_playwright

    store.write(_case())
    queries = kit.load_queries()
    names = [q.name for q in queries]
    assert QUERY in names, f"{QUERY} is not among the canned queries {names}"
    slide = names.index(QUERY) + 2
    spec = queries[names.index(QUERY)]
    styles = kit.node_styles()
    server_cmd = kit.neo4j_browser_settings(store).get("browser.post_connect_cmd", "")
    automatic = server_cmd == kit.post_connect_cmd() and guide_base == kit.base_url()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="sf-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            **chromium,
            viewport={"width": 1500, "height": 1100},
        )
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        try:
            page.goto(browser_url)
            # The connect form: Bolt address of the store the test wrote to, no authentication.
            page.get_by_test_id("bolt-scheme-select").select_option("bolt://")
            page.get_by_test_id("boltaddress").fill(_bolt_address(store))
            page.get_by_test_id("authenticationMethod").select_option("NO_AUTH")
            page.get_by_test_id("connect").click()
            page.get_by_test_id("disconnectedBanner").wait_for(state="detached")

            if automatic:
                # post_connect_cmd has run: the guide is open and the style applied, nothing typed.
                guide = _frame(page, f":play {guide_base}{kit.GUIDE_PATH}")
                style = _frame(page, f":style {guide_base}")
                guide.get_by_text("canned queries").first.wait_for()
                assert "error" not in style.inner_text().lower(), style.inner_text()[:300]
            else:
                _apply_style(page, guide_base)
                _run(page, f":play {guide_base}{kit.GUIDE_PATH}")
                guide = _frame(page, f":play {guide_base}")
                guide.get_by_text("canned queries").first.wait_for()

            # The guide's table of contents opens the query's slide in the side panel.
            guide.locator(f'a[exec-topic$="#slide-{slide - 1}"]').click()
            params_block = page.locator(f'pre.sf-params-block[data-query="{QUERY}"]:visible')
            params_block.wait_for()
            page.screenshot(path=str(ARTIFACTS / "neo4j-browser-guide.png"))

            params_block.click()
            page.get_by_test_id("editor-Run").click()
            # Each `:param x => expr` is evaluated by Neo4j; wait until all are stored, or the query
            # would be sent without them.
            statements = page.get_by_test_id("frame").filter(has=page.get_by_test_id("multi-statement-list"))
            done = statements.first.locator(PARAM_DONE)
            expect(done).to_have_count(len(spec.params))

            page.locator(f'pre.sf-cypher[data-query="{QUERY}"]:visible').click()
            page.get_by_test_id("editor-Run").click()
            table = page.get_by_test_id("frame").filter(has_text=RECEIVER).first
            table.wait_for(timeout=QUERY_WAIT_MS)
            assert SUPPLIER in table.inner_text()

            page.locator(f'pre.sf-graph[data-query="{QUERY}"]:visible').click()
            page.get_by_test_id("editor-Run").click()
            graph = page.get_by_test_id("frame").filter(has=page.locator("svg g.node")).first
            graph.locator("svg g.node").nth(4).wait_for(timeout=QUERY_WAIT_MS)
            nodes = _graph_nodes(graph)
            chip = graph.get_by_test_id("property-details-overview-node-label-Vessel")
            chip_colour = chip.evaluate("e => getComputedStyle(e).backgroundColor")
            # Fold the overview panel away and fit the graph, for the screenshot.
            graph.get_by_role("button", name="Collapse the node properties display").click()
            time.sleep(1)  # let the force layout settle
            graph.get_by_role("button", name="zoom-to-fit").click()
            time.sleep(1)
            graph.screenshot(path=str(ARTIFACTS / "neo4j-browser-graph.png"))
            page.screenshot(path=str(ARTIFACTS / "neo4j-browser.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "neo4j-browser-failure.png"))
            raise
        finally:
            context.close()

    fills = {n["caption"]: n["fill"].upper() for n in nodes}
    assert len(nodes) == 5, nodes  # three vessels and two transfers: the chain, nothing else
    for name in VESSEL_NAMES.values():
        assert fills.get(name) == styles["Vessel"]["color"], (name, fills)
    sts = [n for n in nodes if n["caption"].startswith("STS ")]
    assert len(sts) == 2, nodes
    assert {n["fill"].upper() for n in sts} == {styles["StsTransfer"]["color"]}
    # The graph's legend takes its colours from the same stylesheet.
    rgb = tuple(int(styles["Vessel"]["color"][i : i + 2], 16) for i in (1, 3, 5))
    assert chip_colour == f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})", chip_colour
