"""A page outlives a restart of its server: it reconnects by itself and receives signals again."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from dfws_celery import WINDOW, trigger
from tests import services
from tests.browser.windows import wait_connected, window, window_key

pytestmark = pytest.mark.django_db(transaction=True)


def test_page_reconnects_by_itself_after_a_server_restart(
    server: str, log_dir: Path, context: BrowserContext
):
    # the run's settings (database, Redis prefix) come with the environment
    process = services.daphne(None, services.test_env(), log_dir, name="daphne-restart-1")
    port, base = process.port, process.url
    try:
        page = context.new_page()
        sockets = []
        page.on("websocket", lambda socket: sockets.append(socket))
        page.goto(base + "/")
        wait_connected(page)
        key = window_key(context, base)
        page.evaluate(
            """() => {
              window.sameDocument = true;
              DFSignals.options.reconnectBaseMs = 100;
              DFSignals.options.reconnectCapMs = 1000;  // default 30 s: too slow for a test
            }"""
        )

        process.stop()
        if not sockets[0].is_closed():
            sockets[0].wait_for_event("close")
        process = services.daphne(port, services.test_env(), log_dir, name="daphne-restart-2")
        wait_connected(page)
        trigger(window(key), "html.text", to=WINDOW, selector="#received", content="after restart")

        expect(page.locator("#received")).to_have_text("after restart")
        assert page.evaluate("window.sameDocument") is True  # not reloaded: reconnected
        assert len(sockets) >= 2 and sockets[0].is_closed()
    finally:
        process.stop()
