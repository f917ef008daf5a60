"""Where the limits count: Redis for every process, or this process alone.

A :class:`Store` keeps sorted sets of members scored by their expiry
(sockets, calls in flight) and one timestamp per token bucket (GCRA).  Its
one operation that decides, :meth:`Store.admit`, drops what was released,
checks every cap and the rate, and records — all or nothing.  In Redis that
is one Lua script on Redis's clock, in one round trip, run on bare
connections; :class:`LocalStore` keeps the same rules within one process
(a window cache that is not a plain ``RedisCache``, e.g. the in-memory demo).
The rules themselves — which sets, which caps — are in ``limits``.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dfws_celery.conf import dfws_settings
from dfws_celery.redis_clients import BareConnections
from dfws_web.window_cache import loop_reader

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

    async def renew(
        self, entries: Sequence[Entry], ttl: float, releases: Sequence[Entry] = ()
    ) -> None:
        """Drop ``releases``, then count ``entries`` for ``ttl`` more seconds.

        A member that expired meanwhile (a socket silent for its whole TTL, a
        Redis restart) is counted again: renewing re-adds, it does not only extend.
        """


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
    """The limits of every process, in the window cache's Redis (its primary).

    Commands go over bare connections (``redis_clients.BareConnections``): a
    redis-py client call costs about twice the CPU of the command itself.
    """

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.bare = BareConnections(client)

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def exchange(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        return await self.bare.exchange(commands)

    async def run_script(self, keys: list[str], args: list[Any]) -> Any:
        return await self.bare.run_script(ADMIT, keys, args)

    async def close(self) -> None:
        await self.bare.close()

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
        await self.exchange([("ZREM", self.key(e.key), *e.members) for e in entries])

    async def renew(
        self, entries: Sequence[Entry], ttl: float, releases: Sequence[Entry] = ()
    ) -> None:
        expiry = (time.time() + ttl) * 1000
        commands: list[tuple[Any, ...]] = [("ZREM", self.key(e.key), *e.members) for e in releases]
        for entry in entries:
            key = self.key(entry.key)
            pairs = [part for member in entry.members for part in (expiry, member)]
            commands.append(("ZADD", key, *pairs))  # not XX: an expired member comes back
            commands.append(("PEXPIRE", key, math.ceil(ttl * 1000) + 1000))
        if commands:
            await self.exchange(commands)


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

    async def renew(
        self, entries: Sequence[Entry], ttl: float, releases: Sequence[Entry] = ()
    ) -> None:
        await self.release(releases)
        now = time.monotonic()
        with self.lock:
            for entry in entries:
                members = self.sets.setdefault(entry.key, {})
                for member in entry.members:
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
