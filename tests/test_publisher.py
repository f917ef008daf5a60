from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest
import redis
from django.conf import settings

from dfws_celery import BROADCAST, SERVER, WindowInfo, atrigger, trigger
from dfws_celery.layers import redis_channel_layer
from dfws_celery.publisher import warm_loop
from tests import services
from tests.conftest import wait_for_records
from tests.layer import deliveries


def layer_connections() -> set[int]:
    """Ids of this process's channel-layer connections (named in tests/settings.py)."""
    name = f"{settings.PREFIX}-{os.getpid()}"
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
    errors = []

    def send():
        try:
            for _ in range(20):
                trigger(None, "demo.threads", to=BROADCAST)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_atrigger_publishes_on_the_callers_loop():
    received = deliveries(
        ["async-room"],
        lambda: asyncio.run(atrigger(WindowInfo(), "demo.async", to="async-room", n=1)),
    )
    assert received["async-room"][0]["opts"] == {"n": 1}


def test_fork_gets_a_fresh_loop():
    trigger(None, "demo.fork", to=BROADCAST)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: publishing must work here too
        try:
            trigger(None, "demo.fork", to=BROADCAST)
            os.write(write, b"ok")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 2) == b"ok"


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
    from dfws_celery import publisher

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    fresh = publisher.WarmLoop()
    monkeypatch.setattr(publisher, "warm_loop", fresh)
    trigger(None, "demo.nobody", to=BROADCAST)
    assert fresh._loop is None  # no thread touched the process-local layer
