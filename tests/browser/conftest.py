"""A real Chromium (Debian's, never a downloaded one) for the browser tests.

One browser for this package, a fresh context (cookies, storage) per test.
The browser lives for the package, not the session: between two calls,
Playwright's sync API keeps its event loop marked as running in the test
thread, and Django then refuses every ORM call (``SynchronousOnlyOperation``)
and asgiref every ``async_to_sync`` — so later tests of the run must not
share a thread with a live Playwright.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

CHROMIUM = os.environ.get("DFWS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="package", autouse=True)
def django_beside_playwright() -> Iterator[None]:
    """Let this process use the ORM (creating rows, pytest-django's flush) while Playwright runs.

    Playwright's loop only looks like it runs here (it is suspended between
    sync calls), so the check is moot in this process. The servers and
    workers under test never get the variable (``services.test_env`` drops
    it): their async-safety checks stay on.
    """
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    yield
    if previous is None:
        del os.environ[ASYNC_UNSAFE]
    else:
        os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture(scope="package")
def browser(django_beside_playwright: None) -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium` (Debian's chromium package)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Make fresh browser contexts (separate cookie jars); uncaught page errors fail the test."""
    contexts: list[BrowserContext] = []
    errors: list[Any] = []

    def make() -> BrowserContext:
        context = browser.new_context()
        context.set_default_timeout(15_000)
        context.on("weberror", lambda web_error: errors.append(web_error.error))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors in pages: {errors}"


@pytest.fixture
def context(new_context: Callable[[], BrowserContext]) -> BrowserContext:
    return new_context()
