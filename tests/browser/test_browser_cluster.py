"""A Chromium page behind nginx whose daphne is killed (issue 14): the bundled client
reconnects through nginx to the other daphne process and misses nothing.

The cluster (tests/cluster.py, the ``cluster`` fixture): nginx, two daphne
processes, two Redis shards, a worker per queue. The page is on a room, whose
presence set names the process holding each socket: so the test knows which
daphne to kill.
"""

from __future__ import annotations

import signal
import uuid

import pytest
from playwright.sync_api import BrowserContext

from dfws_celery import WINDOW, trigger
from tests import services
from tests.browser.windows import wait_connected, window, window_key
from tests.cluster import presence_pids

pytestmark = pytest.mark.django_db(transaction=True)

LISTEN = """() => {
  window.sameDocument = true;
  window.got = [];
  window.recovered = [];
  DFSignals.options.reconnectBaseMs = 100;
  DFSignals.options.reconnectCapMs = 1000;  // default 30 s: too slow for a test
  DFSignals.connect("html.text", (opts) => window.got.push(Number(opts.content)));
  document.addEventListener("dfws:recovered", (e) => window.recovered.push(e.detail));
}"""


def send(key: str, values: range) -> None:
    info = window(key)
    for value in values:
        trigger(info, "html.text", to=WINDOW, selector="#received", content=str(value))


def test_a_page_whose_daphne_is_killed_gets_every_signal_through_the_other(
    cluster, context: BrowserContext
):
    room = f"b{uuid.uuid4().hex[:8]}"
    page = context.new_page()
    page.goto(f"{cluster.url}/room/{room}/")
    wait_connected(page)
    page.evaluate(LISTEN)
    key = window_key(context, cluster.url)
    pids = [d.popen.pid for d in cluster.daphnes]
    [pid] = services.wait_until(lambda: presence_pids(f"room-{room}"), 5, "the page's member")
    victim = pids.index(pid)
    send(key, range(1, 4))
    page.wait_for_function("window.got.length === 3")

    cluster.kill(victim, signal.SIGKILL)
    send(key, range(4, 54))  # 50 signals to its window while it reconnects

    page.wait_for_function("window.got.length >= 53", timeout=20_000)
    page.wait_for_timeout(300)  # a duplicate would arrive now
    assert page.evaluate("window.got") == list(range(1, 54))  # in order, exactly once
    assert page.evaluate("DFSignals.state") == "open"
    assert page.evaluate("window.sameDocument") is True  # not reloaded
    assert all(r["resync"] == [] for r in page.evaluate("window.recovered"))
    # its socket is now held by the other process
    services.wait_until(
        lambda: presence_pids(f"room-{room}").count(pids[1 - victim]) == 1, 10, "the new member"
    )
