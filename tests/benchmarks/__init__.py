"""Benchmarks: scripts run with ``python -m tests.benchmarks.<name>``, never collected by pytest."""
