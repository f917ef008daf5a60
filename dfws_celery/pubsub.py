"""Sync publishing for channels_redis' ``RedisPubSubChannelLayer``, with no event loop.

With that layer a ``group_send`` is a single Redis ``PUBLISH`` of the
serialized message on the group's Pub/Sub channel; every process with a
member in the group is subscribed and spreads it to its own consumers.  A
sync caller (a Celery task, a view) therefore needs no event loop at all:
:class:`SyncPubSub` sends the same bytes with a plain redis-py client,
instead of handing a coroutine to the warm loop's thread and waiting for
it (two thread switches per publish, measured as half of the cost).

The layer's serializer is used as is (msgpack, optional encryption keys);
the Pub/Sub channel of a group and the shard of a name follow
channels_redis' own rules (``_compat``), which ``tests/test_pubsub.py`` checks
against a real layer subscriber.
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from channels import DEFAULT_CHANNEL_LAYER
from django.conf import settings

from dfws_celery._compat import plain_msgpack, pubsub_group_channel, shard_of
from dfws_celery.extras import require

if TYPE_CHECKING:
    import redis
    from redis.connection import AbstractConnection

PUBSUB_BACKEND = "channels_redis.pubsub.RedisPubSubChannelLayer"


def is_pubsub(backend_path: str) -> bool:
    return backend_path == PUBSUB_BACKEND


def _is_pubsub_layer(layer: Any) -> bool:
    try:
        from channels_redis.pubsub import RedisPubSubChannelLayer
    except ImportError:  # without the 'redis' extra no layer is one
        return False
    return isinstance(layer, RedisPubSubChannelLayer)


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


class _Idle:
    """The idle connections to one Redis server, in the process that opened them."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.connections: list[AbstractConnection] = []  # append/pop are atomic


class SyncPubSub:
    """``group_send`` of a ``RedisPubSubChannelLayer``, from sync code, in one round trip.

    Publishing borrows a bare connection from a list of idle ones (per Redis
    server, reopened in a forked child) instead of going through a redis-py
    client: its per-command machinery (pool checkout, retry and
    observability wrappers) costs twice the CPU of the ``PUBLISH`` itself.
    The connections are shared by all threads, so that views run in a new
    thread per request (Django under ASGI) do not each open one.
    """

    def __init__(self, layer: Any, config: Mapping[str, Any]) -> None:
        import redis  # the layer is channels_redis', which needs it
        from channels_redis.utils import decode_hosts

        self.stale = (redis.ConnectionError, redis.TimeoutError)
        self.layer = layer
        self.prefix: str = config.get("prefix", "asgi")
        self.hosts: list[dict[str, Any]] = decode_hosts(config.get("hosts"))
        self._pools: dict[int, redis.ConnectionPool] = {}
        self._idle: dict[int, _Idle] = {}
        self._lock = threading.Lock()

    def channel(self, group: str) -> str:
        """The Pub/Sub channel the layer subscribes to for ``group``."""
        return pubsub_group_channel(self.prefix, group)

    def shard(self, channel: str) -> int:
        return shard_of(channel, len(self.hosts))

    def _pool(self, shard: int) -> redis.ConnectionPool:
        """Only a factory of connections with the host's options."""
        pool = self._pools.get(shard)
        if pool is None:
            with self._lock:
                pool = self._pools.get(shard)
                if pool is None:
                    pool = self._pools[shard] = sync_pool(self.hosts[shard])
        return pool

    def _idle_of(self, shard: int) -> _Idle:
        idle = self._idle.get(shard)
        if idle is None or idle.pid != os.getpid():  # a forked child shares no socket
            idle = self._idle[shard] = _Idle()
        return idle

    def checkout(self, shard: int) -> AbstractConnection:
        try:
            return self._idle_of(shard).connections.pop()
        except IndexError:
            pool = self._pool(shard)
            return pool.connection_class(**pool.connection_kwargs)

    def checkin(self, shard: int, connection: AbstractConnection) -> None:
        self._idle_of(shard).connections.append(connection)

    def group_send(self, groups: Iterable[str], message: dict[str, Any]) -> None:
        data = self.layer.serialize(message)
        by_shard: dict[int, list[str]] = {}
        for group in groups:
            channel = self.channel(group)
            by_shard.setdefault(self.shard(channel), []).append(channel)
        for shard, channels in by_shard.items():
            self._publish(shard, [("PUBLISH", channel, data) for channel in channels])

    def plain(self) -> bool:
        """Whether Redis itself may pack this layer's messages (``append_and_publish``)."""
        return plain_msgpack(self.layer)

    def single_shard(self, groups: Iterable[str]) -> int | None:
        """The shard of every group's channel, if they share one."""
        shards = {self.shard(self.channel(group)) for group in groups}
        return shards.pop() if len(shards) == 1 else None

    def execute(self, shard: int, command: tuple[Any, ...]) -> None:
        """One command on ``shard``'s bare connection, its reply read and dropped."""
        self._publish(shard, [command])

    def _publish(self, shard: int, commands: list[tuple[Any, ...]]) -> None:
        connection = self.checkout(shard)
        packed = connection.pack_commands(commands)
        try:
            self._round_trip(connection, packed, len(commands))
        except self.stale:
            # a socket Redis or the network closed since the last publish: reconnect once (a
            # frame sent twice is harmless, the browser drops repeated signal ids)
            connection.disconnect()
            try:
                self._round_trip(connection, packed, len(commands))
            except BaseException:
                connection.disconnect()
                raise
        except BaseException:  # an error reply, an interrupted read: the socket is not reusable
            connection.disconnect()
            raise
        self.checkin(shard, connection)

    @staticmethod
    def _round_trip(connection: AbstractConnection, packed: Any, replies: int) -> None:
        connection.send_packed_command(packed)  # connects when needed
        for _ in range(replies):
            connection.read_response()

    def close(self) -> None:
        """Close the idle connections this process opened."""
        for idle in list(self._idle.values()):
            if idle.pid == os.getpid():
                while idle.connections:
                    idle.connections.pop().disconnect()

    def __del__(self) -> None:
        self.close()


_publishers: weakref.WeakKeyDictionary[Any, SyncPubSub] = weakref.WeakKeyDictionary()
_publishers_lock = threading.Lock()


def sync_publisher(layer: Any) -> SyncPubSub | None:
    """The :class:`SyncPubSub` of the default ``layer``, or ``None`` for other layers."""
    if not _is_pubsub_layer(layer):
        return None
    publisher = _publishers.get(layer)
    if publisher is None:
        with _publishers_lock:
            publisher = _publishers.get(layer)
            if publisher is None:
                config = settings.CHANNEL_LAYERS[DEFAULT_CHANNEL_LAYER].get("CONFIG", {})
                publisher = _publishers[layer] = SyncPubSub(layer, config)
    return publisher
