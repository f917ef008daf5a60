"""Forwarding a browser call to its handlers' queues (runs in a thread, never on the loop).

The built-in permissions are decided here, before anything is queued; a
handler refused here is answered exactly as the worker would answer it (it
is listed in the ack, then gets its ``permission_denied`` error).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import close_old_connections

from dfws_celery import backends
from dfws_celery.conf import dfws_settings
from dfws_celery.errors import Forbidden, FrameTooLarge, PermissionDenied, UnknownSignal
from dfws_celery.executor import denied
from dfws_celery.permissions import decided_at_edge
from dfws_celery.queue_watch import watch
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


@dataclass
class Forwarded:
    """What became of a call: every handler it reached, and those refused at the edge."""

    handlers: list[str] = field(default_factory=list)
    refused: list[tuple[str, PermissionDenied]] = field(default_factory=list)


def forward(
    signal: str,
    opts: dict[str, Any],
    call_id: str | None,
    window_info: WindowInfoValues,
    connections: list[SignalConnection] | None = None,
) -> Forwarded:
    """Enqueue one task per browser-callable handler the window may call.

    ``connections``: the signal's :func:`callable_handlers`, when the caller
    already looked them up.
    """
    if connections is None:
        connections = callable_handlers(signal, call_id)
    encoded = json.dumps(opts, separators=(",", ":"))
    limit = dfws_settings.max_frame_size
    if len(encoded) > limit:  # escapes can make the task message larger than the frame
        raise FrameTooLarge(
            f"the arguments encode to {len(encoded)} bytes, more than {limit} bytes",
            call_id=call_id,
        )
    backend = backends.current()
    outcome = Forwarded()
    info: WindowInfo | None = None
    planned: list[tuple[SignalConnection, str]] = []
    try:
        for connection in connections:
            outcome.handlers.append(connection.task_name)
            permission = connection.is_allowed_to
            if decided_at_edge(permission):
                info = info or WindowInfo.from_dict(window_info)
                if not permission(connection, info, opts):
                    outcome.refused.append((connection.task_name, denied(connection)))
                    continue
            queue = static_queue(connection)
            if queue is None:  # a DynamicQueue chooses from the window and the arguments
                info = info or WindowInfo.from_dict(window_info)
                queue = queue_for(connection, info, opts)
            planned.append((connection, queue))
        watch.require((queue for _, queue in planned), call_id)  # nothing sent if one has none
        for connection, queue in planned:
            backend.enqueue(
                connection, queue, window_info, encoded, from_client=True, call_id=call_id
            )
    finally:
        if info is not None and info._user is not None:  # has_perm read the database
            close_old_connections()
    return outcome
