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
import shutil
import subprocess
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext

from tests import chromium, services

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
FRONTEND = services.ROOT / "frontend"


@pytest.fixture(scope="package", autouse=True)
def fresh_bundle() -> None:
    """Chromium runs the committed bundle: refuse to test one the sources no longer build.

    The check of ``make frontend-check`` (``node build.mjs --check``: an in-memory
    build compared with dfws_web/static/js), so ``make pytest`` alone cannot pass
    on a stale bundle.
    """
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules" / "esbuild").is_dir():
        pytest.fail(
            "the browser tests check that the committed bundle is fresh with node and "
            "esbuild: run `make frontend`",
            pytrace=False,
        )
    checked = subprocess.run(
        [node, "build.mjs", "--check"], cwd=FRONTEND, capture_output=True, text=True, timeout=120
    )
    if checked.returncode != 0:
        pytest.fail(
            f"not testing a bundle the sources do not build:\n{checked.stderr.strip()}",
            pytrace=False,
        )


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
    with chromium.launch() as browser:
        yield browser


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """Make fresh browser contexts (separate cookie jars); uncaught page errors fail the test."""
    with chromium.contexts(browser) as make:
        yield make


@pytest.fixture
def context(new_context: Callable[[], BrowserContext]) -> BrowserContext:
    return new_context()
