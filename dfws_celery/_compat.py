"""Every use of another library's private API, fenced in one place.

Each function here leans on something its library does not promise to
keep.  ``tests/unit/test_compat.py`` holds a contract test per function
that fails loudly, naming the function, when an upgrade changes what it
relies on; ``setup.cfg`` pins the version ranges those tests cover.
Nothing else in dfws may touch a ``_``-prefixed name of Django, Celery,
Channels or channels_redis.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Celery


# ---- Celery ----


def active_celery_apps() -> list[Celery]:
    """Every Celery app created in this process, without Celery's fallback app.

    ``celery._state._get_active_apps`` (Celery 5.x): there is no public list.
    """
    from celery import _state

    fallback = getattr(_state, "default_app", None)
    active: list[Celery] = list(_state._get_active_apps())  # type: ignore[attr-defined]
    return [app for app in active if app is not fallback and app.main != "default"]


def reset_celery_router(app: Celery) -> None:
    """Make ``app`` read ``task_routes`` again after we appended to it.

    Celery caches both the prepared route table (``flush_routes`` rebuilds
    it) and the router built from it (a ``cached_property`` in
    ``app.amqp.__dict__``).
    """
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)


# ---- channels_redis ----


def pubsub_group_channel(prefix: str, group: str) -> str:
    """The Pub/Sub channel ``RedisPubSubChannelLayer`` subscribes to for ``group``.

    Mirrors ``RedisPubSubChannelLayer._get_group_channel_name``.
    """
    return f"{prefix}__group__{group}"


def shard_of(name: str, shards: int) -> int:
    """The index of the host that serves ``name`` among ``shards`` hosts.

    ``channels_redis.utils._consistent_hash``, the layer's own choice.
    """
    from channels_redis.utils import _consistent_hash

    return int(_consistent_hash(name, shards))


def plain_msgpack(layer: Any) -> bool:
    """Whether ``layer`` (a ``RedisPubSubChannelLayer``) serializes with bare msgpack.

    channels_redis' ``MsgPackSerializer`` without encryption nor random prefix
    (``layer._serializer``; the Pub/Sub layer takes no prefix): then a message
    packed by Redis' own cmsgpack reads back the same.
    """
    serializer = getattr(layer, "_serializer", None)
    return (
        type(serializer).__name__ == "MsgPackSerializer"
        and getattr(serializer, "crypter", True) is None
        and getattr(serializer, "random_prefix_length", 1) == 0
    )


class PubSubProcess:
    """What one event loop of ``RedisPubSubChannelLayer`` holds, as the fan-out needs it.

    channels_redis keeps, per event loop, a ``RedisPubSubLoopLayer`` whose
    ``channels`` maps a local channel name to its ``asyncio.Queue`` of raw
    messages and ``groups`` maps a group's Pub/Sub channel to its local
    channel names; each shard's ``_receive_message(message)`` spreads what
    its subscription received into those queues (channels_redis 4.x).
    """

    def __init__(self, layer: Any) -> None:
        self.loop_layer = layer._get_layer()

    @property
    def channels(self) -> dict[str, Any]:
        return self.loop_layer.channels  # type: ignore[no-any-return]

    @property
    def groups(self) -> dict[str, set[str]]:
        return self.loop_layer.groups  # type: ignore[no-any-return]

    def deserialize(self, data: bytes) -> Any:
        return self.loop_layer.channel_layer.deserialize(data)

    def hook_receivers(
        self, hook: Callable[[Any, Callable[[Any], None]], Callable[[Any], None]]
    ) -> None:
        """Replace each shard's ``_receive_message`` by ``hook(shard, original)``, once."""
        for shard in self.loop_layer._shards:
            if not getattr(shard, "_dfws_hooked", False):
                shard._receive_message = hook(shard, shard._receive_message)
                shard._dfws_hooked = True


# ---- Django's RedisCache ----


def redis_cache_parts(backend: Any) -> tuple[str, dict[str, Any], Any]:
    """``(server URL, client options, serializer)`` of a Django ``RedisCache``.

    A read goes to a replica when there are several servers, as the backend
    itself does (``_get_connection_pool_index``): the first server is the
    primary.  Reads ``_servers``, ``_options`` and ``_cache._serializer``.
    """
    import random

    servers: list[str] = backend._servers
    server = servers[0] if len(servers) == 1 else random.choice(servers[1:])
    options = {k: v for k, v in backend._options.items() if k != "serializer"}
    return server, options, backend._cache._serializer


def redis_cache_primary(backend: Any) -> str:
    """The URL of the server a Django ``RedisCache`` writes to (the first of ``_servers``)."""
    servers: list[str] = backend._servers
    return servers[0]


def redis_cache_options(backend: Any) -> dict[str, Any]:
    """The ``OPTIONS`` a Django cache backend was built with (``_options``)."""
    return dict(getattr(backend, "_options", {}))


# ---- Channels ----


def handler_of(consumer: Any, message: dict[str, Any]) -> Callable[[Any], Awaitable[None]]:
    """The consumer method for ``message["type"]``, as Channels' ``dispatch`` finds it.

    ``AsyncConsumer.dispatch`` also closes stale database connections before
    every message (a hop to the process's single sync thread since Channels
    4.2); a consumer that never touches the database dispatches with this
    instead.  ``channels.consumer.get_handler_name`` is public but undocumented.
    """
    from channels.consumer import get_handler_name

    handler = getattr(consumer, get_handler_name(message), None)
    if handler is None:
        raise ValueError(f"No handler for message type {message['type']!r}")
    return handler  # type: ignore[no-any-return]


async def serve_async_consumer(
    consumer: Any,
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[Any]],
    send: Callable[[Any], Awaitable[None]],
) -> None:
    """What ``AsyncConsumer.__call__`` does for an async consumer, as one coroutine.

    The socket's channel is opened (``new_channel``), then every message from
    the client and from the channel is dispatched until ``StopConsumer``.  A
    consumer that had to catch a failure to open the channel wrapped Channels'
    ``__call__`` in a coroutine of its own, kept alive as long as the socket
    (one per idle window); here the consumer's ``channel_failed(exc, receive,
    send)`` answers it instead, ``True`` when it did (else the error propagates).
    Relies on the steps of ``AsyncConsumer.__call__`` and on
    ``channels.utils.await_many_dispatch``.
    """
    import contextlib
    import functools

    from channels.exceptions import StopConsumer
    from channels.layers import get_channel_layer
    from channels.utils import await_many_dispatch

    consumer.scope = scope
    consumer.channel_layer = layer = get_channel_layer(consumer.channel_layer_alias)
    consumer.base_send = send
    sources = [receive]
    if layer is not None:
        try:
            consumer.channel_name = await layer.new_channel()
        except Exception as exc:
            if await consumer.channel_failed(exc, receive, send):
                return
            raise
        consumer.channel_receive = functools.partial(layer.receive, consumer.channel_name)
        sources.append(consumer.channel_receive)
    with contextlib.suppress(StopConsumer):
        await await_many_dispatch(sources, consumer.dispatch)
