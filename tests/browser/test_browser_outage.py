"""Degrade, do not 500, in Chromium (issue 13): the bundled client against a private daphne
whose cache, channel layer and broker are a PRIVATE redis-server this test owns (never the
shared one). Redis stopped: the page renders (200) without a live socket and the outage is
logged once, however often the client retries. Redis started again on the same port: the
same page's socket connects by itself (the window's entry comes from its ``dfwsw`` cookie)
and receives a WINDOW signal, with no reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, WebSocket, expect

from tests import services
from tests.browser.windows import cookies, wait_connected

pytestmark = pytest.mark.django_db(transaction=True)

# what a page's own script would do: a view that triggers html.* signals to its window
FETCH_AJAX_TRIGGER = """async () => {
  const response = await fetch("/ajax/trigger/", { headers: { "X-Requested-With": "XMLHttpRequest" } });
  return response.status;
}"""


@pytest.fixture
def private(log_dir: Path, django_db_setup: Any) -> Iterator[tuple[services.PrivateRedis, Any]]:
    redis_server = services.PrivateRedis(log_dir)
    redis_server.start()
    env = services.test_env(DFWS_TEST_REDIS=redis_server.url, DFWS_TEST_BROKER=redis_server.url)
    daphne = services.daphne(None, env, log_dir, name=f"daphne-browser-outage-{redis_server.port}")
    try:
        yield redis_server, daphne
    finally:
        daphne.stop()
        redis_server.stop()


def test_a_page_renders_while_redis_is_down_and_connects_by_itself_once_it_is_back(
    private: tuple[services.PrivateRedis, Any], context: BrowserContext
):
    redis_server, daphne = private
    redis_server.stop()

    page = context.new_page()
    sockets: list[WebSocket] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    response = page.goto(daphne.url + "/")
    assert response is not None and response.status == 200
    expect(page.locator("#from-view")).to_be_attached()  # the page itself, not an error page
    page.evaluate(
        """() => {
          window.sameDocument = true;
          DFSignals.options.reconnectCapMs = 1000;  // default 30 s: too slow for a test
          window.closes = [];
          DFSignals.on("close", (event) => window.closes.push(event));
        }"""
    )
    key = cookies(context, daphne.url)["dfwskey"].strip('"').split(":")[0]
    signed_entry = [c for c in context.cookies(daphne.url) if c["name"] == f"dfwsw-{key}"]
    assert signed_entry and signed_entry[0]["httpOnly"], context.cookies(daphne.url)

    # the client keeps trying; none of its sockets stays open, one log line says why
    page.wait_for_function("window.closes.length >= 3", timeout=30_000)
    assert page.evaluate("window.closes.every((close) => close.willRetry)")
    assert page.evaluate("DFSignals.state") != "open"
    log = daphne.output()
    assert log.count("the window cache is unreachable") == 1, log
    assert log.count("a window could not connect") == 1, log
    assert "Traceback" not in log, log

    redis_server.start()  # the same port, empty: the window's entry was never stored

    page.wait_for_function("DFSignals.state === 'open'", timeout=30_000)
    wait_connected(page)  # a call answered: the window's groups are joined
    assert f"window {key}: its entry, signed while the cache was down, is stored" in (
        daphne.output()
    )
    # the daphne's publisher may need a moment to reconnect to Redis: a 500 is tried again
    services.wait_until(lambda: page.evaluate(FETCH_AJAX_TRIGGER) == 200, 15, "a trigger")
    expect(page.locator("#from-view")).to_have_text("view")  # html.content, to WINDOW
    expect(page.locator("#from-view")).to_have_class("done")
    assert page.evaluate("window.sameDocument") is True  # not reloaded: reconnected
    assert len(sockets) >= 4 and sum(not s.is_closed() for s in sockets) == 1
