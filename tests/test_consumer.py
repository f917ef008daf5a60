"""The consumer alone (WebsocketCommunicator, in-memory layer), and behind a daphne whose broker is down."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.cache import caches

from dfws_celery import WINDOW, WindowInfo, trigger
from dfws_celery.testing import SignalQueue
from dfws_celery.topics import group_name
from dfws_celery.wire import HEARTBEAT
from dfws_web.consumer import SignalConsumer
from dfws_web.window_cache import cache_key
from dfws_web.windows import sign
from tests import services
from tests.layer import window_joined
from tests.wsclient import connect_window, open_page, receive_json, window_key

IN_MEMORY = {
    "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"group_expiry": 2}}
}


@pytest.fixture
def memory_layer(settings):
    settings.CHANNEL_LAYERS = IN_MEMORY
    yield get_channel_layer()


def communicator(key: str = "wk-consumer") -> WebsocketCommunicator:
    caches["default"].set(
        cache_key(key), {"topics": [f"-window.{key}"], "window_info": {"window_key": key}}
    )
    return WebsocketCommunicator(SignalConsumer.as_asgi(), f"/ws/?dfwskey={quote(sign(key))}")


def test_heartbeats_keep_a_window_in_its_groups_past_group_expiry(memory_layer):
    async def scenario():
        ws = communicator()
        connected, _ = await ws.connect()
        assert connected
        for _ in range(4):  # 4 s > group_expiry of 2 s
            await asyncio.sleep(1)
            await ws.send_to(text_data="--heartbeat--")
            assert await ws.receive_from() == "--heartbeat--"
        await memory_layer.group_send(
            group_name("-window.wk-consumer"), {"type": "dfws.frame", "text": "x"}
        )
        text = await ws.receive_from(timeout=2)
        await ws.disconnect()
        return text

    assert async_to_sync(scenario)() == "x"


def test_calls_past_the_rate_limit_are_refused_and_not_enqueued(memory_layer, settings):
    settings.WEBSOCKET_RATE_LIMIT = 5

    async def scenario():
        ws = communicator()
        await ws.connect()
        frames = []
        for n in range(15):
            await ws.send_to(
                text_data=json.dumps({"signal": "tests.ping", "opts": {}, "call_id": str(n)})
            )
            frames.append(json.loads(await ws.receive_from()))
        await ws.disconnect()
        return frames

    with SignalQueue() as queue:
        frames = async_to_sync(scenario)()
    limited = [f for f in frames if f.get("error", {}).get("type") == "rate_limited"]
    accepted = [f for f in frames if f.get("ack", {}).get("handlers")]
    assert len(accepted) == 10 and len(limited) == 5
    assert "more than 5 calls per second" in limited[0]["error"]["message"]
    assert len(queue.python_signals["celery"]) == 10


def test_a_broker_failure_is_answered_and_the_socket_stays_open(memory_layer, monkeypatch, caplog):
    # a window of its own: the limits (in Redis here) are kept per window, across tests
    from kombu.exceptions import OperationalError

    from dfws_web import inbound

    def broker_down(*args):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(inbound, "forward", broker_down)

    async def scenario():
        ws = communicator("wk-broker-down")
        await ws.connect()
        await ws.send_to(text_data=json.dumps({"signal": "tests.ping", "call_id": "c1"}))
        answer = json.loads(await ws.receive_from())
        await ws.send_to(text_data="--heartbeat--")
        still_open = await ws.receive_from()
        await ws.disconnect()
        return answer, still_open

    answer, still_open = async_to_sync(scenario)()
    assert answer["call_id"] == "c1"
    assert answer["error"] == {
        "type": "unavailable",
        "message": "the call could not be queued (OperationalError)",
    }
    assert still_open == "--heartbeat--"
    assert "could not queue dfws signal 'tests.ping'" in caplog.text


def test_unknown_window_is_refused(memory_layer):
    async def scenario():
        ws = WebsocketCommunicator(
            SignalConsumer.as_asgi(), f"/ws/?dfwskey={quote(sign('nobody'))}"
        )
        await ws.connect()
        output = await ws.receive_output()
        await ws.wait()
        return output

    output = async_to_sync(scenario)()
    assert (output["type"], output["code"]) == ("websocket.close", 4004)


def test_closing_a_socket_leaves_its_groups(memory_layer):
    async def scenario():
        ws = communicator("wk-leaving")
        await ws.connect()
        await ws.send_to(text_data="--heartbeat--")  # answered once connect() has joined
        await ws.receive_from()
        group = group_name("-window.wk-leaving")
        joined = len(memory_layer.groups.get(group, {}))
        await ws.disconnect()
        return joined, len(memory_layer.groups.get(group, {}))

    assert async_to_sync(scenario)() == (1, 0)


def test_redis_layer_defaults_guard_against_known_pitfalls():
    from dfws_celery.layers import redis_channel_layer

    config = redis_channel_layer("redis://127.0.0.1:6379/1")["CONFIG"]
    host = config["hosts"][0]
    assert host["socket_timeout"] is None  # idle sockets must not die after 5 s
    assert host["max_connections"] >= 1000  # closing many sockets at once must not fail
    assert config["capacity"] >= 1000


# a refused connection is retried by kombu (its default publish retry policy: ~0.65 s
# measured) before apply_async gives up: the browser hears of it within this time
OUTAGE_ANSWER_WITHIN = 3.0


def test_a_real_broker_outage_is_answered_unavailable_and_the_socket_stays_usable(
    log_dir, django_db_setup
):
    """A private daphne whose broker URL names a loopback port where nothing listens."""
    with socket.socket() as closed:  # bound, never listening: every connect is refused
        closed.bind(("127.0.0.1", 0))
        broker = f"redis://127.0.0.1:{closed.getsockname()[1]}/10"
        env = services.test_env(DFWS_TEST_BROKER=broker)
        process = services.daphne(None, env, log_dir, name="daphne-broker-down")
        try:
            cookies = open_page(process.url)
            with connect_window(process.url, cookies) as ws:
                window_joined(ws, window_key(cookies))
                answers, delays = [], []
                for call_id in ("c1", "c2"):  # the socket keeps serving calls
                    started = time.monotonic()
                    call = {"signal": "tests.ping", "opts": {"value": 1}, "call_id": call_id}
                    ws.send(json.dumps(call))
                    answers.append(receive_json(ws, timeout=OUTAGE_ANSWER_WITHIN + 5))
                    delays.append(time.monotonic() - started)
                ws.send(HEARTBEAT)
                assert ws.recv(timeout=5) == HEARTBEAT
                # and frames published to the window still reach it (Redis is up)
                info = WindowInfo.from_dict({"window_key": window_key(cookies)})
                trigger(info, "html.text", to=WINDOW, selector="#x", content="still here")
                delivered = receive_json(ws)
        finally:
            process.stop()
    assert [len(answer.pop("o")) for answer in answers] == [1, 1]  # kept in the history
    assert answers == [
        {
            "call_id": call_id,
            "ack": {"handlers": []},
            "error": {
                "type": "unavailable",
                "message": "the call could not be queued (OperationalError)",
            },
        }
        for call_id in ("c1", "c2")
    ]
    assert max(delays) < OUTAGE_ANSWER_WITHIN, delays
    assert delivered["opts"]["content"] == "still here"
    assert "could not queue dfws signal 'tests.ping'" in process.log_path.read_text()
