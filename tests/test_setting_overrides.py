"""Each documented setting override that changes behaviour, seen through a real socket.

One private daphne for the module runs handlers in its own threads (``WEBSOCKET_WORKERS
= "thread"``: the pluggable settings then act in the one process that serves the
socket) with every override below at once, passed through ``DFWS_TEST_SETTINGS``. Each
test would fail with the setting's default.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import caches
from websockets.exceptions import ConnectionClosed

from dfws_celery.conf import DEFAULT_WINDOW_INFO_MIDDLEWARES
from dfws_web.window_cache import cache_key
from tests import services
from tests.layer import deliveries
from tests.test_relay import answers, call
from tests.wsclient import connect_window, open_page, receive_json, window_key

CACHE_EXPIRE = 5
OVERRIDES: dict[str, Any] = {
    "WEBSOCKET_WORKERS": "thread",
    "WEBSOCKET_POOL_SIZES": {"celery": 1},
    "WEBSOCKET_SIGNAL_ENCODER": "tests.testapp.custom.ComplexEncoder",
    "WEBSOCKET_SIGNAL_DECODER": "tests.testapp.custom.ComplexDecoder",
    "WEBSOCKET_TOPIC_SERIALIZER": "tests.testapp.custom.prefixed_topics",
    "WINDOW_INFO_MIDDLEWARES": [
        *DEFAULT_WINDOW_INFO_MIDDLEWARES,
        "tests.testapp.custom.TeamMiddleware",
    ],
    "WEBSOCKET_MAX_FRAME_SIZE": 1024,
    "WEBSOCKET_CALL_TIMEOUT": 7,
    "WEBSOCKET_RATE_LIMIT": 0,
    "WEBSOCKET_MAX_CALLS_IN_FLIGHT": 0,  # no cap: only the rate limit could refuse
    "WEBSOCKET_CACHE_EXPIRE": CACHE_EXPIRE,
}
PING = "tests.ping:tests.testapp.signals.ping"
COMPLEX = "tests.complex:tests.testapp.signals.double_complex"
WHOAMI = "tests.whoami:tests.testapp.signals.whoami"
NAP = "tests.nap:tests.testapp.signals.nap"


@pytest.fixture(scope="module")
def tuned(log_dir, django_db_setup) -> Iterator[str]:
    env = services.test_env(DFWS_TEST_SETTINGS=json.dumps(OVERRIDES))
    process = services.daphne(None, env, log_dir, name="daphne-overrides")
    yield process.url
    process.stop()


def send_calls(ws, calls: list[tuple[str, str, dict[str, Any]]]) -> None:
    for call_id, signal, opts in calls:
        ws.send(json.dumps({"signal": signal, "opts": opts, "call_id": call_id}))


def frames_until(ws, done, timeout: float = 20) -> list[dict[str, Any]]:
    """Frames of ``ws`` until ``done(frames)`` is true."""
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not done(frames):
        frames.append(receive_json(ws, timeout=max(0.1, deadline - time.monotonic())))
    return frames


def outcomes(frames: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The result or error frame of each call, by call id."""
    return {f["call_id"]: f for f in frames if "call_id" in f and ("result" in f or "error" in f)}


def test_pool_sizes_bound_the_threads_of_a_queue(tuned):
    """``{"celery": 1}``: three calls that sleep run one after the other, on one thread."""
    with connect_window(tuned, open_page(tuned)) as ws:
        send_calls(ws, [(f"n{n}", "tests.nap", {"seconds": 0.3}) for n in range(3)])
        frames = frames_until(ws, lambda f: len(outcomes(f)) == 3)
    results = [f["result"] for f in outcomes(frames).values()]
    assert {r["thread"] for r in results} == {"dfws-celery_0"}
    runs = sorted((r["started"], r["ended"]) for r in results)
    for (_, ended), (started, _) in itertools.pairwise(runs):
        assert started >= ended, f"two handlers of the queue ran at once: {runs}"


def test_the_signal_encoder_and_decoder_carry_a_projects_types(tuned):
    """The custom decoder gives the handler a complex number, the encoder sends one back."""
    frames = call(tuned, "tests.complex", {"z": {"__complex__": [1, 2]}})
    assert answers(frames)[COMPLEX]["result"] == {"__complex__": [2.0, 4.0]}


def test_the_topic_serializer_names_the_groups_of_pages_and_triggers(tuned):
    """``prefixed_topics`` names the string topic ``room-x`` ``custom.room-x``.

    A page of /room/x/ joins that group, and a handler's trigger to ``"room-x"``
    reaches it, not the default serializer's ``room-x`` group.
    """
    cookies = open_page(tuned, "/room/serialized/")
    with connect_window(tuned, cookies) as listener:
        listener.send("--heartbeat--")
        assert listener.recv(timeout=5) == "--heartbeat--"  # the groups are joined
        opts = {"topic": "room-serialized", "text": "to the room"}
        received = deliveries(
            ["custom.room-serialized", "room-serialized"],
            lambda: call(tuned, "tests.to_topic", opts),
            wait=3,
            count=1,
        )
        frame = receive_json(listener)
    assert [f["opts"]["content"] for f in received["custom.room-serialized"]] == ["<p>to the room</p>"]  # fmt: skip
    assert received["room-serialized"] == []
    assert frame["signal"] == "html.append" and frame["opts"]["content"] == "<p>to the room</p>"


def test_window_info_middlewares_carry_a_projects_values_to_the_handler(tuned):
    frames = call_page(tuned, "/?team=blue", "tests.whoami", {})
    assert answers(frames)[WHOAMI]["result"]["team"] == "blue"


def call_page(base: str, path: str, signal: str, opts: dict[str, Any]) -> list[dict[str, Any]]:
    with connect_window(base, open_page(base, path)) as ws:
        send_calls(ws, [("c1", signal, opts)])
        return frames_until(ws, lambda f: bool(outcomes(f)))


def test_max_frame_size_refuses_larger_frames(tuned):
    """1024 bytes: a frame of 1,500 is refused ``too_large`` (the default takes 65,536)."""
    with connect_window(tuned, open_page(tuned)) as ws:
        send_calls(ws, [("small", "tests.ping", {"pad": "x" * 800})])
        send_calls(ws, [("large", "tests.ping", {"pad": "x" * 1500})])
        frames = frames_until(ws, lambda f: any("ack" in x for x in f) and any(is_refusal(x) for x in f))  # fmt: skip
    [ack] = [f for f in frames if "ack" in f]
    assert ack["call_id"] == "small" and ack["ack"]["handlers"] == [PING]
    [refusal] = [f for f in frames if is_refusal(f)]  # too large to read its call id
    assert refusal["error"]["type"] == "too_large"
    assert refusal["error"]["message"].endswith("exceeds 1024 bytes")


def is_refusal(frame: dict[str, Any]) -> bool:
    return "error" in frame and "call_id" not in frame


def test_call_timeout_is_sent_with_each_ack(tuned):
    frames = call(tuned, "tests.ping", {"value": 1})
    assert frames[0]["ack"]["handlers"] == [PING]
    assert frames[0]["ack"]["timeout"] == 7  # the default says 30


def test_a_rate_limit_of_zero_refuses_no_burst(tuned):
    """100 calls at once (the default admits 40 in a burst): each is acked and answered."""
    count = 100
    with connect_window(tuned, open_page(tuned)) as ws:
        send_calls(ws, [(f"p{n}", "tests.ping", {"value": n}) for n in range(count)])
        frames = frames_until(ws, lambda f: len(outcomes(f)) == count, timeout=60)
    refused = [f for f in frames if "error" in f]
    assert refused == []
    assert sorted(f["result"] for f in outcomes(frames).values()) == list(range(1, count + 1))


def test_cache_expire_is_how_long_a_connected_window_lives(tuned):
    cookies = open_page(tuned)
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    key = caches["default"].make_key(cache_key(window_key(cookies)))
    try:
        with connect_window(tuned, cookies) as ws:
            ws.send("--heartbeat--")
            assert ws.recv(timeout=5) == "--heartbeat--"  # connected: the entry was extended
            assert 0 < client.ttl(key) <= CACHE_EXPIRE
        services.wait_until(lambda: not client.exists(key), CACHE_EXPIRE + 5, "the entry to expire")
    finally:
        client.close()
    with connect_window(tuned, cookies) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd.code == 4004  # an unknown or expired window
