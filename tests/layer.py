"""Listening to channel-layer groups from a test, as a consumer would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any

from channels.layers import get_channel_layer

from dfws_celery.topics import group_name


def deliveries(
    topics: Iterable[str], action: Callable[[], Any], wait: float = 1.0
) -> dict[str, list[dict[str, Any]]]:
    """Join one receiver per topic, run ``action`` in a thread, collect the frames received."""

    async def main() -> dict[str, list[dict[str, Any]]]:
        layer = get_channel_layer()
        channels = {}
        for topic in topics:
            channel = await layer.new_channel()
            await layer.group_add(group_name(topic), channel)
            channels[topic] = channel
        await asyncio.to_thread(action)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait

        async def collect(channel: str) -> list[dict[str, Any]]:
            frames = []
            while (remaining := deadline - loop.time()) > 0:
                try:
                    message = await asyncio.wait_for(layer.receive(channel), remaining)
                except TimeoutError:
                    break
                frames.append(json.loads(message["text"]))
            return frames

        results = await asyncio.gather(*(collect(c) for c in channels.values()))
        received = dict(zip(channels, results, strict=True))
        for topic, channel in channels.items():
            await layer.group_discard(group_name(topic), channel)
        return received

    return asyncio.run(main())
