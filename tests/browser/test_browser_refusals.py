"""What the server refuses, seen from Chromium: calls, frames and websocket handshakes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.windows import open_window, queue_length, socket_url, window_key

pytestmark = pytest.mark.django_db(transaction=True)

HEARTBEAT = "--heartbeat--"

# A websocket of the page's own (the browser sets Origin and Cookie itself):
# sends `text` once open and resolves with what happened, at the first frame
# received or at the close.
RAW_SOCKET = """([url, text]) => new Promise((resolve) => {
  const seen = { opened: false, closeCode: null, frames: [] };
  const ws = new WebSocket(url);
  const finish = () => {
    ws.onmessage = ws.onclose = null;
    clearTimeout(timer);
    resolve(seen);
  };
  const timer = setTimeout(() => { seen.timedOut = true; ws.close(); finish(); }, 10000);
  ws.onopen = () => { seen.opened = true; ws.send(text); };
  ws.onmessage = (event) => { seen.frames.push(event.data); ws.close(1000); finish(); };
  ws.onclose = (event) => { seen.closeCode = event.code; finish(); };
})"""

CALL = """async ([name, opts]) => {
  try {
    return { resolved: await DFSignals.call(name, opts) };
  } catch (err) {
    return { isDFSignalError: err instanceof DFSignals.DFSignalError, type: err.type, message: err.message };
  }
}"""


def bare(url: str) -> str:
    """The websocket URL without a query: the window key then comes from the cookie only."""
    return url.split("?")[0]


def test_calls_to_server_side_and_unknown_signals_reject_and_enqueue_nothing(
    server: str, context: BrowserContext, sink
):
    page = open_window(context, server + "/")
    before = queue_length("idle")

    forbidden = page.evaluate(CALL, ["tests.server_only", {"value": "from a browser"}])
    unknown = page.evaluate(CALL, ["tests.no.such.signal", {}])

    assert forbidden == {
        "isDFSignalError": True,
        "type": "forbidden",
        "message": "dfws signal 'tests.server_only' cannot be called from a browser",
    }
    assert unknown == {
        "isDFSignalError": True,
        "type": "unknown_signal",
        "message": "no server handler for dfws signal 'tests.no.such.signal'",
    }
    assert queue_length("idle") == before  # tests.server_only's queue got no message
    assert [r for r in sink.read() if r["name"] == "server_only"] == []


def test_malformed_frames_get_an_error_frame_and_enqueue_nothing(
    server: str, context: BrowserContext
):
    open_window(context, server + "/")
    url = socket_url(context, server)
    before = queue_length("idle")

    not_json = context.pages[0].evaluate(RAW_SOCKET, [url, "{not json"])
    bad_shape = context.pages[0].evaluate(
        RAW_SOCKET, [url, '{"signal": "tests.server_only", "opts": [1]}']
    )

    assert not_json["opened"] and len(not_json["frames"]) == 1
    not_json_error = json.loads(not_json["frames"][0])["error"]
    assert not_json_error["type"] == "bad_frame"
    assert "frame is not valid JSON" in not_json_error["message"]
    bad_shape_error = json.loads(bad_shape["frames"][0])["error"]
    assert bad_shape_error["type"] == "bad_frame"
    assert "'opts' must be a JSON object" in bad_shape_error["message"]
    assert queue_length("idle") == before


def test_forged_window_key_is_refused_with_close_code_4003(server: str, context: BrowserContext):
    page = open_window(context, server + "/")
    url = bare(socket_url(context, server))
    forged_key = window_key(context, server) + ":forged-signature"
    genuine = page.evaluate(RAW_SOCKET, [url, HEARTBEAT])
    # the key in the URL wins over the cookie: a forged one is not rescued by the genuine cookie
    forged_in_url = page.evaluate(RAW_SOCKET, [f"{url}?dfwskey={quote(forged_key)}", HEARTBEAT])
    context.add_cookies([{"name": "dfwskey", "value": forged_key, "url": server}])
    forged_cookie = page.evaluate(RAW_SOCKET, [url, HEARTBEAT])

    assert genuine == {"opened": True, "closeCode": None, "frames": [HEARTBEAT]}
    assert forged_in_url == {"opened": True, "closeCode": 4003, "frames": []}
    assert forged_cookie == {"opened": True, "closeCode": 4003, "frames": []}


class OneStaticPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>another site</title><p>another site</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def site_on(host: str) -> Iterator[str]:
    """A tiny web site on ``host`` (another origin than daphne's); yields its base URL."""
    httpd = ThreadingHTTPServer((host, 0), OneStaticPage)
    thread = threading.Thread(target=httpd.serve_forever, name=f"site-{host}", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_websocket_from_a_foreign_origin_is_refused_at_the_handshake(
    server: str, context: BrowserContext
):
    page = open_window(context, server + "/")  # a genuine window key in the cookie jar
    url = bare(socket_url(context, server))
    # another port of 127.0.0.1 (a host in ALLOWED_HOSTS) is another origin, as is
    # 127.0.0.2 (not in ALLOWED_HOSTS, yet this machine): only the site's own pages connect
    with site_on("127.0.0.1") as other_port, site_on("127.0.0.2") as foreign_site:
        same_host = context.new_page()
        same_host.goto(other_port + "/")
        foreign = context.new_page()
        foreign.goto(foreign_site + "/")
        handshake_errors: list[str] = []
        for other in (same_host, foreign):
            other.on(
                "websocket",
                lambda ws: ws.on("socketerror", lambda error: handshake_errors.append(error)),
            )

        from_site = page.evaluate(RAW_SOCKET, [url, HEARTBEAT])
        from_same_host = same_host.evaluate(RAW_SOCKET, [url, HEARTBEAT])
        from_foreign = foreign.evaluate(RAW_SOCKET, [url, HEARTBEAT])

    assert from_site == {"opened": True, "closeCode": None, "frames": [HEARTBEAT]}
    # refused by the origin check during the handshake: the socket never opens
    assert from_same_host == {"opened": False, "closeCode": 1006, "frames": []}
    assert from_foreign == {"opened": False, "closeCode": 1006, "frames": []}
    assert (
        handshake_errors == ["Error during WebSocket handshake: Unexpected response code: 403"] * 2
    )
