"""A page that lost its socket gets what it missed (issue 12): positions, replay, resync.

The page's private daphne is stopped, signals are triggered to its window
meanwhile, and daphne starts again on the same port: the page reconnects by
itself with its positions (``?dfwspos=``), the server replays the gap and
the page fires ``dfws:recovered``. When the history of its window was lost
meanwhile (another epoch), it fires ``dfws:resync`` instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import redis
from django.conf import settings
from playwright.sync_api import BrowserContext, Page, WebSocket

from dfws_celery import WINDOW, trigger
from dfws_celery.history import RedisHistory, history
from dfws_celery.topics import group_name
from dfws_web.recovery import topic_tag
from tests import services
from tests.browser.windows import wait_connected, window, window_key

pytestmark = pytest.mark.django_db(transaction=True)

# what the page saw: every html.text content in order, its connection events
LISTEN = """() => {
  window.sameDocument = true;
  window.got = [];
  window.events = [];
  DFSignals.options.reconnectBaseMs = 100;
  DFSignals.options.reconnectCapMs = 1000;  // default 30 s: too slow for a test
  DFSignals.connect("html.text", (opts) => window.got.push(Number(opts.content)));
  for (const name of ["open", "close", "recovered", "resync"]) {
    document.addEventListener("dfws:" + name, (e) => window.events.push([name, e.detail]));
  }
}"""


class Restartable:
    """A private daphne that the test stops and starts again on the same port."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.process = services.daphne(None, services.test_env(), log_dir, name="daphne-recovery-1")
        self.base = self.process.url
        self.starts = 1

    def stop(self) -> None:
        self.process.stop()

    def start(self) -> None:
        self.starts += 1
        name = f"daphne-recovery-{self.starts}"
        self.process = services.daphne(self.process.port, services.test_env(), self.log_dir, name)


@pytest.fixture
def daphne(server: str, log_dir: Path) -> Iterator[Restartable]:
    # ``server``: the run's database and services are ready, as for the session's daphne
    server = Restartable(log_dir)
    try:
        yield server
    finally:
        server.stop()


def open_listening_page(context: BrowserContext, base: str) -> tuple[Page, list[WebSocket], str]:
    page = context.new_page()
    sockets: list[WebSocket] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    page.goto(base + "/")
    wait_connected(page)
    page.evaluate(LISTEN)
    return page, sockets, window_key(context, base)


def send(key: str, values: range) -> None:
    info = window(key)
    for value in values:
        trigger(info, "html.text", to=WINDOW, selector="#received", content=str(value))


def lose_socket(daphne: Restartable, page: Page, sockets: list[WebSocket]) -> None:
    daphne.stop()
    if not sockets[-1].is_closed():
        sockets[-1].wait_for_event("close")
    page.wait_for_function("DFSignals.state === 'connecting'")


def events(page: Page, name: str) -> list:
    return [detail for event, detail in page.evaluate("window.events") if event == name]


def window_tag(key: str) -> str:
    """How the window's own topic is named in "o" and ?dfwspos=."""
    return topic_tag(group_name(f"-window.{key}"))


def positions_sent(socket: WebSocket) -> dict[str, str] | None:
    raw = parse_qs(urlparse(socket.url).query).get("dfwspos")
    return json.loads(raw[0]) if raw else None


def test_a_page_gets_the_100_signals_sent_while_its_server_was_down(
    daphne: Restartable, context: BrowserContext
):
    page, sockets, key = open_listening_page(context, daphne.base)
    send(key, range(1, 4))
    page.wait_for_function("window.got.length === 3")
    assert page.evaluate("DFSignals.state") == "open"

    lose_socket(daphne, page, sockets)
    send(key, range(4, 104))  # 100 signals to its window while it has no socket
    closes = events(page, "close")
    assert closes and all(c["willRetry"] and c["reason"] is None for c in closes)
    daphne.start()

    page.wait_for_function("window.events.some(([name]) => name === 'recovered')")
    send(key, range(104, 106))  # live again after the seam
    page.wait_for_function("window.got.length >= 105")
    page.wait_for_timeout(300)  # a duplicate would arrive now
    assert page.evaluate("window.got") == list(range(1, 106))  # in order, exactly once
    assert events(page, "recovered") == [{"frames": 100, "resync": []}]
    assert events(page, "resync") == []
    assert page.evaluate("DFSignals.state") == "open"
    assert page.evaluate("window.sameDocument") is True  # not reloaded
    assert positions_sent(sockets[0]) is None
    sent = positions_sent(sockets[-1])  # the last frame the page had seen before the drop
    assert sent is not None and list(sent) == [window_tag(key)]
    assert sent[window_tag(key)].endswith(".3")


def test_a_page_whose_history_was_lost_is_told_to_resync(
    daphne: Restartable, context: BrowserContext
):
    page, sockets, key = open_listening_page(context, daphne.base)
    send(key, range(1, 3))
    page.wait_for_function("window.got.length === 2")

    lose_socket(daphne, page, sockets)
    store = history()
    assert isinstance(store, RedisHistory)
    deleted = redis.Redis.from_url(settings.REDIS_URL).delete(
        *store.keys(group_name(f"-window.{key}"))
    )
    assert deleted == 2  # the epoch and the frames: this window's history is gone
    send(key, range(3, 6))  # a new epoch starts: the page cannot know what it missed
    daphne.start()

    page.wait_for_function("window.events.some(([name]) => name === 'resync')")
    assert events(page, "resync") == [{"topics": [window_tag(key)]}]
    assert events(page, "recovered") == [{"frames": 0, "resync": [window_tag(key)]}]
    assert page.evaluate("window.got") == [1, 2]
    assert positions_sent(sockets[-1]) is not None
    assert page.evaluate("DFSignals.state") == "open"
    # the socket goes on from the new epoch
    send(key, range(6, 7))
    page.wait_for_function("window.got.length === 3")
    assert page.evaluate("window.got") == [1, 2, 6]


def test_a_call_answered_while_the_socket_was_down_resolves_after_the_reconnect(
    daphne: Restartable, context: BrowserContext, worker: object
):
    page, sockets, key = open_listening_page(context, daphne.base)
    frames: list[str] = []
    sockets[0].on("framereceived", lambda text: frames.append(str(text)))
    send(key, range(1, 2))  # a position to send back
    page.wait_for_function("window.got.length === 1")
    page.evaluate(
        """() => {
          window.answer = "pending";
          DFSignals.call("tests.sleepy", {seconds: 0.8}, {timeout: 30000}).then(
            (results) => (window.answer = results),
            (err) => (window.answer = "failed: " + err.type),
          );
        }"""
    )
    for _ in range(100):  # Playwright delivers the socket's events while it waits
        if any('"ack"' in f for f in frames):
            break
        page.wait_for_timeout(50)
    assert any('"ack"' in f for f in frames)
    lose_socket(daphne, page, sockets)  # the worker answers while the page has no socket
    assert not any('"result"' in f for f in frames)
    page.wait_for_timeout(1500)
    assert page.evaluate("window.answer") == "pending"
    daphne.start()

    page.wait_for_function("window.answer !== 'pending'")
    assert page.evaluate("window.answer") == [None]  # sleepy returns nothing
    # the ack came with its position (it is kept in the window's history): only the result
    # is replayed
    assert events(page, "recovered") == [{"frames": 1, "resync": []}]
