"""Changes proposed to dfws, measured here without editing dfws (others own those files).

``daphne bench.project.experiments:application`` serves dfws with the changes named in
``BENCH_EXPERIMENTS`` (comma-separated) applied to the consumer class:

* ``dispatch``: ``SignalConsumer.dispatch`` without Channels' per-message
  ``aclose_old_connections()`` (a hop to the single sync thread before every
  handler; this consumer never touches the database).
* ``cache``: one cache backend per process for the window lookup in
  ``connect()`` (``caches[alias]`` is per asyncio task, so each socket built a
  new ``RedisCache``, a new redis-py pool and a new TCP connection), read in
  the thread pool instead of the single sync thread.

See RESULTS.md for the diffs against ``dfws_web/consumer.py`` and the gains.
"""

from __future__ import annotations

import os
from typing import Any

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name

from dfws_web import consumer
from dfws_web.asgi import application

__all__ = ["application"]


async def dispatch_without_db_cleanup(self: Any, message: dict[str, Any]) -> None:
    handler = getattr(self, get_handler_name(message), None)
    if handler is None:
        raise ValueError(f"No handler for message type {message['type']!r}")
    await handler(message)


class ProcessCache:
    """What ``caches[alias]`` gives the consumer: one backend per process."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    async def aget(self, key: str, default: Any = None) -> Any:
        return await sync_to_async(self.backend.get, thread_sensitive=False)(key, default)


class ProcessCaches:
    def __init__(self) -> None:
        self.by_alias: dict[str, ProcessCache] = {}

    def __getitem__(self, alias: str) -> ProcessCache:
        if alias not in self.by_alias:
            from django.core.cache import caches

            self.by_alias[alias] = ProcessCache(caches.create_connection(alias))
        return self.by_alias[alias]


# Both changes landed in dfws (2d07aab, 7f22459): applied only to a consumer without them.
for name in filter(None, os.environ.get("BENCH_EXPERIMENTS", "").split(",")):
    if name == "dispatch":
        if "dispatch" not in vars(consumer.SignalConsumer):
            consumer.SignalConsumer.dispatch = dispatch_without_db_cleanup  # type: ignore[method-assign]
    elif name == "cache":
        if not hasattr(consumer, "aload_window"):
            consumer.caches = ProcessCaches()  # type: ignore[assignment]
    else:
        raise ValueError(f"unknown BENCH_EXPERIMENTS entry {name!r}: expected dispatch, cache")
