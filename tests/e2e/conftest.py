"""Shared by the headless-Chromium tests: Debian's chromium, driven by the playwright package.

Never a browser downloaded by ``playwright install``. Without chromium or playwright the tests are
skipped with the reason, unless SHADOWFLEET_REQUIRE_NEO4J=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

REQUIRE = os.environ.get("SHADOWFLEET_REQUIRE_NEO4J") == "1"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable(reason: str) -> None:
    """Skip a test that cannot run here, or fail it under CI."""
    if REQUIRE:
        pytest.fail(f"SHADOWFLEET_REQUIRE_NEO4J=1 but the browser test cannot run: {reason}")
    pytest.skip(f"headless browser test skipped: {reason}")


@pytest.fixture(scope="session")
def chromium() -> dict[str, Any]:
    """Launch options for Debian's chromium: pass them to playwright's ``chromium.launch*(**chromium)``."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the playwright package is missing (pip install -e '.[test]')")
    path = os.environ.get("SHADOWFLEET_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(path, os.X_OK):
        unavailable("Debian's chromium is not installed (apt-get install -y chromium chromium-driver)")
    return {"executable_path": path, "headless": True, "args": CHROMIUM_FLAGS}
