"""Debian's Chromium driven by Playwright (never a downloaded browser), for browser tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

CHROMIUM = os.environ.get("DFWS_CHROMIUM", "/usr/bin/chromium")
# without the background-networking flags Chromium keeps dialing out of this closed network
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def launch() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (Debian's chromium package)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@contextmanager
def contexts(browser: Browser, **options: Any) -> Iterator[Callable[[], BrowserContext]]:
    """Make fresh browser contexts (own cookies); uncaught page errors fail the test."""
    made: list[BrowserContext] = []
    errors: list[Any] = []

    def make() -> BrowserContext:
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        context.on("weberror", lambda web_error: errors.append(web_error.error))
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
    assert not errors, f"uncaught errors in pages: {errors}"
