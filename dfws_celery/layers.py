"""``CHANNEL_LAYERS`` entries with safe defaults for dfws, on Redis.

``redis_pubsub_channel_layer()`` (recommended) uses channels_redis'
``RedisPubSubChannelLayer``: a ``group_send`` is one ``PUBLISH`` that each
daphne process with a member receives once, pushed to it.  The bench
measured it against the list-based ``RedisChannelLayer`` of
``redis_channel_layer()``: a delivery costs daphne 40 % less CPU, a browser
call half the CPU (daphne + worker) and ~30 % less time.  What it gives up:
delivery is at most once with nothing stored — frames published while a
daphne process is reconnecting to Redis are lost (the list layer keeps them
for its ``expiry``) — and a named channel has no queue, so
``WEBSOCKET_WORKERS = "channels"`` needs the list layer (check
``dfws.E009``).  Pub/Sub channels
ignore the Redis database number: projects sharing a Redis need their own
``prefix``.

Both take one Redis URL, or a list of URLs to shard the layer over several
Redis servers (channels_redis' ``hosts`` list): each group lives on the
server its name hashes to, and dfws keeps each group's history and presence
on that same server.  Every process (daphne, workers, scripts) must list
the same URLs in the same order.

Pitfalls these entries guard against (the last two concern the list layer):

* redis-py 8 times out socket reads after 5 s and channels_redis does not
  override it, so an idle websocket dies with ``TimeoutError``
  (channels_redis #422): reads here block without a timeout (connecting
  still times out).
* redis-py 8 caps an async pool at 100 connections and raises instead of
  waiting: hundreds of sockets closing at once would fail their
  ``group_discard`` and stay in their groups until ``group_expiry``.
* channels_redis drops messages past a channel's ``capacity`` (default
  100) without a trace: a burst of signals to one window must fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dfws_celery.extras import require
from dfws_celery.pubsub import PUBSUB_BACKEND

BACKEND = "channels_redis.core.RedisChannelLayer"


def _host(
    url: str, connect_timeout: float, client_name: str | None, **options: Any
) -> dict[str, Any]:
    """One ``hosts`` entry: reads block without a timeout, connecting still times out."""
    host: dict[str, Any] = {
        "address": url,
        "socket_timeout": None,
        "socket_connect_timeout": connect_timeout,
        **options,
    }
    if client_name:
        host["client_name"] = client_name
    return host


def _hosts(
    url: str | Sequence[str], connect_timeout: float, client_name: str | None, **options: Any
) -> list[dict[str, Any]]:
    """The ``hosts`` list: one entry per URL, in the order given (the shards' order)."""
    urls = [url] if isinstance(url, str) else list(url)
    if not urls:
        raise ValueError("a channel layer needs at least one Redis URL")
    return [_host(one, connect_timeout, client_name, **options) for one in urls]


def redis_channel_layer(
    url: str | Sequence[str],
    *,
    prefix: str = "dfws",
    capacity: int = 1000,
    group_expiry: int = 86400,
    connect_timeout: float = 5.0,
    max_connections: int = 1000,
    client_name: str | None = None,
    **config: Any,
) -> dict[str, Any]:
    """The ``CHANNEL_LAYERS["default"]`` value for the Redis at ``url``.

    ``url``: one Redis URL, or a list of them (shards, the same order in every
    process).  ``client_name`` names the connections in Redis' ``CLIENT LIST``.
    """
    require("redis", "dfws_celery.layers.redis_channel_layer()")
    hosts = _hosts(url, connect_timeout, client_name, max_connections=max_connections)
    return {
        "BACKEND": BACKEND,
        "CONFIG": {
            "hosts": hosts,
            "prefix": prefix,
            "capacity": capacity,
            "group_expiry": group_expiry,
            **config,
        },
    }


def redis_pubsub_channel_layer(
    url: str | Sequence[str],
    *,
    prefix: str = "dfws",
    connect_timeout: float = 5.0,
    client_name: str | None = None,
    **config: Any,
) -> dict[str, Any]:
    """The ``CHANNEL_LAYERS["default"]`` value for Redis Pub/Sub at ``url``.

    ``prefix`` names every Pub/Sub channel: it is what keeps two projects on
    one Redis apart (the database number in ``url`` does not).  ``url``: one
    Redis URL, or a list of them (shards, the same order in every process).
    """
    require("redis", "dfws_celery.layers.redis_pubsub_channel_layer()")
    return {
        "BACKEND": PUBSUB_BACKEND,
        "CONFIG": {"hosts": _hosts(url, connect_timeout, client_name), "prefix": prefix, **config},
    }
