"""Real Chromium for the page tests: Debian's `chromium` driven by Playwright (no browser
download is possible), and where the screenshots go (`artifacts/`, looked at by people)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.paths import REPO

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "artifacts"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium; skips (or fails under SHELFSENSE_REQUIRE_SERVICES=1) without one."""
    if not os.path.exists(CHROMIUM):
        from tests.support.services import find_binary

        find_binary("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--headless"]
        )
        try:
            yield browser
        finally:
            browser.close()
