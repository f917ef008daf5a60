"""Limits per window, per client address and per queue, shared by every socket and process.

A window (one page view) may open several sockets (a reconnect overlapping
the old one, a replayed key), and a project runs several daphne processes:
a limit kept per socket limits nothing.  So each limit lives in Redis (the
window cache's server, when ``WEBSOCKET_CACHE_BACKEND`` is a plain
``RedisCache``), keyed by window, address or queue:

* **calls per second** per window (``WEBSOCKET_RATE_LIMIT``, bursts of twice
  that), a token bucket kept as one timestamp (GCRA);
* **sockets** per window (``WEBSOCKET_MAX_SOCKETS_PER_WINDOW``) and per client
  address (``WEBSOCKET_MAX_SOCKETS_PER_ADDRESS``);
* **refused frames** per socket: the first few are logged one by one, the
  rest summed up, and a socket refused more than ``WEBSOCKET_MAX_REFUSALS``
  times a minute is closed (``CloseCode.TOO_MANY_REFUSALS``);
* **calls in flight** per window — queued or running, until the worker's
  answer passes through the socket that sent the call
  (``WEBSOCKET_MAX_CALLS_IN_FLIGHT``), and per window and queue
  (``WEBSOCKET_QUEUE_LIMITS``), so that one window cannot hold a queue.

Sockets and calls are members of sorted sets scored by an expiry: a
heartbeat renews a socket (and counts it again if it had expired, e.g. after
a Redis restart), an answer removes a call, and what a crashed
process leaves behind expires by itself (``SOCKET_TTL``, the call timeout).
Checking and recording happen in one Lua script, on Redis's clock, in one
round trip.  With another cache (the in-memory demo) the same rules hold
per process.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, deque
from collections.abc import Sequence

from dfws_celery.conf import dfws_settings
from dfws_celery.errors import ErrorType, RateLimited, SignalError, TooManyCalls
from dfws_celery.wire import CloseCode
from dfws_web.limit_store import OK, RATE, Entry, Rate, store

SOCKET_TTL = 90.0  # three client heartbeats
CALL_GRACE = 5.0  # past the call timeout, a call with no answer stops counting


class WindowLimits:
    """The limits as one socket of a window meets them.

    Kept small (one per idle window, S7): slots, and what only calls need made
    at the first call.
    """

    __slots__ = ("address", "counted", "pending", "released", "socket_id", "window_key")

    def __init__(self, window_key: str, address: str) -> None:
        self.window_key = window_key
        self.address = address
        self.socket_id = uuid.uuid4().hex
        # counted at open in the window's socket set, in the address's
        self.counted: tuple[bool, bool] = (False, False)
        # (call id, handler) -> its entries, for calls waiting for their answer
        self.pending: dict[tuple[str, str], list[Entry]] | None = None
        # answered calls, released with this socket's next check (one round trip, not two)
        self.released: list[Entry] | None = None

    def socket_entries(self, window: bool, address: bool) -> list[Entry]:
        member = (self.socket_id,)
        entries = []
        if window:
            cap = dfws_settings.max_sockets_per_window
            entries.append(Entry(f"sockets:w:{self.window_key}", member, cap))
        if address:
            cap = dfws_settings.max_sockets_per_address
            entries.append(Entry(f"sockets:a:{self.address}", member, cap))
        return entries

    async def open(self) -> CloseCode | None:
        """Count this socket; ``CloseCode.TOO_MANY_SOCKETS`` if the window or address is full."""
        caps = dfws_settings.max_sockets_per_window, dfws_settings.max_sockets_per_address
        wanted = (caps[0] > 0, caps[1] > 0)
        entries = self.socket_entries(*wanted)
        if not entries:  # every socket limit switched off: nothing to count
            return None
        if await store().admit(entries, SOCKET_TTL, None) != OK:
            return CloseCode.TOO_MANY_SOCKETS
        self.counted = wanted
        return None

    async def heartbeat(self) -> None:
        """Count this socket for ``SOCKET_TTL`` more seconds (again, if it had expired from
        the sets meanwhile), and drop the calls answered since the last check, in one write."""
        released, self.released = self.released or [], None
        sockets = self.socket_entries(*self.counted)
        if sockets or released:
            await store().renew(sockets, SOCKET_TTL, released)

    async def close(self) -> None:
        entries = self.socket_entries(*self.counted) + (self.released or [])
        entries += [e for es in (self.pending or {}).values() for e in es]
        self.counted, self.pending, self.released = (False, False), None, None
        if entries:
            await store().release(entries)

    async def admit_call(
        self, call_id: str | None, handlers: Sequence[tuple[str, str | None]]
    ) -> SignalError | None:
        """Count a call to ``handlers`` (task name, static queue); the refusal if over a limit."""
        rate_per_second = dfws_settings.rate_limit
        rate = Rate(f"rate:{self.window_key}", rate_per_second) if rate_per_second > 0 else None
        call = call_id if call_id is not None else f"-{uuid.uuid4().hex}"
        members = {name: f"{call}|{name}" for name, _ in handlers}
        entries = [Entry(f"calls:w:{self.window_key}", tuple(members.values()), self._window_cap())]
        queue_caps = dfws_settings.queue_limits
        for queue in sorted({q for _, q in handlers if q is not None and q in queue_caps}):
            on_queue = tuple(members[name] for name, q in handlers if q == queue)
            entries.append(Entry(f"calls:q:{queue}:{self.window_key}", on_queue, queue_caps[queue]))
        entries = [entry for entry in entries if entry.cap > 0]
        if not entries and rate is None:  # every call limit switched off: nothing to count
            return None
        ttl = dfws_settings.call_timeout + CALL_GRACE
        released, self.released = self.released or [], None
        verdict = await store().admit(entries, ttl, rate, released)
        if verdict == RATE:
            return RateLimited(
                f"more than {rate_per_second:g} calls per second (WEBSOCKET_RATE_LIMIT)",
                call_id=call_id,
            )
        if verdict != OK:
            full = entries[verdict - 1]
            what = (
                "of this window (WEBSOCKET_MAX_CALLS_IN_FLIGHT)"
                if full.key.startswith("calls:w:")
                else f"of this window on queue {full.key.split(':')[2]!r} (WEBSOCKET_QUEUE_LIMITS)"
            )
            return TooManyCalls(
                f"{full.cap} calls {what} are still queued or running", call_id=call_id
            )
        if call_id is not None:  # calls without an id get no answer: they expire instead
            if self.pending is None:
                self.pending = {}
            for name, member in members.items():
                self.pending[(call_id, name)] = [
                    Entry(e.key, (member,), e.cap) for e in entries if member in e.members
                ]
        return None

    def answered(self, call_id: str, handler: str) -> None:
        """A handler's result or error passed through this socket: the call stops counting.

        Released with the socket's next check (or heartbeat, or close): counted
        where it matters, without a round trip of its own.
        """
        entries = self.pending.pop((call_id, handler), None) if self.pending else None
        if entries:
            if self.released is None:
                self.released = []
            self.released.extend(entries)

    def _window_cap(self) -> int:
        return dfws_settings.max_calls_in_flight


# refusals that a well-behaved page does not cause (unknown_signal is a page calling its own
# JavaScript-only signals, which reach the server too)
ABUSE = frozenset(
    {
        ErrorType.BAD_FRAME,
        ErrorType.TOO_LARGE,
        ErrorType.FORBIDDEN,
        ErrorType.RATE_LIMITED,
        ErrorType.TOO_MANY_CALLS,
    }
)
LOGGED_ONE_BY_ONE = 5
SUMMED_EVERY = 100
ABUSE_PERIOD = 60.0


class Refusals:
    """The refused frames of one socket: what to log, and when to give up on it.

    One per socket, most of which never refuse a frame: the counters are made at the first.
    """

    __slots__ = ("by_type", "recent", "total")

    def __init__(self) -> None:
        self.total = 0
        self.by_type: Counter[str] | None = None
        self.recent: deque[float] | None = None

    def count(self, error_type: str) -> tuple[bool, str | None, bool]:
        """``(log this one, a summary to log, close the socket)``."""
        self.total += 1
        if self.by_type is None or self.recent is None:
            self.by_type, self.recent = Counter(), deque()
        self.by_type[error_type] += 1
        summary = None
        if self.total > LOGGED_ONE_BY_ONE and self.total % SUMMED_EVERY == 0:
            kinds = ", ".join(f"{kind} x{n}" for kind, n in self.by_type.most_common())
            summary = f"{self.total} frames refused so far ({kinds})"
        close = False
        if error_type in ABUSE:
            now = time.monotonic()
            self.recent.append(now)
            while self.recent and self.recent[0] < now - ABUSE_PERIOD:
                self.recent.popleft()
            cap = dfws_settings.max_refusals
            close = cap > 0 and len(self.recent) > cap
        return self.total <= LOGGED_ONE_BY_ONE, summary, close
