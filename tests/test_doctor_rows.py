"""``manage.py dfws_doctor``'s other rows (tests/test_doctor.py has the broker, queues, tasks
and a closed --url): settings errors, in-process workers, the table, an unreachable cache and
channel layer, a URL of another scheme, a server that does not upgrade to a websocket."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests import services
from tests.test_doctor import doctor, statuses

pytestmark = pytest.mark.django_db(transaction=True)


def test_in_process_workers_skip_the_worker_rows_and_settings_errors_fail_the_table():
    """``channels`` on the Pub/Sub layer: check dfws.E009 fails; no broker, no workers."""
    env = services.test_env(DFWS_TEST_SETTINGS=json.dumps({"WEBSOCKET_WORKERS": "channels"}))
    result = subprocess.run(
        [sys.executable, "-m", "django", "dfws_doctor", "--timeout", "1.5"], env=env,
        capture_output=True, text=True, timeout=90, cwd=services.ROOT,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("FAIL  settings dfws.E009") for line in lines), lines
    assert any(
        line.startswith("SKIP  workers")
        and line.endswith("handlers run in-process (WEBSOCKET_WORKERS)")
        for line in lines
    ), lines
    assert not any(" broker " in line for line in lines)
    assert "1 check(s) failed" in result.stderr


def test_an_unreachable_cache_and_channel_layer_fail_their_rows(worker):
    with socket.socket() as closed:  # bound, never listening: every connect is refused
        closed.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{closed.getsockname()[1]}/10"
        down = {
            "CACHES": {
                "default": {
                    "BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": url,
                }
            },
            "CHANNEL_LAYERS": {
                "default": {
                    "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                    "CONFIG": {"hosts": [url]},
                }
            },
        }
        code, rows = doctor(DFWS_TEST_SETTINGS=json.dumps(down))
    assert code == 1
    assert rows["cache"]["status"] == "fail" and "unreachable" in rows["cache"]["detail"]
    assert rows["channel layer"]["status"] == "fail", rows["channel layer"]
    assert "unreachable" in rows["channel layer"]["detail"]
    assert statuses(rows)["broker"] == "ok"  # the broker is the run's Redis, still up


@pytest.fixture
def plain_http() -> Iterator[str]:
    """A web server that answers 200 to everything, websocket handshakes included."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_url_of_another_scheme_and_a_server_without_websockets_fail_the_websocket_row(
    worker, plain_http
):
    code, rows = doctor("--url", "ftp://127.0.0.1/")
    assert code == 1
    assert (
        rows["websocket"]["detail"]
        == "--url 'ftp://127.0.0.1/' is not an http(s):// or ws(s):// URL"
    )
    code, rows = doctor("--url", plain_http)
    assert code == 1
    assert rows["websocket"]["status"] == "fail"
    assert "answered 200 to the handshake, not 101" in rows["websocket"]["detail"]
