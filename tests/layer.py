"""Listening to channel-layer groups from a test, as a consumer would."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis
from channels.layers import get_channel_layer
from django.conf import settings

from dfws_celery.relay import window_group
from dfws_celery.topics import group_name
from dfws_celery.window_info import WindowInfo
from dfws_celery.wire import HEARTBEAT


async def subscribed(groups: Iterable[str], timeout: float = 5.0) -> None:
    """With Redis Pub/Sub, wait until Redis counts our subscription to each group.

    ``group_add`` returns once SUBSCRIBE is written, before Redis has read it.
    """
    if settings.LAYER != "pubsub":
        return
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    names = [f"{prefix}__group__{group}" for group in groups]
    client = redis.Redis.from_url(settings.REDIS_URL)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while any(count == 0 for _, count in client.pubsub_numsub(*names)):
            if loop.time() > deadline:
                raise TimeoutError(f"not subscribed to {names} after {timeout} s")
            await asyncio.sleep(0.01)
    finally:
        client.close()


def deliveries(
    topics: Iterable[str],
    action: Callable[[], Any],
    wait: float = 1.0,
    count: int | None = None,
    stamped: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """Join one receiver per topic, run ``action`` in a thread, collect the frames received.

    Each receiver collects for ``wait`` seconds, or until it has ``count`` frames;
    ``stamped``: each frame gets its arrival time (``time.monotonic()``) as ``"received_at"``.
    """

    async def main() -> dict[str, list[dict[str, Any]]]:
        layer = get_channel_layer()
        channels = {}
        for topic in topics:
            channel = await layer.new_channel()
            await layer.group_add(group_name(topic), channel)
            channels[topic] = channel
        await subscribed(group_name(topic) for topic in channels)
        await asyncio.to_thread(action)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait

        async def collect(channel: str) -> list[dict[str, Any]]:
            frames = []
            while (remaining := deadline - loop.time()) > 0:
                if count is not None and len(frames) >= count:
                    break
                try:
                    message = await asyncio.wait_for(layer.receive(channel), remaining)
                except TimeoutError:
                    break
                frame = json.loads(message["text"])
                if stamped:
                    frame["received_at"] = time.monotonic()
                frames.append(frame)
            return frames

        results = await asyncio.gather(*(collect(c) for c in channels.values()))
        received = dict(zip(channels, results, strict=True))
        for topic, channel in channels.items():
            await layer.group_discard(group_name(topic), channel)
        return received

    return asyncio.run(main())


def wait_subscribed(groups: Iterable[str], timeout: float = 5.0) -> None:
    """:func:`subscribed` for sync tests (a websocket client opened by a test)."""
    asyncio.run(subscribed(list(groups), timeout))


def window_joined(ws: Any, key: str, timeout: float = 5.0) -> None:
    """Return once the consumer of ``ws`` has joined the group of window ``key``.

    The consumer accepts the socket before it joins its groups; it handles a
    socket's messages in order, so the echo of a heartbeat sent now means the
    join has been sent to the layer, and with Redis Pub/Sub we then wait until
    Redis counts the subscription.
    """
    ws.send(HEARTBEAT)
    echo = ws.recv(timeout=timeout)
    assert echo == HEARTBEAT, f"expected the heartbeat's echo first, got {echo!r}"
    group = window_group(WindowInfo.from_dict({"window_key": key}))
    assert group is not None
    wait_subscribed([group], timeout)
