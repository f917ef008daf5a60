"""Outages of Redis or the broker: which exceptions mean one, and one log line per interval.

When the cache, the channel layer or the broker is unreachable, every page
view and every ``trigger()`` fails the same way.  Logging each failure
would bury the one line that matters under thousands, so an
:class:`OutageLog` logs the first failure of a *subject* (``"cache"``,
``"publish"``) at ERROR, then only a count every ``interval`` seconds while
the failures go on, and one INFO line when the subject works again.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import kombu.exceptions


def _redis_errors() -> tuple[type[BaseException], ...]:
    # redis-py comes with the 'redis' extra: without it no Redis client can fail
    try:
        from redis.exceptions import RedisError
    except ModuleNotFoundError:
        return ()
    return (RedisError,)


# what an unreachable Redis (cache, channel layer) or broker raises: redis-py's errors,
# the sockets' own (refused, reset, timed out, unknown host) and kombu's wrapper of a
# broker's errors; not every OSError: a file a handler cannot open is no outage
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    *_redis_errors(),
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    kombu.exceptions.OperationalError,
)


class OutageLog:
    """Rate-limited error logging per subject (thread-safe, per process)."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0) -> None:
        self.logger = logger
        self.interval = interval
        self._lock = threading.Lock()
        # subject -> [time of the last line, failures since that line]
        self._failing: dict[str, list[float]] = {}

    def failed(self, subject: str, message: str, exc: BaseException) -> None:
        """Log ``message`` (and ``exc``) now if ``subject`` was working, else now and then."""
        now = time.monotonic()
        with self._lock:
            state = self._failing.get(subject)
            if state is None:
                self._failing[subject] = [now, 0]
                first, count = True, 0
            elif now - state[0] >= self.interval:
                count = int(state[1]) + 1
                state[0], state[1] = now, 0
                first = False
            else:
                state[1] += 1
                return
        cause = f"{type(exc).__name__}: {exc}"
        if first:
            self.logger.error("%s (%s); further failures are counted, not logged", message, cause)
        else:
            self.logger.error(
                "%s: still failing, %d failure(s) in the last %d s (%s)",
                message,
                count,
                round(self.interval),
                cause,
            )

    def ok(self, subject: str) -> None:
        """``subject`` works again: say so once (a dictionary lookup when nothing failed)."""
        if subject not in self._failing:
            return
        with self._lock:
            state = self._failing.pop(subject, None)
        if state is not None:
            self.logger.info("dfws: %s works again (%d unlogged failure(s))", subject, state[1])

    def reset(self) -> None:
        with self._lock:
            self._failing.clear()
