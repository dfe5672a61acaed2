"""`shadowfleet neo4j start|stop|status`: the local Neo4j server built from Maven Central jars."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from shadowfleet.output import emit_document


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("neo4j", parents=[common], help="run a local Neo4j server (no Docker needed)")
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for start or stop")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from graph.neo4j_server import Neo4jServer, Neo4jServerError, default_home

    console = Console(stderr=True)
    server = Neo4jServer(default_home())
    try:
        if args.action == "start":
            with console.status("starting Neo4j (the first start downloads it with Maven)..."):
                server.start(timeout=args.timeout)
            status = server.status()
            guide = _start_guide_server(console)
            console.print(
                f"Neo4j is up: Bolt {status['bolt_uri']}, Browser {status['browser_url']}{guide}\n"
                f"Use it with: export SHADOWFLEET_STORE=neo4j NEO4J_URI={status['bolt_uri']}",
                highlight=False,
            )
            return 0
        if args.action == "stop":
            from queries.browser_kit import stop_background

            stop_background()
            server.stop(timeout=args.timeout)
            console.print("Neo4j stopped", highlight=False)
            return 0
        emit_document(server.status(), args.format if args.format == "json" else "table")
        return 0
    except Neo4jServerError as exc:
        console.print(f"shadowfleet: error: {exc}", highlight=False, markup=False)
        return 1


def _start_guide_server(console: Console) -> str:
    """Serve the Browser guide and stylesheet that the local server's post-connect command opens.

    Browser fetches them when an analyst connects; without this server it shows "Not found" frames.
    A failure here does not fail `neo4j start`: the database itself is up.
    """
    from queries.browser_kit import start_background

    try:
        start_background()
    except Exception as exc:  # the guide is a convenience; say why it is missing and go on
        console.print(f"[yellow]warning: Browser guide server not started: {exc}[/yellow]")
        return ""
    return " (style and guide applied on connect)"
