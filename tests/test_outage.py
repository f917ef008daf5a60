"""Degrade, do not 500 (issue 13), against a PRIVATE redis-server this test owns (never the
shared one) and a private daphne pointed at it: with Redis stopped, a page that binds topics
renders (200) and the outage is logged once; Redis started again on the same port, the same
page's socket connects and receives a WINDOW signal, with no reload."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests import services
from tests.wsclient import connect_window, receive_json

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def private(
    log_dir: Path, django_db_setup: Any
) -> Iterator[tuple[services.PrivateRedis, str, Any]]:
    redis_server = services.PrivateRedis(log_dir)
    redis_server.start()
    env = services.test_env(DFWS_TEST_REDIS=redis_server.url, DFWS_TEST_BROKER=redis_server.url)
    daphne = services.daphne(None, env, log_dir, name=f"daphne-outage-{redis_server.port}")
    try:
        yield redis_server, daphne.url, daphne
    finally:
        daphne.stop()
        redis_server.stop()


def get(base: str, path: str, jar: CookieJar, headers: dict[str, str] | None = None) -> int:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    request = urllib.request.Request(base + path, headers=headers or {})
    with opener.open(request, timeout=15) as response:
        response.read()
        return int(response.status)


def test_a_page_renders_while_redis_is_down_and_its_socket_connects_once_it_is_back(private):
    redis_server, base, daphne = private
    redis_server.stop()

    jar = CookieJar()
    assert get(base, "/", jar) == 200
    cookies = {cookie.name: cookie.value for cookie in jar}
    signed_key = cookies["dfwskey"].strip('"')
    key = signed_key.split(":")[0]
    assert "dfwsurl" in cookies and f"dfwsw-{key}" in cookies
    for _ in range(5):  # more pages: no flood of errors
        assert get(base, "/", CookieJar()) == 200
    log = daphne.output()
    assert log.count("the window cache is unreachable") == 1, log

    # no Redis: no socket yet
    with (
        pytest.raises((ConnectionClosed, InvalidStatus, OSError)),
        connect_window(base, cookies) as ws,
    ):
        receive_json(ws, 3)
    # the Pub/Sub layer's subscription of the socket fails first: one line, no traceback
    assert "Exception inside application" not in daphne.output(), daphne.output()

    redis_server.start()  # the same port, empty: the window's entry was never stored

    deadline = time.monotonic() + 20
    while True:  # what the client's reconnect with backoff does
        try:
            with connect_window(base, cookies) as ws:
                try:
                    ws.recv(timeout=0.5)
                except TimeoutError:  # open, and not closed by the server
                    receives_a_window_signal(ws, base, jar, signed_key, daphne)
                    return
                except ConnectionClosed:
                    pass
        except (InvalidStatus, OSError):
            pass
        assert time.monotonic() < deadline, daphne.output()
        time.sleep(0.5)


def receives_a_window_signal(ws: Any, base: str, jar: CookieJar, signed_key: str, daphne: Any):
    key = signed_key.split(":")[0]
    assert f"window {key}: its entry, signed while the cache was down, is stored" in (
        daphne.output()
    )
    ajax = {"X-Requested-With": "XMLHttpRequest", "X-Dfws-Key": signed_key}

    def triggered() -> bool:  # the layer may need a moment to reconnect to Redis
        try:
            return get(base, "/ajax/trigger/", jar, ajax) == 200
        except OSError:
            time.sleep(0.2)
            return False

    services.wait_until(triggered, 10, "a trigger to the window")
    frame = receive_json(ws, 10)
    assert frame["signal"] == "html.content"
    assert frame["opts"] == {"selector": "#from-view", "content": "<b>view</b>"}
