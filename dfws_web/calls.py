"""Forwarding a browser call to its handlers' queues (runs in a thread, never on the loop).

The built-in permissions are decided here, before anything is queued; a
handler refused here is answered exactly as the worker would answer it (it
is listed in the ack, then gets its ``permission_denied`` error).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
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

# the client's own signals (html.text, ...): pages call them in the page, the server has none
CLIENT_NAMESPACE = "html."


class UnknownSignalLog:
    """A WARNING when a browser calls a signal no ``@signal`` declares: a misspelled name.

    Per process, each name is logged once per ``interval`` and at most ``names``
    names per interval; what was left out is counted and said in one line when
    the next interval begins, so a flood of calls (or of random names) writes a
    few lines a minute. The client's ``html.*`` signals are never logged. On
    the logger ``dfws.websocket.unknown``, which a project whose pages call
    JavaScript-only signals of their own with ``DFSignals.call`` may quieten.
    """

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        names: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.names = names
        self.clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._logged: set[str] = set()
        self._left_out = 0

    def called(self, signal: str, window_info: WindowInfoValues | None) -> None:
        if signal.startswith(CLIENT_NAMESPACE):
            return
        now = self.clock()
        with self._lock:
            left_out = 0
            if now - self._started >= self.interval:
                left_out, self._left_out = self._left_out, 0
                self._started, self._logged = now, set()
            if signal in self._logged or len(self._logged) >= self.names:
                self._left_out += 1
                log_it = False
            else:
                self._logged.add(signal)
                log_it = True
        if left_out:
            self.logger.warning(
                "%d more call(s) of unknown dfws signals in the last %d s were not logged",
                left_out,
                round(self.interval),
            )
        if log_it:
            info = window_info or {}
            self.logger.warning(
                "window %s (user %s) called dfws signal %r, which no @signal declares: a "
                "misspelled name? (python manage.py dfws_signals lists them; a JavaScript-only "
                "signal called with DFSignals.call reaches the server too) Not logged again "
                "for %d s.",
                info.get("window_key"),
                info.get("username") or "anonymous",
                signal,
                round(self.interval),
            )


unknown_signals = UnknownSignalLog(logging.getLogger("dfws.websocket.unknown"))


def callable_handlers(
    signal: str, call_id: str | None, window_info: WindowInfoValues | None = None
) -> list[SignalConnection]:
    """The handlers a browser may reach for ``signal``, or a ``SignalError``.

    ``window_info``: the calling window's, when a browser sent the call: an
    unknown signal is then logged (rate-limited, see :class:`UnknownSignalLog`).
    """
    connections = REGISTRY.get(signal)
    if not connections:
        if window_info is not None:
            unknown_signals.called(signal, window_info)
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
