"""The CLI's table of command names matches what the command modules register."""

from __future__ import annotations

import argparse

from shadowfleet.cli import COMMAND_MODULES, COMMAND_NAMES, build_parser


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(action.choices)


def test_every_registered_command_is_in_the_table() -> None:
    assert _commands(build_parser()) == set(COMMAND_NAMES)
    assert set(COMMAND_NAMES.values()) == set(COMMAND_MODULES)


def test_a_named_command_registers_only_its_module() -> None:
    assert _commands(build_parser(["--store", "memory", "vessel", "SEA PEONY"])) == {"vessel", "company"}


def test_an_option_value_is_not_taken_for_the_command() -> None:
    # "neo4j" is a command name too: here it is the value of --store.
    assert _commands(build_parser(["--store", "neo4j", "refresh", "run"])) == {"refresh"}
