"""Publishing frames from sync and async code, on the in-memory layer (no Redis)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured

from dfws_celery import publisher
from dfws_celery.publisher import WarmLoop, apublish, channel_layer, publish


@pytest.fixture
def warm(monkeypatch):
    """A fresh WarmLoop as the process's publisher; its thread is stopped afterwards."""
    loop = WarmLoop()
    monkeypatch.setattr(publisher, "warm_loop", loop)
    yield loop
    stop(loop)


def stop(warm_loop):
    stop_loop(warm_loop._loop, warm_loop._thread)


def stop_loop(loop, thread):
    if thread is not None and loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def listen(*groups):
    layer = channel_layer()
    channel = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, channel)
    return layer, channel


async def received(layer, channel, timeout=1.0):
    return await asyncio.wait_for(layer.receive(channel), timeout)


def test_a_warm_loop_is_started_once_and_runs_coroutines(warm):
    async def answer():
        return threading.current_thread().name

    loop = warm.loop()
    assert warm.run(answer()) == "dfws-publisher"
    assert warm.loop() is loop and not warm.adopted


def test_a_closed_loop_or_a_forked_child_gets_a_fresh_loop(warm, monkeypatch):
    first = warm.loop()
    stop(warm)
    second, second_thread = warm.loop(), warm._thread
    assert second is not first and second.is_running()
    try:
        with monkeypatch.context() as patch:
            patch.setattr(publisher.os, "getpid", lambda: -1)  # as in a forked child
            third = warm.loop()
    finally:
        stop_loop(second, second_thread)
    assert third is not second and third.is_running()


def test_a_sync_publish_from_the_loop_itself_is_refused(warm):
    async def scenario():
        warm.adopt_current()
        with pytest.raises(
            RuntimeError, match="synchronous publish called from the publisher loop itself"
        ):
            publish(["dfws.g"], "x")

    asyncio.run(scenario())


def test_the_in_memory_layer_drops_frames_until_a_consumer_adopts_a_loop(warm):
    publish(["dfws.g"], "lost")
    assert warm._loop is None  # no thread was started to touch the process-local layer

    async def scenario():
        warm.adopt_current()  # what a connected consumer does
        layer, channel = await listen("dfws.g")
        await asyncio.to_thread(publish, ["dfws.g"], "kept")  # a sync caller: a view, a task
        assert warm.adopted
        return await received(layer, channel)

    message = asyncio.run(scenario())
    assert message["type"] == "dfws.frame" and message["text"] == "kept"
    # the dropped frame was still numbered: a window that connects later can replay it
    assert message["o"]["dfws.g"][1] == 2
    assert not warm.adopted  # the loop closed with the server: nothing adopts it any more


def test_apublish_sends_to_each_group_on_the_callers_loop():
    async def scenario():
        layer, one = await listen("dfws.a")
        _, two = await listen("dfws.b")
        await apublish(["dfws.a", "dfws.b"], "both")
        await apublish(["dfws.a"], "one")
        await apublish([], "none")
        return [await received(layer, one), await received(layer, one), await received(layer, two)]

    assert [m["text"] for m in asyncio.run(scenario())] == ["both", "one", "both"]


def test_no_groups_is_no_work_even_without_a_layer(settings):
    settings.CHANNEL_LAYERS = {}
    publish([], "x")
    with pytest.raises(
        ImproperlyConfigured,
        match="dfws needs a channel layer to reach browsers: set CHANNEL_LAYERS",
    ):
        publish(["dfws.g"], "x")
