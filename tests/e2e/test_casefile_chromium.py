"""The demo case's supply-chain case file, opened in headless Debian Chromium: no console error, the map,
the timeline and the subgraph drawn and non-empty, every footnote link lands; a screenshot is kept in
tests/artifacts/. No server is needed: the case file is one offline HTML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rich.console import Console

from graph.memory_store import MemoryStore
from queries.casefile.collect import query_case
from queries.casefile.render import write_case
from shadowfleet.commands.demo import load_case

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def test_case_file_renders_in_chromium(chromium: dict[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    store = MemoryStore(tmp_path / "home")
    with open(os.devnull, "w") as quiet:
        load_case(store, Console(file=quiet))
    case = query_case(store, "supply-chains", {"as_of": "2025-03-31"})
    written = write_case(case, tmp_path / "supply-chains.html")
    transfers = {t for row in case.table_rows for t in row["transfers"]}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(**chromium)
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        problems: list[str] = []
        page.on(
            "console", lambda msg: problems.append(msg.text) if msg.type in {"error", "warning"} else None
        )
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
        try:
            page.goto(written.html.as_uri())
            page.wait_for_load_state("load")
            page.screenshot(path=str(ARTIFACTS / "casefile-supply-chains.png"), full_page=False)
            page.locator("svg.sf-map").screenshot(path=str(ARTIFACTS / "casefile-map.png"))

            land = page.locator("svg.sf-map path.sf-land").get_attribute("d") or ""
            assert land.count("M") > 5, "the map has no coastline"
            box = page.locator("svg.sf-map").bounding_box()
            assert box and box["width"] > 400 and box["height"] > 200
            assert page.locator("svg.sf-map .sf-place-sts").count() >= len(
                transfers
            )  # and the vessels' other STS
            assert page.locator("svg.sf-map .sf-place-port-call").count() >= 3
            assert page.locator("svg.sf-timeline .sf-span").count() > 20
            assert page.locator("svg.sf-timeline .sf-mark-sts").count() >= len(transfers)
            assert page.locator("svg.sf-graph .sf-node").count() == len(case.nodes)
            assert page.locator("svg.sf-graph .sf-rel").count() > 0
            # every footnote reference lands on its note
            targets = page.eval_on_selector_all(
                "sup a[href^='#fn-']", "links => links.map(a => a.getAttribute('href').slice(1))"
            )
            assert targets
            missing = page.evaluate(
                "ids => ids.filter(id => !document.getElementById(id))", sorted(set(targets))
            )
            assert missing == []
            assert page.get_by_text("What the data does not show").first.is_visible()
        finally:
            browser.close()
    assert problems == []
