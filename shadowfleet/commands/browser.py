"""`shadowfleet browser guide|style|serve|install|status|stop`: the Neo4j Browser kit.

The guide and the stylesheet are generated from queries/*.yaml and graph/schema.yaml
(queries/browser_kit.py). Browser fetches them over HTTP from the small guide server, which
``install`` starts in the background; the local Neo4j's ``browser.post_connect_cmd`` then applies the
style and opens the guide whenever an analyst connects.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from shadowfleet.output import emit_document


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser(
        "browser",
        parents=[common],
        help="Neo4j Browser kit: canned-query guide and stylesheet",
        description=(
            "guide/style print the generated guide (HTML) or GraSS stylesheet; serve runs the guide server "
            "in the foreground; install starts it in the background and checks the Neo4j settings; status "
            "reports both; stop stops the background server."
        ),
    )
    parser.add_argument("action", choices=("guide", "style", "serve", "install", "status", "stop"))
    parser.add_argument("-o", "--output", type=Path, help="guide/style: write to this file instead of stdout")
    parser.add_argument(
        "--port", type=int, default=None, help="guide server port (default 7373, the one neo4j.conf names)"
    )
    parser.add_argument("--verbose", action="store_true", help="serve: log every request")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from queries import browser_kit as kit

    port = args.port or kit.GUIDE_PORT
    if args.action in ("guide", "style"):
        text = kit.guide_html(base=kit.base_url(port)) if args.action == "guide" else kit.stylesheet()
        if args.output:
            args.output.write_text(text, encoding="utf-8")
            Console(stderr=True).print(f"wrote {args.output}", highlight=False)
        else:
            sys.stdout.write(text)
        return 0
    if args.action == "serve":
        return _serve(kit, port, args.verbose)
    if args.action == "stop":
        stopped = kit.stop_background(port)
        Console(stderr=True).print(
            "guide server stopped" if stopped else f"no guide server started by this checkout on port {port}",
            highlight=False,
        )
        return 0
    if args.action == "install":
        server = kit.start_background(port)
        report = _status(kit, port)
        report["guide_server"]["started_now"] = server["started"]
    else:
        report = _status(kit, port)
    if args.format == "json":
        emit_document(report, "json")
    else:
        _explain(kit, report, port)
    return 0


def _serve(kit: Any, port: int, verbose: bool) -> int:
    console = Console(stderr=True)
    try:
        server = kit.GuideServer(port, verbose=verbose)
    except OSError as exc:
        reason = exc.strerror or exc
        raise OSError(f"cannot listen on 127.0.0.1:{port} ({reason}); is a guide server running?") from exc
    console.print(
        f"Serving the guide at {server.base}{kit.GUIDE_PATH} and the stylesheet at "
        f"{server.base}{kit.STYLE_PATH} (regenerated on every request); Ctrl-C stops.",
        highlight=False,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _status(kit: Any, port: int) -> dict[str, Any]:
    """The guide server's state and what the Neo4j server hands Browser."""
    from graph.neo4j_store import Neo4jStore
    from graph.store import StoreError

    base = kit.base_url(port)
    probe = kit.probe(port)
    report: dict[str, Any] = {
        "guide_server": {
            "running": probe is not None,
            "guide_url": f"{base}{kit.GUIDE_PATH}",
            "style_url": f"{base}{kit.STYLE_PATH}",
            "pid": probe.get("pid") if probe else None,
            "serves_checkout": probe.get("root") if probe else None,
        },
        "neo4j": {"reachable": False},
        "expected_post_connect_cmd": kit.post_connect_cmd(base),
    }
    try:
        store = Neo4jStore()
    except StoreError as exc:
        report["neo4j"]["error"] = str(exc)
        return report
    try:
        settings = kit.neo4j_browser_settings(store)
        report["neo4j"] = {"reachable": True, "uri": store.uri, **settings}
    except Exception as exc:  # an old server or no permission for dbms.clientConfig()
        report["neo4j"] = {"reachable": True, "uri": store.uri, "error": " ".join(str(exc).split())[:300]}
    finally:
        store.close()
    return report


def _explain(kit: Any, report: dict[str, Any], port: int) -> None:
    console = Console()
    guide, neo = report["guide_server"], report["neo4j"]
    base = kit.base_url(port)
    if guide["running"]:
        note = " (started now)" if guide.get("started_now") else ""
        console.print(f"[green]guide server[/green] {base}{note}: {guide['guide_url']}, {guide['style_url']}")
    else:
        console.print(f"[red]guide server not running[/red] on {base}: run `shadowfleet browser install`")
    allowed = neo.get("browser.remote_content_hostname_whitelist", "")
    if not neo.get("reachable"):
        console.print(f"[yellow]Neo4j not reachable[/yellow] ({neo.get('error', '?')})", highlight=False)
    elif neo.get("browser.post_connect_cmd") == report["expected_post_connect_cmd"]:
        console.print(f"[green]Neo4j[/green] {neo['uri']} applies the style and opens the guide on connect")
    else:
        console.print(
            f"[yellow]Neo4j[/yellow] {neo['uri']} does not open the guide on connect "
            f"(browser.post_connect_cmd = {neo.get('browser.post_connect_cmd') or 'unset'!r}). For the local "
            "server, restart it to pick up graph/neo4j_runtime/neo4j.conf: `shadowfleet neo4j stop && "
            "shadowfleet neo4j start`.",
            highlight=False,
        )
    if neo.get("reachable") and "127.0.0.1" not in allowed.split(",") and allowed.strip() != "*":
        console.print(
            "[yellow]Browser may not fetch from 127.0.0.1[/yellow]: "
            f"browser.remote_content_hostname_whitelist = {allowed!r}; add 127.0.0.1 to it.",
            highlight=False,
        )
    console.print(
        "In Neo4j Browser (http://127.0.0.1:7474/browser/), connect with 'No authentication', or run:\n"
        f"  :style {base}{kit.STYLE_PATH}\n  :play {base}{kit.GUIDE_PATH}",
        highlight=False,
    )
