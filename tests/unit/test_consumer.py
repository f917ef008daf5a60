"""The websocket consumer with Channels' communicator, the in-memory layer and local memory.

A ``SignalQueue`` records what browser calls forward: nothing reaches Celery.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from urllib.parse import quote

import pytest
from channels.layers import get_channel_layer
from channels.sessions import CookieMiddleware
from channels.testing import WebsocketCommunicator
from django.core.cache import caches

from dfws_celery import everyone, publisher, signal
from dfws_celery.testing import SignalQueue
from dfws_celery.topics import group_name
from dfws_celery.window_info_middlewares import hash_session_key
from dfws_web import consumer as consumer_module
from dfws_web import inbound as inbound_module
from dfws_web.consumer import SignalConsumer
from dfws_web.window_cache import cache_key
from dfws_web.windows import sign

TASK_NUMBERS = itertools.count()


@pytest.fixture(autouse=True)
def fresh_warm_loop(monkeypatch):
    """A connected consumer adopts its loop for publishing: keep that out of other tests."""
    warm = publisher.WarmLoop()
    monkeypatch.setattr(publisher, "warm_loop", warm)
    monkeypatch.setattr(consumer_module, "warm_loop", warm)
    return warm


@pytest.fixture
def window_key():
    """A window of its own per test: limits kept per window must not carry over."""
    return f"wk-{next(TASK_NUMBERS)}"


@pytest.fixture
def callable_signal(declared):
    def handler(window_info, n: int = 0):
        pass

    # a fresh task name each time: Celery keeps the task of a forgotten declaration
    name = f"unit.consumer.call.{next(TASK_NUMBERS)}"
    signal("unit.consumer.call", name=name, is_allowed_to=everyone)(handler)
    return name


def open_window(key="wk", topics=None, **window_info):
    """The cache entry ``set_websocket_topics`` writes when the page loads."""
    entry = {
        "topics": topics or [f"-window.{key}"],
        "window_info": {"window_key": key, **window_info},
    }
    caches["default"].set(cache_key(key), entry)
    return entry


def socket(query_key=None, cookies=""):
    path = "/ws/" if query_key is None else f"/ws/?dfwskey={quote(query_key)}"
    headers = [(b"cookie", cookies.encode())] if cookies else []
    return WebsocketCommunicator(CookieMiddleware(SignalConsumer.as_asgi()), path, headers=headers)


async def close_code(ws):
    """Accepted, then closed: the client reads the code and does not reconnect."""
    connected, _ = await ws.connect()
    assert connected
    output = await ws.receive_output()
    await ws.disconnect()  # the server's close handshake, answered as a browser does
    return output["type"], output.get("code")


async def call(ws, frame):
    await ws.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))
    return json.loads(await ws.receive_from())


@pytest.mark.parametrize(
    ("query_key", "cookies"),
    [(None, ""), ("wk", ""), (sign("wk") + "x", ""), (None, "dfwskey=wk:forged")],
    ids=["no key", "unsigned", "bad signature", "forged cookie"],
)
def test_a_missing_or_forged_key_is_closed_with_4003(query_key, cookies):
    open_window("wk")
    assert asyncio.run(close_code(socket(query_key, cookies))) == ("websocket.close", 4003)


def test_an_unknown_window_is_closed_with_4004():
    assert asyncio.run(close_code(socket(sign("wk-gone")))) == ("websocket.close", 4004)


def test_a_window_of_another_session_is_closed_with_4003():
    open_window("wk-s", session_hash=hash_session_key("page-session"))
    for cookies in ("", "sessionid=another-session"):
        assert asyncio.run(close_code(socket(sign("wk-s"), cookies))) == ("websocket.close", 4003)


def test_the_key_in_the_url_wins_over_the_shared_cookie():
    open_window("wk-tab-1")
    open_window("wk-tab-2")

    async def scenario():
        ws = socket(sign("wk-tab-2"), cookies=f"dfwskey={sign('wk-tab-1')}")
        await ws.connect()
        await ws.send_to(text_data="--heartbeat--")
        await ws.receive_from()  # connect() has joined its groups
        layer = get_channel_layer()
        await layer.group_send(
            group_name("-window.wk-tab-1"), {"type": "dfws.frame", "text": "tab 1"}
        )
        await layer.group_send(
            group_name("-window.wk-tab-2"), {"type": "dfws.frame", "text": "tab 2"}
        )
        text = await ws.receive_from()
        nothing_else = await ws.receive_nothing()
        await ws.disconnect()
        return text, nothing_else

    assert asyncio.run(scenario()) == ("tab 2", True)


def test_the_cookie_alone_identifies_the_window():
    open_window("wk-cookie")

    async def scenario():
        ws = socket(cookies=f"dfwskey={sign('wk-cookie')}")
        connected, _ = await ws.connect()
        await ws.send_to(text_data="--heartbeat--")
        echo = await ws.receive_from()
        await ws.disconnect()
        return connected, echo

    assert asyncio.run(scenario()) == (True, "--heartbeat--")


def test_frames_of_every_topic_of_the_window_are_relayed_until_it_closes():
    open_window("wk-rel", topics=["-window.wk-rel", "news"])

    async def scenario():
        layer = get_channel_layer()
        ws = socket(sign("wk-rel"))
        await ws.connect()
        await ws.send_to(text_data="--heartbeat--")
        await ws.receive_from()
        for topic in ("news", "-window.wk-rel", "sports"):
            await layer.group_send(group_name(topic), {"type": "dfws.frame", "text": topic})
        texts = [await ws.receive_from(), await ws.receive_from()]
        assert await ws.receive_nothing()
        await ws.disconnect()
        return texts, layer.groups.get(group_name("news"), {})

    texts, members_after = asyncio.run(scenario())
    assert texts == ["news", "-window.wk-rel"] and members_after == {}


def test_a_connected_window_adopts_its_loop_for_publishing(fresh_warm_loop):
    open_window("wk-adopt")

    async def scenario():
        ws = socket(sign("wk-adopt"))
        await ws.connect()
        await ws.send_to(text_data="--heartbeat--")
        await ws.receive_from()
        adopted = fresh_warm_loop.adopted and fresh_warm_loop.loop() is asyncio.get_running_loop()
        await ws.disconnect()
        return adopted

    assert asyncio.run(scenario())


async def connected(key):
    ws = socket(sign(key))
    connected, _ = await ws.connect()
    assert connected
    return ws


def test_a_call_is_forwarded_and_acked(window_key, callable_signal, settings):
    settings.WEBSOCKET_CALL_TIMEOUT = 12
    entry = open_window(window_key, user_agent="Lynx")

    async def scenario():
        ws = await connected(window_key)
        ack = await call(ws, {"signal": "unit.consumer.call", "opts": {"n": 1}, "call_id": "c1"})
        await ws.send_to(text_data=json.dumps({"signal": "unit.consumer.call", "opts": {"n": 2}}))
        no_ack = await ws.receive_nothing()
        await ws.disconnect()
        return ack, no_ack

    with SignalQueue() as queue:
        ack, no_ack = asyncio.run(scenario())
        assert len(ack.pop("o")) == 1  # kept in the window's history
    where = {callable_signal: {"queue": "celery", "consumer": None}}  # no queue watch here
    assert ack == {
        "call_id": "c1",
        "ack": {"handlers": [callable_signal], "timeout": 12.0, "queues": where},
    }
    assert no_ack  # a call without call_id waits for nothing
    assert queue.python_signals["celery"] == [
        ["unit.consumer.call", entry["window_info"], {"n": 1}, True, None, True, "celery"],
        ["unit.consumer.call", entry["window_info"], {"n": 2}, True, None, True, "celery"],
    ]


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("not json", {"error": {"type": "bad_frame"}}),
        (
            {"signal": "", "call_id": "c2"},
            {"call_id": "c2", "ack": {"handlers": []}, "error": {"type": "bad_frame"}},
        ),
        (
            {"signal": "unit.consumer.nobody", "call_id": "c3"},
            {"call_id": "c3", "ack": {"handlers": []}, "error": {"type": "unknown_signal"}},
        ),
        ({"signal": "x", "opts": {"pad": "x" * 100}}, {"error": {"type": "too_large"}}),
    ],
    ids=["not json", "empty signal", "unknown signal", "too large"],
)
def test_a_bad_frame_is_answered_and_the_socket_stays_open(window_key, settings, frame, expected):
    settings.WEBSOCKET_MAX_FRAME_SIZE = 100
    open_window(window_key)

    async def scenario():
        ws = await connected(window_key)
        answer = await call(ws, frame)
        await ws.send_to(text_data="--heartbeat--")
        still_open = await ws.receive_from()
        await ws.disconnect()
        return answer, still_open

    with SignalQueue() as queue:
        answer, still_open = asyncio.run(scenario())
    del answer["error"]["message"]
    assert answer == expected and still_open == "--heartbeat--"
    assert dict(queue.python_signals) == {}


def test_binary_frames_are_refused(window_key):
    open_window(window_key)

    async def scenario():
        ws = await connected(window_key)
        await ws.send_to(bytes_data=b"\x00")
        answer = json.loads(await ws.receive_from())
        await ws.disconnect()
        return answer

    assert asyncio.run(scenario()) == {
        "error": {"type": "bad_frame", "message": "binary frames are not accepted"}
    }


def test_calls_past_the_rate_limit_are_refused_and_not_forwarded(
    window_key, callable_signal, settings
):
    settings.WEBSOCKET_RATE_LIMIT = 2  # bursts of 4
    open_window(window_key)

    async def scenario():
        ws = await connected(window_key)
        answers = [
            await call(ws, {"signal": "unit.consumer.call", "call_id": str(n)}) for n in range(6)
        ]
        await ws.disconnect()
        return answers

    with SignalQueue() as queue:
        answers = asyncio.run(scenario())
    assert ["error" in a for a in answers] == [False] * 4 + [True] * 2
    assert answers[4]["error"] == {
        "type": "rate_limited",
        "message": "more than 2 calls per second (WEBSOCKET_RATE_LIMIT)",
    }
    assert answers[4]["call_id"] == "4" and answers[4]["ack"] == {"handlers": []}
    assert len(queue.python_signals["celery"]) == 4


def test_a_backend_failure_is_answered_as_unavailable(
    window_key, callable_signal, monkeypatch, caplog
):
    def broker_down(*args):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(inbound_module, "forward", broker_down)
    open_window(window_key)

    async def scenario():
        ws = await connected(window_key)
        answer = await call(ws, {"signal": "unit.consumer.call", "call_id": "c9"})
        await ws.disconnect()
        return answer

    answer = asyncio.run(scenario())
    assert len(answer.pop("o")) == 1  # kept in the window's history, like every answer
    assert answer == {
        "call_id": "c9",
        "ack": {"handlers": []},
        "error": {
            "type": "unavailable",
            "message": "the call could not be queued (ConnectionRefusedError)",
        },
    }
    assert f"window {window_key}: could not queue" in caplog.text


def test_the_handshake_cookies_are_parsed_without_channels_middleware():
    from dfws_web.consumer import scope_cookies

    headers = [(b"host", b"x"), (b"cookie", b"dfwskey=k1; a=1"), (b"cookie", b"b=2")]
    assert scope_cookies({"headers": headers}) == {"dfwskey": "k1", "a": "1", "b": "2"}
    assert scope_cookies({"headers": []}) == {}
    # a stack that parsed them already (AuthMiddlewareStack) is read as is
    assert scope_cookies({"headers": headers, "cookies": {"dfwskey": "k2"}}) == {"dfwskey": "k2"}


def test_a_windows_kept_info_shares_its_repeated_text_with_other_windows():
    from dfws_web.consumer import interned

    agent = "Mozilla/5.0 (X11; Linux x86_64) " + "x" * 60
    first = interned({"window_key": "k1" + "0" * 22, "user_agent": agent[:]}, "k1" + "0" * 22)
    key = "".join(["k2", "0" * 22])
    second = interned({"window_key": "k2" + "0" * 22, "user_agent": "".join(agent)}, key)
    assert first["user_agent"] is second["user_agent"]  # one string for every such window
    assert second["window_key"] is key  # the consumer's own
    assert second == {"window_key": key, "user_agent": agent}
