"""The consumer behind a real daphne, with a real websocket client, Redis and worker."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from http.cookiejar import CookieJar
from urllib.parse import quote, unquote

import pytest
import redis
from django.conf import settings
from websockets.exceptions import ConnectionClosed, InvalidStatus

from dfws_celery import SERVER, WINDOW, WindowInfo, trigger
from tests import services
from tests.conftest import wait_for_records
from tests.layer import window_joined
from tests.wsclient import connect_window, open_page, receive_json, window_key

pytestmark = pytest.mark.django_db(transaction=True)


def window_of(cookies):
    return WindowInfo.from_dict({"window_key": window_key(cookies)})


def test_page_sets_signed_key_and_url_cookies(server):
    cookies = open_page(server)
    assert cookies["dfwsurl"].startswith("ws%3A%2F%2F127.0.0.1%3A")
    key, signature = cookies["dfwskey"].split(":")
    assert len(key) >= 24 and signature


def test_trigger_to_window_reaches_the_socket(server):
    cookies = open_page(server)
    with connect_window(server, cookies) as ws:
        window_joined(ws, window_key(cookies))
        trigger(window_of(cookies), "html.text", to=WINDOW, selector="#x", content="hi")
        frame = receive_json(ws)
    assert frame["signal"] == "html.text" and frame["opts"] == {"selector": "#x", "content": "hi"}


def test_idle_socket_survives_longer_than_redis_read_timeout(server):
    cookies = open_page(server)
    with connect_window(server, cookies) as ws:
        time.sleep(7)
        trigger(window_of(cookies), "html.text", to=WINDOW, selector="#x", content="late")
        assert receive_json(ws)["opts"]["content"] == "late"


def test_a_tab_keeps_its_window_after_another_page_set_the_cookie(server):
    jar = CookieJar()
    first = open_page(server, jar=jar)
    second = open_page(server, jar=jar)  # the shared dfwskey cookie now names the second window
    assert window_key(first) != window_key(second)
    with connect_window(server, {**second, "dfwsurl": first["dfwsurl"]}) as ws:
        window_joined(ws, window_key(first))
        trigger(window_of(first), "html.text", to=WINDOW, selector="#x", content="first")
        assert receive_json(ws)["opts"]["content"] == "first"


def cache_clients() -> int:
    clients = redis.Redis.from_url(settings.REDIS_URL).client_list()
    return sum(1 for c in clients if c["name"] == f"{settings.PREFIX}-cache")


def test_open_sockets_do_not_hold_a_cache_connection_each(server):
    pages = [open_page(server) for _ in range(30)]
    with ExitStack() as stack:
        sockets = [stack.enter_context(connect_window(server, pages[0]))]
        before = cache_clients()
        sockets += [stack.enter_context(connect_window(server, c)) for c in pages[1:]]
        for ws in sockets:
            ws.send("--heartbeat--")
            assert ws.recv(timeout=5) == "--heartbeat--"
        assert cache_clients() - before < 10  # one per worker thread at most, not one per socket


def test_heartbeat_is_echoed(server):
    with connect_window(server, open_page(server)) as ws:
        ws.send("--heartbeat--")
        assert ws.recv(timeout=5) == "--heartbeat--"


def test_browser_call_is_acked_and_runs_the_handler(server, sink):
    cookies = open_page(server)
    with connect_window(server, cookies) as ws:
        ws.send(json.dumps({"signal": "tests.ping", "opts": {"value": 4}, "call_id": "c1"}))
        ack = receive_json(ws)
        assert len(ack.pop("o")) == 1  # its place in the window's history (test_recovery.py)
        ping = "tests.ping:tests.testapp.signals.ping"
        assert ack == {
            "call_id": "c1",
            "ack": {
                "handlers": [ping],
                "timeout": 30.0,
                "queues": {ping: {"queue": "celery", "consumer": None}},
            },
        }
        record = wait_for_records(sink, "ping")[0]
    assert record["value"] == 4 and record["window_key"] == window_key(cookies)


PROBE_QUEUE = "refused-probe"  # the probe daphne's default queue: no worker consumes it


def queued(queue: str) -> int:
    """Messages waiting in ``queue`` of the run's Redis broker, at every priority.

    kombu's Redis transport keeps a list per queue and priority step, under the
    run's ``global_keyprefix``.
    """
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    names = [queue] + [f"{queue}\x06\x16{priority}" for priority in (3, 6, 9)]
    return sum(client.llen(f"{settings.PREFIX}:{name}") for name in names)


def every_queue() -> dict[str, int]:
    """Each queue a frame sent to the probe daphne could reach (no worker drains them)."""
    return {queue: queued(queue) for queue in (PROBE_QUEUE, "idle")}


@pytest.fixture(scope="module")
def probe_server(log_dir, worker):
    """A daphne whose default queue nobody consumes: what it enqueues stays countable."""
    env = services.test_env(DFWS_TEST_QUEUE=PROBE_QUEUE)
    process = services.daphne(None, env, log_dir, name="daphne-probe")
    yield process.url
    process.stop()


@pytest.mark.parametrize(
    ("text", "error_type", "message"),
    [
        ('{"signal": "tests.server_only", "opts": {}, "call_id": "c"}', "forbidden",
         "'tests.server_only' cannot be called from a browser"),
        ('{"signal": "no.such", "opts": {}, "call_id": "c"}', "unknown_signal",
         "no server handler for dfws signal 'no.such'"),
        ("{not json", "bad_frame", "frame is not valid JSON"),
        ('{"signal": "tests.ping", "opts": [1]}', "bad_frame", "'opts' must be a JSON object"),
        ('{"signal": 3}', "bad_frame", "'signal' must be a non-empty string"),
        ('["tests.ping"]', "bad_frame", "frame must be a JSON object"),
        ('{"signal": "tests.ping", "opts": {}, "extra": 1}', "bad_frame", "unexpected keys"),
        ('{"signal": "tests.ping", "opts": {"v": "' + "x" * 70000 + '"}}', "too_large", "exceeds"),
        ("[" * 20000 + "]" * 20000, "bad_frame", "nested too deeply"),
        ('{"signal": "tests.ping", "opts": {"v": NaN}}', "bad_frame", "NaN is not a JSON number"),
        ('{"signal": "tests.ping", "opts": {"v": -Infinity}, "call_id": "c"}', "bad_frame",
         "-Infinity is not a JSON number"),
    ],
)  # fmt: skip
def test_bad_frames_get_an_error_frame_and_enqueue_nothing(probe_server, text, error_type, message):
    before = every_queue()
    with connect_window(probe_server, open_page(probe_server)) as ws:
        ws.send(text)
        frame = receive_json(ws)
        assert frame["error"]["type"] == error_type
        assert message in frame["error"]["message"]
        ws.send("--heartbeat--")  # still open and serving: the frame was handled
        assert ws.recv(timeout=5) == "--heartbeat--"
    assert every_queue() == before


def test_an_unknown_signal_and_a_bad_frame_are_said_in_the_servers_log(probe_server, log_dir):
    """What the browser is told is in daphne's log too, naming the window: a misspelled
    signal (a WARNING by default, dfws.websocket.unknown) and a malformed frame."""
    name = f"no.such.{time.monotonic_ns()}"
    cookies = open_page(probe_server)
    key = window_key(cookies)
    with connect_window(probe_server, cookies) as ws:
        ws.send(json.dumps({"signal": name, "opts": {}, "call_id": "c"}))
        assert receive_json(ws)["error"]["type"] == "unknown_signal"
        ws.send("{not json")
        assert receive_json(ws)["error"]["type"] == "bad_frame"
    log = log_dir / "daphne-probe.log"
    said = [
        f"window {key} (user anonymous) called dfws signal '{name}', which no @signal declares",
        f"window {key}: refused frame (bad_frame: frame is not valid JSON",
    ]
    services.wait_until(lambda: all(line in log.read_text() for line in said), 10, "the log")


def test_the_queue_count_sees_what_the_probe_server_enqueues(probe_server):
    """The control of the test above: an accepted call, a server trigger, each counted."""
    before = every_queue()
    with connect_window(probe_server, open_page(probe_server)) as ws:
        ws.send(json.dumps({"signal": "tests.ping", "opts": {"value": 1}, "call_id": "c"}))
        assert receive_json(ws)["ack"]["handlers"] == ["tests.ping:tests.testapp.signals.ping"]
    trigger(WindowInfo(), "tests.server_only", to=SERVER)  # the handler refused to browsers
    assert every_queue() == {PROBE_QUEUE: before[PROBE_QUEUE] + 1, "idle": before["idle"] + 1}


@pytest.mark.parametrize("where", ["url", "cookie"])
def test_forged_window_key_is_refused_with_a_close_code(server, where):
    cookies = open_page(server)
    forged = window_key(cookies) + ":forged-signature"
    url = unquote(cookies["dfwsurl"]).split("?")[0]
    if where == "url":
        cookies["dfwsurl"] = quote(f"{url}?dfwskey={quote(forged, safe='')}", safe="")
    else:
        cookies["dfwsurl"], cookies["dfwskey"] = quote(url, safe=""), forged
    with connect_window(server, cookies) as ws, pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=5)
    assert info.value.rcvd.code == 4003


def test_window_of_a_logged_in_page_is_bound_to_its_session(server):
    jar = CookieJar()
    cookies = open_page(server, "/login/sessionbound/?next=/", jar=jar)
    assert "sessionid" in cookies
    with connect_window(server, cookies) as ws:
        ws.send("--heartbeat--")
        assert ws.recv(timeout=5) == "--heartbeat--"
    stolen = {k: v for k, v in cookies.items() if k != "sessionid"}
    with connect_window(server, stolen) as ws, pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=5)
    assert info.value.rcvd.code == 4003


def test_foreign_origin_is_refused(server):
    with pytest.raises(InvalidStatus) as info:
        connect_window(server, open_page(server), origin="http://evil.example")
    assert info.value.response.status_code == 403


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:6666",  # another port of the same host
        "https://{hostport}",  # another scheme
        "ftp://{hostport}",
        "http://localhost:{port}",  # another host name of the same machine
        "null",  # a sandboxed iframe or a file:// page
    ],
)
def test_same_host_other_origins_are_refused(server, origin):
    hostport = server.split("://")[1]
    origin = origin.format(hostport=hostport, port=hostport.split(":")[1])
    with pytest.raises(InvalidStatus) as info:
        connect_window(server, open_page(server), origin=origin)
    assert info.value.response.status_code == 403


def test_the_sites_own_origin_is_accepted_in_any_case(server):
    with connect_window(server, open_page(server), origin=server.upper()) as ws:
        ws.send("--heartbeat--")
        assert ws.recv(timeout=5) == "--heartbeat--"


def test_built_in_permissions_are_decided_before_anything_is_queued(server, worker, sink):
    from django_celery_results.models import TaskResult

    refused_task = "tests.staff_only:tests.testapp.signals.staff_only"
    with connect_window(server, open_page(server)) as ws:  # an anonymous visitor
        for n in range(20):
            ws.send(json.dumps({"signal": "tests.staff_only", "opts": {}, "call_id": f"c{n}"}))
        frames = [receive_json(ws) for _ in range(40)]
        # a call the window may make still runs: the worker is there and stores results
        ws.send(json.dumps({"signal": "tests.ping", "opts": {"value": 1}, "call_id": "ok"}))
        while "result" not in (frame := receive_json(ws)):
            pass
    acks = [f for f in frames if "ack" in f]
    errors = [f for f in frames if "error" in f]
    assert len(acks) == len(errors) == 20
    assert all(f["ack"]["handlers"] == [refused_task] for f in acks)
    assert {f["error"]["type"] for f in errors} == {"permission_denied"}
    assert {f["handler"] for f in errors} == {refused_task}
    frame.pop("o", None)  # its position in the window's history (tests/test_recovery.py)
    assert frame == {"call_id": "ok", "handler": frame["handler"], "result": 2}
    wait_for_records(sink, "ping")
    services.wait_until(
        lambda: TaskResult.objects.filter(task_name__startswith="tests.ping:").exists(),
        10,
        "the ping result",
    )
    assert not TaskResult.objects.filter(task_name=refused_task).exists()
    assert [r for r in sink.read() if r["name"] == "staff_only"] == []
