"""The `shadowfleet` command: a thin layer over the library.

Exit codes: 0 success (even with no rows), 1 error, 2 usage error. Errors are one line on stderr;
the traceback appears only with --debug.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from rich.console import Console

from graph.schema import SchemaError
from graph.store import StoreError
from shadowfleet import __version__
from shadowfleet.output import FORMATS

# Each module registers its subcommands; the order here is the order in --help.
COMMAND_MODULES = (
    "shadowfleet.commands.demo",
    "shadowfleet.commands.stats",
    "shadowfleet.commands.query",
    "shadowfleet.commands.dossier",
    "shadowfleet.commands.report",
    "shadowfleet.commands.load",
    "shadowfleet.commands.export",
    "shadowfleet.commands.refresh",
    "shadowfleet.commands.changes",
    "shadowfleet.commands.detect",
    "shadowfleet.commands.neo4j",
    "shadowfleet.commands.browser",
    "shadowfleet.commands.resolve",
)

# The subcommands each module registers: a command line that names one imports only its module, so
# a dossier does not pay for importing the AIS detectors (a cold `shadowfleet vessel` is mostly imports).
COMMAND_NAMES = {
    "demo": "shadowfleet.commands.demo",
    "stats": "shadowfleet.commands.stats",
    "query": "shadowfleet.commands.query",
    "vessel": "shadowfleet.commands.dossier",
    "company": "shadowfleet.commands.dossier",
    "report": "shadowfleet.commands.report",
    "load": "shadowfleet.commands.load",
    "export": "shadowfleet.commands.export",
    "refresh": "shadowfleet.commands.refresh",
    "changes": "shadowfleet.commands.changes",
    "detect": "shadowfleet.commands.detect",
    "neo4j": "shadowfleet.commands.neo4j",
    "browser": "shadowfleet.commands.browser",
    "resolve": "shadowfleet.commands.resolve",
}

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Wrong use of the command line detected after parsing (exit code 2)."""


def common_options() -> argparse.ArgumentParser:
    """Options every subcommand accepts, before or after its name."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--store",
        choices=("memory", "neo4j"),
        default=argparse.SUPPRESS,
        help="store to use (default: $SHADOWFLEET_STORE or memory)",
    )
    parent.add_argument(
        "--format",
        choices=FORMATS,
        default=argparse.SUPPRESS,
        help="output format: table (default), json or csv",
    )
    parent.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    return parent


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser, assembled from the command modules: all of them, or only the module of the
    command ``argv`` names."""
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="shadowfleet",
        description="Investigate sanctions evasion at sea: vessels, owners, sanctions, events in one graph.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"shadowfleet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    named = COMMAND_NAMES.get(_command_word(argv or ()) or "")
    for name in (named,) if named else COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


def _command_word(argv: Sequence[str]) -> str | None:
    """The first word that is neither an option nor the value of a shared option: the command."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in ("--store", "--format"):
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.store = getattr(args, "store", None)
    args.format = getattr(args, "format", "table")
    args.debug = getattr(args, "debug", False) or bool(os.environ.get("SHADOWFLEET_DEBUG"))
    err = Console(stderr=True)
    try:
        return int(args.handler(args) or 0)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        err.print(f"shadowfleet: error: {exc}", highlight=False, markup=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.print("shadowfleet: interrupted", highlight=False)
        return 130
    except (StoreError, SchemaError, OSError, ValueError) as exc:
        if args.debug:
            raise
        err.print(f"shadowfleet: error: {exc}", highlight=False, markup=False, soft_wrap=True)
        return EXIT_ERROR
