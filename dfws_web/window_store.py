"""Reading, at websocket connect, the window entry ``set_websocket_topics`` cached.

Three costs of Django's cache API matter here, once per socket:

* ``caches[alias]`` is per asyncio task, so each consumer would build its
  own backend — for Redis a client, a pool and a TCP connection kept open
  as long as the socket lives.
* Django's ``RedisCache`` builds a new redis-py client object for every
  operation, which is half the CPU of a ``get`` (redis-py 8 fills a
  dictionary of 170 response callbacks in each client's constructor).
* ``aget()`` hops to the process's single sync thread; any hop to a worker
  thread costs more CPU than the read itself.

So :func:`aload_window` reads a plain ``RedisCache`` on the event loop with
one ``redis.asyncio`` client per loop, decoding with the backend's own
serializer; other backends are read by :func:`load_window` in a worker
thread, with one backend per thread.
"""

from __future__ import annotations

import asyncio
import random
import threading
import weakref
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.signals import setting_changed
from django.dispatch import receiver

from dfws_celery.conf import dfws_settings
from dfws_web.window_keys import cache_key

_threads = threading.local()
_generation = 0  # bumped when tests override CACHES: every thread then builds new readers


@receiver(setting_changed)
def _forget_readers(*, setting: str, **kwargs: Any) -> None:
    global _generation
    if setting in ("CACHES", "WEBSOCKET_CACHE_BACKEND", "WEBSOCKET_CACHE_PREFIX"):
        _generation += 1


def load_window(window_key: str) -> Any:
    """The cache entry of ``window_key`` (or ``None``), read in a worker thread.

    For the backends :class:`AsyncWindowReader` cannot read: one backend per
    thread (not ``caches[alias]``, which is per consumer task), public API.
    """
    alias = dfws_settings.cache_backend
    if getattr(_threads, "generation", None) != _generation:
        _threads.backends, _threads.generation = {}, _generation
    backends: dict[str, BaseCache] = _threads.backends
    backend = backends.get(alias)
    if backend is None:
        backend = backends[alias] = caches.create_connection(alias)
    return backend.get(cache_key(dfws_settings.cache_prefix, window_key))


# options of Django's RedisCache that are sync-only classes: with them, read in a thread
_SYNC_ONLY_OPTIONS = ("pool_class", "parser_class")


class AsyncWindowReader:
    """One event loop's reader of a plain ``RedisCache``."""

    def __init__(self, backend: Any) -> None:
        from redis import asyncio as aioredis

        servers = backend._servers
        server = servers[0] if len(servers) == 1 else random.choice(servers[1:])
        options = {k: v for k, v in backend._options.items() if k != "serializer"}
        self.backend = backend
        self.client = aioredis.Redis.from_url(server, **options)
        self.serializer = backend._cache._serializer

    @staticmethod
    def usable(backend: BaseCache) -> bool:
        from django.core.cache.backends.redis import RedisCache

        options = getattr(backend, "_options", {})
        return type(backend) is RedisCache and not any(k in options for k in _SYNC_ONLY_OPTIONS)

    async def get(self, window_key: str) -> Any:
        key = self.backend.make_and_validate_key(cache_key(dfws_settings.cache_prefix, window_key))
        value = await self.client.get(key)
        return None if value is None else self.serializer.loads(value)


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, AsyncWindowReader | None]]
_loops = weakref.WeakKeyDictionary()


async def aload_window(window_key: str) -> Any:
    """:func:`load_window` for the event loop."""
    alias = dfws_settings.cache_backend
    readers = _loops.setdefault(asyncio.get_running_loop(), {})
    slot = (alias, _generation)
    if slot not in readers:
        backend = caches.create_connection(alias)
        readers[slot] = AsyncWindowReader(backend) if AsyncWindowReader.usable(backend) else None
    reader = readers[slot]
    if reader is None:
        return await sync_to_async(load_window, thread_sensitive=False)(window_key)
    return await reader.get(window_key)
