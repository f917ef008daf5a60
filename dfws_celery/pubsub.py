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

import os
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from channels import DEFAULT_CHANNEL_LAYER
from django.conf import settings

from dfws_celery._compat import plain_msgpack, pubsub_group_channel, shard_of
from dfws_celery.redis_clients import sync_pool

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
