"""Subcommands of the `shadowfleet` CLI, one module each."""
