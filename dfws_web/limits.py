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
heartbeat renews a socket, an answer removes a call, and what a crashed
process leaves behind expires by itself (``SOCKET_TTL``, the call timeout).
Checking and recording happen in one Lua script, on Redis's clock, in one
round trip.  With another cache (the in-memory demo) the same rules hold
per process.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import threading
import time
import uuid
import weakref
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.exceptions import NoScriptError

from dfws_celery.conf import dfws_settings
from dfws_celery.errors import ErrorType, RateLimited, SignalError, TooManyCalls
from dfws_celery.wire import CloseCode
from dfws_web.windows import loop_reader

SOCKET_TTL = 90.0  # three client heartbeats
CALL_GRACE = 5.0  # past the call timeout, a call with no answer stops counting
OK = -1
RATE = 0


@dataclass(frozen=True)
class Entry:
    """Members to add to the set ``key``, refused if it would then hold more than ``cap``."""

    key: str
    members: tuple[str, ...]
    cap: int  # 0: no cap


@dataclass(frozen=True)
class Rate:
    key: str
    per_second: float

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second

    @property
    def tolerance(self) -> float:
        """How far ahead of now the bucket may run: bursts of twice the rate."""
        return (max(1.0, 2 * self.per_second) - 1) * self.interval


class Store(Protocol):
    async def admit(
        self,
        entries: Sequence[Entry],
        ttl: float,
        rate: Rate | None,
        releases: Sequence[Entry] = (),
    ) -> int:
        """Drop ``releases``, then record the entries if every limit allows.

        :data:`OK`, :data:`RATE`, or ``1 + index`` of the entry over its cap.
        """

    async def release(self, entries: Sequence[Entry]) -> None: ...

    async def renew(self, entries: Sequence[Entry], ttl: float) -> None: ...


ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local expiry = now + tonumber(ARGV[3])
local released = tonumber(ARGV[4])
local at = 5
-- members released since the last call (answers seen) stop counting first
for i = 2, released + 1 do
  local n = tonumber(ARGV[at])
  for j = 1, n do redis.call('ZREM', KEYS[i], ARGV[at + j]) end
  at = at + 1 + n
end
local tat = now
if interval > 0 then
  tat = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
  if tat - now > tolerance then return 0 end
end
local plan = {}
for i = released + 2, #KEYS do
  local cap = tonumber(ARGV[at])
  local n = tonumber(ARGV[at + 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  if cap > 0 and redis.call('ZCARD', KEYS[i]) + n > cap then return i - 1 - released end
  plan[i] = {at + 2, n}
  at = at + 2 + n
end
if interval > 0 then
  redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil(tat + interval - now) + 1000)
end
for i = released + 2, #KEYS do
  for j = 0, plan[i][2] - 1 do
    redis.call('ZADD', KEYS[i], expiry, ARGV[plan[i][1] + j])
  end
  redis.call('PEXPIRE', KEYS[i], expiry - now + 1000)
end
return -1
"""


class RedisStore:
    """The limits of every process, in the window cache's Redis (its primary)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.sha = hashlib.sha1(ADMIT.encode()).hexdigest()
        # the check runs once per browser call: on bare connections from an idle list (a
        # redis-py client costs twice the CPU of the command itself, as in pubsub.SyncPubSub)
        self.idle: list[Any] = []

    async def run_script(self, keys: list[str], args: list[Any]) -> Any:
        pool = self.client.connection_pool
        connection = (
            self.idle.pop() if self.idle else pool.connection_class(**pool.connection_kwargs)
        )
        try:
            try:
                result = await self._evalsha(connection, keys, args)
            except NoScriptError:  # a restarted or flushed Redis forgot the script
                await connection.send_command("SCRIPT", "LOAD", ADMIT)
                sha = await connection.read_response()
                self.sha = sha.decode() if isinstance(sha, bytes) else str(sha)
                result = await self._evalsha(connection, keys, args)
        except BaseException:  # an interrupted exchange leaves the socket unusable
            await connection.disconnect()
            raise
        self.idle.append(connection)
        return result

    async def close(self) -> None:
        """Close the idle connections (a store lives as long as its event loop)."""
        while self.idle:
            await self.idle.pop().disconnect()

    async def _evalsha(self, connection: Any, keys: list[str], args: list[Any]) -> Any:
        await connection.send_command("EVALSHA", self.sha, len(keys), *keys, *args)
        return await connection.read_response()

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def admit(
        self,
        entries: Sequence[Entry],
        ttl: float,
        rate: Rate | None,
        releases: Sequence[Entry] = (),
    ) -> int:
        keys = [self.key(rate.key) if rate else self.key("-")]
        args: list[Any] = [
            round(rate.interval * 1000, 3) if rate else 0,
            round(rate.tolerance * 1000, 3) if rate else 0,
            round(ttl * 1000),
            len(releases),
        ]
        for entry in releases:
            keys.append(self.key(entry.key))
            args += [len(entry.members), *entry.members]
        for entry in entries:
            keys.append(self.key(entry.key))
            args += [entry.cap, len(entry.members), *entry.members]
        return int(await self.run_script(keys, args))

    async def release(self, entries: Sequence[Entry]) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.zrem(self.key(entry.key), *entry.members)
            await pipe.execute()

    async def renew(self, entries: Sequence[Entry], ttl: float) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for entry in entries:
                key = self.key(entry.key)
                expiry = (time.time() + ttl) * 1000
                pipe.zadd(key, dict.fromkeys(entry.members, expiry), xx=True)
                pipe.pexpire(key, math.ceil(ttl * 1000) + 1000)
            await pipe.execute()


class LocalStore:
    """The same rules within one process (a cache that is not a plain Redis)."""

    def __init__(self) -> None:
        self.sets: dict[str, dict[str, float]] = {}
        self.buckets: dict[str, float] = {}
        self.lock = threading.Lock()

    async def admit(
        self,
        entries: Sequence[Entry],
        ttl: float,
        rate: Rate | None,
        releases: Sequence[Entry] = (),
    ) -> int:
        await self.release(releases)
        now = time.monotonic()
        with self.lock:
            tat = now
            if rate is not None:
                tat = max(self.buckets.get(rate.key, now), now)
                if tat - now > rate.tolerance:
                    return RATE
            for index, entry in enumerate(entries):
                members = self.sets.setdefault(entry.key, {})
                for member, expiry in list(members.items()):
                    if expiry <= now:
                        del members[member]
                if entry.cap > 0 and len(members) + len(entry.members) > entry.cap:
                    return index + 1
            if rate is not None:
                self.buckets[rate.key] = tat + rate.interval
            for entry in entries:
                self.sets[entry.key].update(dict.fromkeys(entry.members, now + ttl))
            return OK

    async def release(self, entries: Sequence[Entry]) -> None:
        with self.lock:
            for entry in entries:
                members = self.sets.get(entry.key, {})
                for member in entry.members:
                    members.pop(member, None)

    async def renew(self, entries: Sequence[Entry], ttl: float) -> None:
        now = time.monotonic()
        with self.lock:
            for entry in entries:
                members = self.sets.get(entry.key, {})
                for member in entry.members:
                    if member in members:
                        members[member] = now + ttl


_local = LocalStore()
_stores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, Store]]
_stores = weakref.WeakKeyDictionary()


def store() -> Store:
    """This loop's store: Redis when the window cache is a plain ``RedisCache``."""
    reader = loop_reader()
    if reader is None:
        return _local
    by_reader = _stores.setdefault(asyncio.get_running_loop(), {})
    found = by_reader.get(id(reader))
    if found is None:
        prefix = reader.backend.make_key(f"{dfws_settings.cache_prefix}:limits:")
        found = by_reader[id(reader)] = RedisStore(reader.primary, prefix)
    return found


class WindowLimits:
    """The limits as one socket of a window meets them."""

    def __init__(self, window_key: str, address: str) -> None:
        self.window_key = window_key
        self.address = address
        self.socket_id = uuid.uuid4().hex
        self.sockets: list[Entry] = []
        self.pending: dict[tuple[str, str], list[Entry]] = {}  # (call id, handler) -> entries
        # answered calls, released with this socket's next check (one round trip, not two)
        self.released: list[Entry] = []

    async def open(self) -> CloseCode | None:
        """Count this socket; ``CloseCode.TOO_MANY_SOCKETS`` if the window or address is full."""
        member = (self.socket_id,)
        entries = [
            Entry(f"sockets:w:{self.window_key}", member, dfws_settings.max_sockets_per_window),
            Entry(f"sockets:a:{self.address}", member, dfws_settings.max_sockets_per_address),
        ]
        entries = [entry for entry in entries if entry.cap > 0]
        if not entries:  # every socket limit switched off: nothing to count
            return None
        if await store().admit(entries, SOCKET_TTL, None) != OK:
            return CloseCode.TOO_MANY_SOCKETS
        self.sockets = entries
        return None

    async def heartbeat(self) -> None:
        if self.released:
            released, self.released = self.released, []
            await store().release(released)
        if self.sockets:
            await store().renew(self.sockets, SOCKET_TTL)

    async def close(self) -> None:
        entries = self.sockets + self.released + [e for es in self.pending.values() for e in es]
        self.sockets, self.pending, self.released = [], {}, []
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
        released, self.released = self.released, []
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
        entries = self.pending.pop((call_id, handler), None)
        if entries:
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
    """The refused frames of one socket: what to log, and when to give up on it."""

    def __init__(self) -> None:
        self.total = 0
        self.by_type: Counter[str] = Counter()
        self.recent: deque[float] = deque()

    def count(self, error_type: str) -> tuple[bool, str | None, bool]:
        """``(log this one, a summary to log, close the socket)``."""
        self.total += 1
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
