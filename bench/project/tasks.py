"""Plain Celery tasks of the baselines: S1's enqueue and the S4 floor's reply."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from celery import shared_task

_loop: asyncio.AbstractEventLoop | None = None


@shared_task(name="bench.raw_noop", serializer="json", ignore_result=True)
def raw_noop(window_info: dict[str, Any], kwargs: str) -> None:
    pass


@shared_task(name="bench.bare_echo", serializer="json", ignore_result=True)
def bare_echo(group: str, n: int) -> None:
    """The S4 floor: ``group_send`` the reply on the layer, from one event loop per worker
    process kept for its life (the layer's connections stay open; ``async_to_sync`` would
    build a loop, and so a connection, per call)."""
    from channels.layers import get_channel_layer

    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
    text = json.dumps({"signal": "bench.pong", "opts": {"n": n}})
    layer = get_channel_layer()
    assert layer is not None
    _loop.run_until_complete(layer.group_send(group, {"type": "bare.message", "text": text}))
