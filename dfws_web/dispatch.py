"""Forwarding a browser call to its handlers' queues (runs in a thread, never on the loop)."""

from __future__ import annotations

import json
from typing import Any

from dfws_celery.compiler import static_queue
from dfws_celery.registry import REGISTRY
from dfws_celery.trigger import queue_for
from dfws_celery.window_info import WindowInfo
from dfws_celery.workers import enqueue
from dfws_web.frames import FrameError


def callable_handlers(signal: str, call_id: str | None) -> list[Any]:
    """The handlers a browser may reach for ``signal``, or ``FrameError``."""
    connections = REGISTRY.get(signal)
    if not connections:
        raise FrameError("unknown_signal", f"no server handler for dfws signal {signal!r}", call_id)
    allowed = [c for c in connections if c.browser_callable]
    if not allowed:
        raise FrameError(
            "forbidden", f"dfws signal {signal!r} cannot be called from a browser", call_id
        )
    return allowed


def forward(
    signal: str, opts: dict[str, Any], call_id: str | None, window_info: dict[str, Any]
) -> list[str]:
    """Enqueue one task per browser-callable handler; the task names that accepted it."""
    connections = callable_handlers(signal, call_id)
    encoded = json.dumps(opts, separators=(",", ":"))
    names = []
    for connection in connections:
        queue = static_queue(connection)
        if queue is None:  # a DynamicQueue chooses from the window and the arguments
            queue = queue_for(connection, WindowInfo.from_dict(window_info), opts)
        enqueue(connection, queue, window_info, encoded, from_client=True, call_id=call_id)
        names.append(connection.task_name)
    return names
