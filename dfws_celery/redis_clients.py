"""Redis clients shared per process and per event loop, for everything dfws keeps in Redis.

The history, presence, the limits and the sync publisher talk to the layer's
or the cache's Redis servers, each described by a channels_redis host dict:

* :func:`sync_pool` / :func:`sync_client`: redis-py for sync callers (a task,
  a view), one pool per host and process;
* :func:`loop_client`: one ``redis.asyncio`` client per host and event loop,
  closed with the loop;
* :class:`BareConnections` (:func:`loop_bare`): a script or a pipeline
  written on a connection taken from an idle list, without redis-py's
  per-command client machinery, for the hot paths of the edge.
"""

from __future__ import annotations

import hashlib
import os
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dfws_celery.extras import require

if TYPE_CHECKING:
    import redis


def sync_pool(host: Mapping[str, Any]) -> redis.ConnectionPool:
    """The sync twin of ``channels_redis.utils.create_pool`` for one ``hosts`` entry."""
    require("redis", "A Redis channel layer")
    import redis

    options = dict(host)
    if "address" in options:
        return redis.ConnectionPool.from_url(options.pop("address"), **options)
    master_name = options.pop("master_name", None)
    if master_name is not None:
        from redis.sentinel import Sentinel, SentinelConnectionPool

        sentinel = Sentinel(
            options.pop("sentinels"), sentinel_kwargs=options.pop("sentinel_kwargs", None)
        )
        return SentinelConnectionPool(master_name, sentinel, **options)
    return redis.ConnectionPool(**options)


def async_client(host: Mapping[str, Any]) -> Any:
    """A ``redis.asyncio`` client for one ``hosts`` entry, for the running loop."""
    require("redis", "A Redis channel layer")
    from redis import asyncio as aioredis

    options = dict(host)
    if "address" in options:
        return aioredis.Redis.from_url(options.pop("address"), **options)
    master_name = options.pop("master_name", None)
    if master_name is not None:
        from redis.asyncio.sentinel import Sentinel

        sentinel = Sentinel(
            options.pop("sentinels"), sentinel_kwargs=options.pop("sentinel_kwargs", None)
        )
        return sentinel.master_for(master_name, **options)
    return aioredis.Redis(**options)


_sync_clients: dict[str, tuple[int, Any]] = {}


def sync_client(host: Mapping[str, Any]) -> Any:
    """This process's redis-py client of ``host`` (a new one in a forked child)."""
    key = repr(sorted(host.items()))
    cached = _sync_clients.get(key)
    if cached is None or cached[0] != os.getpid():
        pool = sync_pool(host)  # names the 'redis' extra when redis-py is missing
        import redis

        cached = _sync_clients[key] = (os.getpid(), redis.Redis(connection_pool=pool))
    return cached[1]


class BareConnections:
    """Commands to one Redis over bare connections of the running loop, in one round trip.

    A redis-py client call costs about twice the CPU of the command itself
    (as for :class:`SyncPubSub`): here commands are packed into one write on
    a connection taken from an idle list, at most ``CONNECTIONS`` at once — a
    burst waits its turn instead of failing (redis-py 8's pools raise past
    their size).  ``client`` gives the connection class and options.
    """

    CONNECTIONS = 64

    def __init__(self, client: Any) -> None:
        import asyncio

        import redis  # the client is one of redis-py's

        # a reused socket that Redis or the network closed; an error reply
        self.stale = (redis.ConnectionError, redis.TimeoutError)
        self.error_reply = redis.ResponseError
        self.no_script = redis.exceptions.NoScriptError
        self.client = client
        self.idle: list[Any] = []
        self.slots = asyncio.Semaphore(self.CONNECTIONS)
        self.shas: dict[str, str] = {}

    async def exchange(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        """Send ``commands`` in one write and read their replies (errors returned, not raised).

        An idle connection that Redis or the network closed meanwhile (a Redis
        restart) is replaced once by a new one.
        """
        async with self.slots:
            pool = self.client.connection_pool
            reused = bool(self.idle)
            connection = self.idle.pop() if reused else None
            while True:
                if connection is None:
                    connection = pool.connection_class(**pool.connection_kwargs)
                try:
                    replies = await self._round_trip(connection, commands)
                except BaseException as exc:  # an interrupted exchange: the socket is unusable
                    await connection.disconnect()
                    stale = isinstance(exc, self.stale)
                    if reused and stale:
                        connection, reused = None, False  # once, on a new connection
                        continue
                    raise
                self.idle.append(connection)
                return replies

    async def _round_trip(self, connection: Any, commands: Sequence[Sequence[Any]]) -> list[Any]:
        await connection.send_packed_command(connection.pack_commands(commands))
        replies = []
        for _ in commands:
            try:
                replies.append(await connection.read_response())
            except self.error_reply as exc:  # an error reply: the socket is fine
                replies.append(exc)
        return replies

    async def run_script(self, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """``EVALSHA`` of ``source``, loaded first if Redis forgot it (restarted, flushed)."""
        sha = self.shas.get(source)
        if sha is None:
            sha = self.shas[source] = hashlib.sha1(source.encode()).hexdigest()
        (reply,) = await self.exchange([("EVALSHA", sha, len(keys), *keys, *args)])
        if isinstance(reply, self.no_script):
            sha = self.shas[source] = hashlib.sha1(source.encode()).hexdigest()  # LOAD's answer
            _, reply = await self.exchange(
                [("SCRIPT", "LOAD", source), ("EVALSHA", sha, len(keys), *keys, *args)]
            )
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def close(self) -> None:
        """Close the idle connections (they live as long as their event loop)."""
        while self.idle:
            await self.idle.pop().disconnect()


_loop_bare: weakref.WeakKeyDictionary[Any, dict[str, BareConnections]]
_loop_bare = weakref.WeakKeyDictionary()


async def loop_bare(host: Mapping[str, Any]) -> BareConnections:
    """The running loop's :class:`BareConnections` to ``host``."""
    import asyncio

    bare = _loop_bare.setdefault(asyncio.get_running_loop(), {})
    key = repr(sorted(host.items()))
    found = bare.get(key)
    if found is None:
        found = bare[key] = BareConnections(await loop_client(host))
    return found


_loop_clients: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


async def loop_client(host: Mapping[str, Any]) -> Any:
    """The running loop's :func:`async_client` of ``host``, closed when the loop shuts down."""
    import asyncio

    clients = _loop_clients.setdefault(asyncio.get_running_loop(), {})
    key = repr(sorted(host.items()))
    client = clients.get(key)
    if client is None:
        client = clients[key] = async_client(host)
        # asyncio closes a loop's async generators before closing it (asyncio.run, Django's
        # async tests): the client's connections go with it
        closer = _closer(client)
        await closer.__anext__()
        clients[key + "/closer"] = closer
    return client


async def _closer(client: Any) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await client.aclose()
