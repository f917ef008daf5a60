"""What a server signal may make a page do, in Chromium: no script through a URL, no call
through inserted HTML (issue 11).

Absence is proven without sleeping: the frames of one window arrive in order, and the calls
of one page leave in order, so once a later positive control has been seen, what was to
happen before it either happened or never will.
"""

from __future__ import annotations

import json
from html import escape

import pytest
from playwright.sync_api import BrowserContext, WebSocket, expect

from dfws_celery import WINDOW, trigger
from tests.browser.windows import open_window, wait_connected, window, window_key
from tests.conftest import wait_for_records

pytestmark = pytest.mark.django_db(transaction=True)


def bound_button(button_id: str, value: int) -> str:
    """A button whose data-df-signal calls the browser-callable ``tests.ping`` with ``value``."""
    binding = json.dumps([{"name": "tests.ping", "opts": {"value": value}}])
    return (
        f'<button type="button" id="{button_id}" data-df-signal="{escape(binding)}">ping</button>'
    )


def test_download_file_with_a_javascript_url_runs_no_script(server: str, context: BrowserContext):
    page = open_window(context, server + "/")
    key = window_key(context, server)
    warnings: list[str] = []
    page.on("console", lambda message: message.type == "warning" and warnings.append(message.text))

    trigger(
        window(key),
        "html.download_file",
        to=WINDOW,
        url="javascript:window.pwned=1",
        filename="x.txt",
    )
    trigger(window(key), "html.text", to=WINDOW, selector="#received", content="after")

    expect(page.locator("#received")).to_have_text("after")  # the download_file was handled
    wait_connected(page)  # and a round trip later, a javascript: navigation would have run
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert any("'html.download_file' refused the URL" in text for text in warnings), warnings


def test_download_file_with_a_relative_url_still_downloads(server: str, context: BrowserContext):
    page = open_window(context, server + "/")
    key = window_key(context, server)

    with page.expect_download() as download:
        trigger(
            window(key),
            "html.download_file",
            to=WINDOW,
            url="static/js/df_websockets.min.js",
            filename="client.js",
        )

    assert download.value.url == server + "/static/js/df_websockets.min.js"  # resolved, followed


def test_bindings_in_html_inserted_by_a_signal_do_not_call(
    server: str, context: BrowserContext, sink
):
    page = context.new_page()
    sockets: list[WebSocket] = []
    calls: list[dict] = []  # every call frame the page sent, in order

    def watch(socket: WebSocket) -> None:
        sockets.append(socket)
        socket.on("framesent", lambda payload: record_call(payload, calls))

    page.on("websocket", watch)
    page.goto(server + "/")
    wait_connected(page)
    key = window_key(context, server)

    trigger(
        window(key),
        "html.content",
        to=WINDOW,
        selector="#received",
        content=bound_button("injected", 666),
    )
    expect(page.locator("#received #injected")).to_have_count(1)  # the signal inserted it
    page.click("#injected")
    # Positive control, clicked after: the same markup inserted by the page's own script is
    # bound and calls. Its frame leaves after the injected button's would have.
    page.evaluate(
        "(html) => document.getElementById('from-view').insertAdjacentHTML('beforeend', html)",
        bound_button("own", 1),
    )
    with sockets[0].expect_event("framesent", lambda payload: is_ping(payload, 1)):
        page.click("#own")

    assert [c["opts"] for c in calls if c["signal"] == "tests.ping"] == [{"value": 1}]
    assert [r["value"] for r in wait_for_records(sink, "ping")] == [1]


def record_call(payload: str | bytes, calls: list[dict]) -> None:
    if isinstance(payload, str) and payload.startswith("{"):
        calls.append(json.loads(payload))


def is_ping(payload: str | bytes, value: int) -> bool:
    calls: list[dict] = []
    record_call(payload, calls)
    return (
        bool(calls) and calls[0]["signal"] == "tests.ping" and calls[0]["opts"] == {"value": value}
    )
