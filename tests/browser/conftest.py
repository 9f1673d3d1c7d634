"""Debian's chromium through Playwright, launched once per module with no route off this machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.test_themes import ARGS, CHROMIUM


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()
