"""Limits per window, address and queue, shared by every socket (real daphne, Redis, worker).

The test project sets ``WEBSOCKET_MAX_SOCKETS_PER_ADDRESS = 40``,
``WEBSOCKET_MAX_CALLS_IN_FLIGHT = 50`` and ``WEBSOCKET_QUEUE_LIMITS = {"idle": 3}``;
the other limits have their defaults (4 sockets per window, 20 calls per second).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from contextlib import ExitStack

import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from websockets.exceptions import ConnectionClosed

from dfws_celery.conf import dfws_settings
from dfws_celery.redis_clients import BareConnections
from dfws_web.limit_store import ADMIT, OK, RATE, Entry, Rate, RedisStore
from dfws_web.window_cache import cache_key
from tests import services
from tests.wsclient import connect_window, open_page, receive_json, window_key

pytestmark = pytest.mark.django_db(transaction=True)
TOO_MANY_SOCKETS = 4029


def closed_code(ws) -> int:
    with pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=5)
    return info.value.rcvd.code


def alive(ws) -> bool:
    ws.send("--heartbeat--")
    return ws.recv(timeout=5) == "--heartbeat--"


def send_call(ws, signal: str, call_id: str, **opts) -> None:
    ws.send(json.dumps({"signal": signal, "opts": opts, "call_id": call_id}))


def replies(ws, count: int, timeout: float = 15) -> list[dict]:
    """The next ``count`` frames that end a call: a refusal or a handler's answer."""
    found = []
    deadline = time.monotonic() + timeout
    while len(found) < count:
        frame = receive_json(ws, timeout=max(0.1, deadline - time.monotonic()))
        if "error" in frame or "result" in frame:
            found.append(frame)
    return found


def test_a_window_opens_at_most_four_sockets_across_its_tabs(server):
    cookies = open_page(server)
    with ExitStack() as stack:
        sockets = [stack.enter_context(connect_window(server, cookies)) for _ in range(4)]
        assert all(alive(ws) for ws in sockets)
        with connect_window(server, cookies) as fifth:
            assert closed_code(fifth) == TOO_MANY_SOCKETS
        sockets[0].close()
        time.sleep(0.2)  # the server saw the close and released the socket's place
        with connect_window(server, cookies) as again:
            assert alive(again)


def test_an_address_opens_at_most_forty_sockets(server):
    # from an address of its own: no other test's sockets count against it
    source = f"127.0.{random.randint(1, 250)}.{random.randint(2, 250)}"
    pages = [open_page(server) for _ in range(11)]
    with ExitStack() as stack:
        for cookies in pages[:10]:
            for _ in range(4):
                ws = stack.enter_context(connect_window(server, cookies, source=source))
                assert alive(ws)
        with connect_window(server, pages[10], source=source) as one_more:
            assert closed_code(one_more) == TOO_MANY_SOCKETS
        with connect_window(server, pages[10]) as from_elsewhere:  # another address is not full
            assert alive(from_elsewhere)


def test_a_socket_whose_count_expired_is_counted_again_at_its_heartbeat(server):
    """Sockets silent for their whole TTL, or all of them after a Redis restart, drop out of
    the sets; their heartbeats must bring them back, or they escape the cap until reconnected."""
    cookies = open_page(server)
    key = caches["default"].make_key(
        f"{dfws_settings.cache_prefix}:limits:sockets:w:{window_key(cookies)}"
    )
    client = redis.Redis.from_url(settings.REDIS_URL)
    with ExitStack() as stack:
        sockets = [stack.enter_context(connect_window(server, cookies)) for _ in range(4)]
        assert all(alive(ws) for ws in sockets)
        assert client.zcard(key) == 4
        client.delete(key)  # as if they had all expired
        assert all(alive(ws) for ws in sockets)  # each heartbeat renews its socket
        assert client.zcard(key) == 4
        with connect_window(server, cookies) as fifth:
            assert closed_code(fifth) == TOO_MANY_SOCKETS
    client.close()


@pytest.fixture(scope="module")
def slow_rate(log_dir, worker):
    """A daphne allowing 2 calls per second and window (bursts of 4): a limit that holds
    however slowly a busy machine admits the calls (at the default 20/s, a server admitting
    fewer than 20 calls a second never refuses one, rightly)."""
    env = services.test_env(DFWS_TEST_SETTINGS=json.dumps({"WEBSOCKET_RATE_LIMIT": 2}))
    process = services.daphne(None, env, log_dir, name="daphne-slow-rate")
    yield process.url
    process.stop()


def test_the_rate_limit_is_shared_by_the_sockets_of_a_window(slow_rate):
    cookies = open_page(slow_rate)
    with ExitStack() as stack:
        sockets = [stack.enter_context(connect_window(slow_rate, cookies)) for _ in range(4)]
        started = time.monotonic()
        # 4 calls per socket: each socket alone stays within a burst of 4
        for n in range(4):
            for i, ws in enumerate(sockets):
                send_call(ws, "tests.ping", f"{i}-{n}", value=n)
        # a refusal reaches only its own socket, a result every socket of the window
        ends: dict[str, dict] = {}
        deadline = time.monotonic() + 20
        while len(ends) < 16 and time.monotonic() < deadline:
            for ws in sockets:
                try:
                    frame = receive_json(ws, timeout=0.05)
                except TimeoutError:
                    continue
                if "error" in frame or "result" in frame:
                    ends[frame["call_id"]] = frame
        elapsed = time.monotonic() - started  # the server admitted every call within this
    refused = [f for f in ends.values() if f.get("error", {}).get("type") == "rate_limited"]
    answered = [f for f in ends.values() if "result" in f]
    assert len(refused) + len(answered) == 16
    # a burst of 4, then 2 per second, for the window's sockets together
    assert len(answered) <= 4 + 2 * elapsed + 1
    assert refused


def test_a_queue_limit_keeps_one_window_from_holding_the_queue(server):
    cookies, other = open_page(server), open_page(server)
    with connect_window(server, cookies) as ws:
        for n in range(4):  # nobody consumes "idle": these stay queued
            send_call(ws, "tests.idle_call", f"q{n}")
        refusal = replies(ws, 1)[0]
        assert refusal["call_id"] == "q3"
        assert refusal["error"]["type"] == "too_many_calls"
        assert "on queue 'idle' (WEBSOCKET_QUEUE_LIMITS)" in refusal["error"]["message"]
        with connect_window(server, other) as elsewhere:  # another window is not held up
            send_call(elsewhere, "tests.idle_call", "o1")
            assert receive_json(elsewhere)["ack"]["handlers"]
    # the socket's calls stop counting when it closes: a reconnected window may call again
    with connect_window(server, cookies) as again:
        send_call(again, "tests.idle_call", "r1")
        assert "error" not in receive_json(again)


def test_answered_calls_stop_counting(server, worker):
    cookies = open_page(server)
    with connect_window(server, cookies) as ws:
        for n in range(60):  # more than the 50 in flight, under 20 per second
            send_call(ws, "tests.ping", f"a{n}", value=n)
            time.sleep(0.07)
        frames = replies(ws, 60)
    assert [f for f in frames if "error" in f] == []


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        # 80,000 bytes of UTF-8, though only 20,000 characters
        ({"v": "\U0001f600" * 20_000}, "exceeds 65536 bytes"),
        # 48,000 bytes in the frame, 144,000 once escaped for the task message
        ({"v": "\U0001f600" * 12_000}, "the arguments encode to"),
    ],
)
def test_sizes_are_counted_in_bytes_on_the_frame_and_the_task_message(server, opts, message):
    with connect_window(server, open_page(server)) as ws:
        ws.send(
            json.dumps({"signal": "tests.ping", "opts": opts, "call_id": "big"}, ensure_ascii=False)
        )
        frame = receive_json(ws)
        assert frame["error"]["type"] == "too_large"
        assert message in frame["error"]["message"]
        assert alive(ws)


def test_a_window_that_never_connects_expires_in_minutes(server):
    cookies = open_page(server)
    client = redis.Redis.from_url(settings.REDIS_URL)
    key = caches["default"].make_key(cache_key(window_key(cookies)))
    try:
        assert 0 < client.ttl(key) <= 300
        with connect_window(server, cookies) as ws:
            assert alive(ws)
            assert client.ttl(key) > 35000  # WEBSOCKET_CACHE_EXPIRE from the first connect
    finally:
        client.close()


def test_the_redis_store_counts_on_redis_clock_across_clients():
    from redis import asyncio as aioredis

    async def scenario():
        first = aioredis.Redis.from_url(settings.REDIS_URL)
        second = aioredis.Redis.from_url(settings.REDIS_URL)
        prefix = f"{settings.PREFIX}:store-test:{time.monotonic_ns()}:"
        a, b = RedisStore(first, prefix), RedisStore(second, prefix)
        b.bare.shas[ADMIT] = "0" * 40  # as after a Redis restart: the script is loaded again
        try:
            two = [Entry("set", ("m1",), 2)]
            assert await a.admit(two, 60, None) == OK
            assert await b.admit([Entry("set", ("m2", "m3"), 2)], 60, None) == 1  # 3 > 2
            assert await b.admit([Entry("set", ("m2",), 2)], 60, None) == OK
            await a.release([Entry("set", ("m1",), 2)])
            assert await b.admit([Entry("set", ("m4",), 2)], 60, None) == OK
            assert await a.admit([Entry("short", ("x",), 1)], 0.2, None) == OK
            await asyncio.sleep(0.3)  # expired members stop counting
            assert await b.admit([Entry("short", ("y",), 1)], 60, None) == OK
            # answered members released with the next check, before it counts
            assert await a.admit([Entry("set", ("m5",), 2)], 60, None) == 1
            released = [Entry("set", ("m2",), 2)]
            assert await a.admit([Entry("set", ("m5",), 2)], 60, None, released) == OK
            rate = Rate("rate", 2)  # bursts of 4
            verdicts = [await (a if n % 2 else b).admit([], 60, rate) for n in range(6)]
            assert verdicts == [OK, OK, OK, OK, RATE, RATE]
        finally:
            await a.close()
            await b.close()
            await first.aclose()
            await second.aclose()

    asyncio.run(scenario())


def test_a_socket_sending_refused_frames_is_closed_after_thirty_a_minute(server, caplog):
    with connect_window(server, open_page(server)) as ws:
        for _ in range(30):
            ws.send("{not json")
            assert receive_json(ws)["error"]["type"] == "bad_frame"
        ws.send("{not json")
        assert receive_json(ws)["error"]["type"] == "bad_frame"
        assert closed_code(ws) == 4008


def test_a_page_calling_its_javascript_only_signals_stays_connected(server):
    with connect_window(server, open_page(server)) as ws:
        for n in range(60):
            ws.send(json.dumps({"signal": "html.text", "opts": {}, "call_id": f"j{n}"}))
            assert receive_json(ws)["error"]["type"] == "unknown_signal"
        assert alive(ws)


def test_a_burst_of_sockets_closing_together_waits_its_turn():
    """redis-py 8's pools raise past 100 connections: the store queues instead."""
    from redis import asyncio as aioredis

    async def scenario():
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        store = RedisStore(client, f"{settings.PREFIX}:burst:{time.monotonic_ns()}:")
        try:
            entries = [Entry("sockets", (f"s{n}",), 0) for n in range(300)]
            await store.admit(entries, 60, None)
            await asyncio.gather(*(store.release([entry]) for entry in entries))
            assert await store.admit([Entry("sockets", ("last",), 1)], 60, None) == OK
            return len(store.bare.idle)
        finally:
            await store.close()
            await client.aclose()

    assert asyncio.run(scenario()) <= BareConnections.CONNECTIONS
