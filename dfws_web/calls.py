"""Forwarding a browser call to its handlers' queues (runs in a thread, never on the loop)."""

from __future__ import annotations

import json
from typing import Any

from dfws_celery import backends
from dfws_celery.errors import Forbidden, UnknownSignal
from dfws_celery.registry import REGISTRY, SignalConnection
from dfws_celery.routing import queue_for, static_queue
from dfws_celery.window_info import WindowInfo
from dfws_celery.wire import WindowInfoValues


def callable_handlers(signal: str, call_id: str | None) -> list[SignalConnection]:
    """The handlers a browser may reach for ``signal``, or a ``SignalError``."""
    connections = REGISTRY.get(signal)
    if not connections:
        raise UnknownSignal(f"no server handler for dfws signal {signal!r}", call_id=call_id)
    allowed = [c for c in connections if c.browser_callable]
    if not allowed:
        raise Forbidden(f"dfws signal {signal!r} cannot be called from a browser", call_id=call_id)
    return allowed


def forward(
    signal: str, opts: dict[str, Any], call_id: str | None, window_info: WindowInfoValues
) -> list[str]:
    """Enqueue one task per browser-callable handler; the task names that accepted it."""
    connections = callable_handlers(signal, call_id)
    encoded = json.dumps(opts, separators=(",", ":"))
    backend = backends.current()
    names = []
    for connection in connections:
        queue = static_queue(connection)
        if queue is None:  # a DynamicQueue chooses from the window and the arguments
            queue = queue_for(connection, WindowInfo.from_dict(window_info), opts)
        backend.enqueue(connection, queue, window_info, encoded, from_client=True, call_id=call_id)
        names.append(connection.task_name)
    return names
