"""Only the newest call counts (issue 16): a superseded answer never reaches the page.

``tests.later`` answers after the ``delay`` of its form, and the worker runs two
tasks side by side: the older call (slow) is answered after the newer one (fast),
on the real stack (daphne, Redis, a Celery worker, Chromium).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, WebSocket

from tests.browser.windows import wait_connected
from tests.conftest import wait_for_records

pytestmark = pytest.mark.django_db(transaction=True)

SLOW = 1.5  # seconds the older call's handler sleeps

# What the page does with a binding's answer: show it, and keep the list of what it applied.
APPLY_RESULTS = """() => {
  window.applied = [];
  document.getElementById("later-form").addEventListener("dfws:result", (event) => {
    const [answer] = event.detail.results;
    window.applied.push(answer.text);
    document.getElementById("later-result").textContent = answer.text;
  });
}"""


def open_watched(context: BrowserContext, url: str) -> tuple[Page, list[WebSocket]]:
    """A connected tab, and its websockets as Playwright sees them."""
    page = context.new_page()
    sockets: list[WebSocket] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    page.goto(url)
    wait_connected(page)
    return page, sockets


def result_frame(payload: str | bytes, text: str) -> bool:
    """Whether ``payload`` is the result frame of the ``tests.later`` call that sent ``text``."""
    if not isinstance(payload, str) or not payload.startswith("{"):
        return False
    frame: dict[str, Any] = json.loads(payload)
    result = frame.get("result")
    return isinstance(result, dict) and result.get("text") == text


def set_delay(page: Page, seconds: float) -> None:
    """Change the delay field without an event: only typing in the text field calls."""
    page.eval_on_selector(
        "#later-delay", "(field, value) => { field.value = value; }", str(seconds)
    )


def test_the_page_keeps_the_newest_result_when_an_older_call_answers_last(
    server: str, context: BrowserContext, sink
):
    page, sockets = open_watched(context, server + "/")
    page.evaluate(APPLY_RESULTS)

    with sockets[0].expect_event(
        "framereceived", lambda payload: result_frame(payload, "old"), timeout=20_000
    ):
        set_delay(page, SLOW)
        page.fill("#later-text", "old")  # one input event: the older call, slow
        # the older call runs in a worker before the newer one is even sent
        assert wait_for_records(sink, "later")[0] == {"name": "later", "text": "old", "delay": SLOW}
        set_delay(page, 0)
        page.fill("#later-text", "new")  # the newer call, answered at once
        page.wait_for_function(
            "document.getElementById('later-result').textContent === 'new'",
            polling=50,
            timeout=15_000,
        )
    # The older call's result has now reached the socket. A round trip on the same socket
    # proves the page has processed it too: frames are read in order.
    wait_connected(page)

    assert page.inner_text("#later-result") == "new"
    assert page.evaluate("window.applied") == ["new"]
    assert [r["text"] for r in wait_for_records(sink, "later", count=2)] == ["old", "new"]


CALL_TWICE = """async (slow) => {
  const form = (text, delay) => [{name: "text", value: text}, {name: "delay", value: String(delay)}];
  const older = DFSignals.call("tests.later", {form_data: form("old", slow)}, {latest: "later"});
  const newer = DFSignals.call("tests.later", {form_data: form("new", 0)}, {latest: "later"});
  const [olderOutcome, newerOutcome] = await Promise.allSettled([older, newer]);
  const error = olderOutcome.reason;
  return {
    older: olderOutcome.status,
    olderIsDFSignalError: error instanceof DFSignals.DFSignalError,
    olderType: error?.type,
    newer: newerOutcome.status === "fulfilled" ? newerOutcome.value.map((r) => r.text) : null,
  };
}"""


def test_a_call_superseded_by_a_newer_one_with_the_same_latest_key_rejects(
    server: str, context: BrowserContext, sink
):
    page, sockets = open_watched(context, server + "/")

    with sockets[0].expect_event(
        "framereceived", lambda payload: result_frame(payload, "old"), timeout=20_000
    ):
        outcome = page.evaluate(CALL_TWICE, SLOW)
    wait_connected(page)  # the late answer of the older call has been read (an uncaught
    # error in the page would fail the test: see chromium.contexts)

    assert outcome == {
        "older": "rejected",
        "olderIsDFSignalError": True,
        "olderType": "superseded",
        "newer": ["new"],
    }
    # superseding drops an answer, not a call already sent: both handlers ran
    assert sorted(r["text"] for r in wait_for_records(sink, "later", count=2)) == ["new", "old"]
