from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from typing import Any

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings

from dfws_celery import BROADCAST, SERVER, WindowInfo, atrigger, trigger
from dfws_celery.layers import redis_channel_layer
from dfws_celery.publisher import warm_loop
from dfws_celery.topics import group_name
from tests import services
from tests.conftest import wait_for_records
from tests.layer import deliveries


def layer_connections() -> set[int]:
    """Ids of this process's channel-layer connections (named in tests/settings.py).

    A forked child inherits the name: its connections count as its parent's.
    """
    name = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["client_name"]
    clients = redis.Redis.from_url(settings.REDIS_URL).client_list()
    return {int(c["id"]) for c in clients if c["name"] == name}


def test_sync_triggers_reuse_their_redis_connections():
    trigger(None, "demo.warm", to=["bench-topic", BROADCAST])  # warm up: two groups
    loop = warm_loop.loop() if settings.LAYER == "list" else None
    before = layer_connections()
    for n in range(200):
        trigger(None, "demo.warm", to=["bench-topic", BROADCAST], n=n)
    if loop is not None:  # the list layer publishes through one long-lived loop
        assert warm_loop.loop() is loop
    assert before and layer_connections() == before  # the same connections, none new


def test_triggers_from_short_lived_threads_reuse_the_connections():
    """Django under ASGI runs each request's sync view in a thread of its own."""
    trigger(None, "demo.threads", to=BROADCAST)  # warm up
    before = layer_connections()
    seen: set[int] = set()  # what is open while each thread is alive

    def request(n: int) -> None:
        trigger(None, "demo.threads", to=BROADCAST, n=n)
        seen.update(layer_connections())

    for n in range(20):
        thread = threading.Thread(target=request, args=(n,))
        thread.start()
        thread.join()
    assert before and seen == before


def test_triggers_from_many_threads_share_the_warm_loop():
    """8 threads x 20 triggers at once: every frame delivered, connections reused.

    What opens is bounded by the concurrency, not by the number of triggers: at
    most two connections per thread (a publish and its window history, each on
    connections borrowed and given back; the list layer's one loop may need a few
    at once). A loop or a connection per publish would leave ~160 open.
    """
    threads_count, per_thread = 8, 20
    room = "threads-room"
    trigger(None, "demo.threads", to=room, t=-1, n=-1)  # warm up
    measured: dict[str, set[int]] = {}
    errors: list[BaseException] = []

    def send(t: int) -> None:
        try:
            for n in range(per_thread):
                trigger(None, "demo.threads", to=room, t=t, n=n)
        except BaseException as exc:  # reported below
            errors.append(exc)

    def burst() -> None:
        measured["before"] = layer_connections()
        threads = [threading.Thread(target=send, args=(t,)) for t in range(threads_count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        measured["after"] = layer_connections()

    expected = threads_count * per_thread
    frames = deliveries([room], burst, wait=10, count=expected)[room]
    assert errors == []
    sent = sorted((f["opts"]["t"], f["opts"]["n"]) for f in frames)
    assert sent == [(t, n) for t in range(threads_count) for n in range(per_thread)]
    added = measured["after"] - measured["before"]
    assert len(added) <= 2 * threads_count, (
        f"{len(added)} connections opened by {expected} triggers"
    )


def test_atrigger_publishes_on_the_callers_loop():
    received = deliveries(
        ["async-room"],
        lambda: asyncio.run(atrigger(WindowInfo(), "demo.async", to="async-room", n=1)),
    )
    assert received["async-room"][0]["opts"] == {"n": 1}


def test_a_forked_child_publishes_on_connections_of_its_own(settings):
    """A Celery prefork child publishes what its parent publishes, on its own sockets.

    The parent has published (its connections are warm) before forking; the
    child's frame must arrive, through a connection the parent does not hold
    (a shared socket mixes the replies of two processes), and the parent must
    still publish on its own connections, none added, afterwards.
    """
    # the publisher's sockets alone: the window history's (redis-py pools) are never shared
    settings.WEBSOCKET_HISTORY = None
    room = "fork-room"
    trigger(None, "demo.fork", to=room, by="warm-up")
    measured: dict[str, Any] = {}

    def fork_and_publish() -> None:
        measured["parent"] = layer_connections()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report what it opened, never return into pytest
            code = 1
            try:
                trigger(None, "demo.fork", to=room, by="child")
                os.write(write, json.dumps(sorted(layer_connections())).encode())
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        with os.fdopen(read) as pipe:
            measured["child"] = set(json.loads(pipe.read() or "null") or [])
        _, status = os.waitpid(pid, 0)
        measured["status"] = os.waitstatus_to_exitcode(status)
        trigger(None, "demo.fork", to=room, by="parent")
        measured["parent after"] = layer_connections()

    frames = deliveries([room], fork_and_publish, wait=10, count=2)[room]
    assert measured["status"] == 0
    assert sorted(f["opts"]["by"] for f in frames) == ["child", "parent"]
    assert measured["child"] - measured["parent"], "the child published on its parent's sockets"
    assert measured["parent after"] == measured["parent"]


@pytest.mark.django_db(transaction=True)
def test_process_workers_run_handlers_in_other_processes(settings, sink):
    settings.WEBSOCKET_WORKERS = "process"
    trigger(WindowInfo(), "tests.ping", to=SERVER, value=5)
    record = wait_for_records(sink, "ping")[0]
    assert record["value"] == 5 and record["pid"] != os.getpid()


@pytest.mark.django_db(transaction=True)
def test_channels_workers_run_handlers_in_runworker(settings, sink, log_dir):
    # a named channel needs the list layer's queue (Pub/Sub is refused by check dfws.E009)
    env = services.test_env(DFWS_TEST_LAYER="list")
    args = [sys.executable, "-m", "django", "runworker", settings.WEBSOCKET_DEFAULT_QUEUE]
    runworker = services.Process("runworker", args, env, log_dir)
    try:
        settings.CHANNEL_LAYERS = {
            "default": redis_channel_layer(settings.REDIS_URL, prefix=f"{settings.PREFIX}:layer")
        }
        settings.WEBSOCKET_WORKERS = "channels"
        trigger(WindowInfo(), "tests.ping", to=SERVER, value=6)
        record = wait_for_records(sink, "ping", timeout=30)[0]
        assert runworker.alive(), runworker.output()
        assert record["value"] == 6 and record["pid"] == runworker.popen.pid
    finally:
        runworker.stop()


def test_in_memory_layer_drops_frames_until_a_consumer_adopts_a_loop(settings, monkeypatch):
    """Before a consumer connected, a sync trigger must not touch the process-local layer.

    Its queues belong to the server's loop: a frame published from another
    thread's loop would race with it. Once a consumer adopted its loop (as
    ``SignalConsumer.connect`` does), the same trigger reaches the group.
    """
    from dfws_celery import publisher

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    monkeypatch.setattr(publisher, "warm_loop", publisher.WarmLoop())
    before_threads = {t.name for t in threading.enumerate()}

    async def scenario() -> tuple[list[Any], list[Any]]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(group_name("memory-room"), channel)

        async def received() -> list[Any]:
            try:
                return [await asyncio.wait_for(layer.receive(channel), 0.2)]
            except TimeoutError:
                return []

        await asyncio.to_thread(trigger, None, "demo.nobody", to="memory-room")
        before_adoption = await received()
        publisher.warm_loop.adopt_current()  # a consumer connected on this loop
        await asyncio.to_thread(trigger, None, "demo.somebody", to="memory-room")
        return before_adoption, await received()

    dropped, delivered = asyncio.run(scenario())
    assert dropped == []
    assert [json.loads(m["text"])["signal"] for m in delivered] == ["demo.somebody"]
    assert {t.name for t in threading.enumerate()} - before_threads == set()
