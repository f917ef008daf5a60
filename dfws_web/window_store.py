"""Reading, at websocket connect, the window entry ``set_websocket_topics`` cached.

Two costs of Django's cache API matter here, once per socket:

* ``caches[alias]`` is per asyncio task, so each consumer would build its
  own backend — for Redis a client, a pool and a TCP connection kept open
  as long as the socket lives.  One backend per worker thread is kept
  instead.
* Django's ``RedisCache`` builds a new redis-py client object for every
  operation, which is half the CPU of a ``get`` (redis-py 8 fills a
  dictionary of 170 response callbacks in each client's constructor).  For
  that backend the thread keeps one client on the backend's own pool and
  decodes with the backend's own serializer; any other backend is read
  through its public ``get``.

On the event loop, :func:`aload_window` reads a plain ``RedisCache`` with
one ``redis.asyncio`` client per loop (no hop to a worker thread, which
cost more CPU than the read itself); other backends go to a worker thread.
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


class WindowReader:
    """One thread's reader of a cache alias."""

    def __init__(self, backend: BaseCache) -> None:
        self.backend = backend
        self.client: Any = None
        self.serializer: Any = None
        from django.core.cache.backends.redis import RedisCache

        if type(backend) is RedisCache:  # a subclass may read differently
            redis_client: Any = backend._cache  # its RedisCacheClient (one per backend)
            self.client = redis_client.get_client(write=False)
            self.serializer = redis_client._serializer

    def get(self, window_key: str) -> Any:
        key = cache_key(dfws_settings.cache_prefix, window_key)
        if self.client is None:
            return self.backend.get(key)
        value = self.client.get(self.backend.make_and_validate_key(key))
        return None if value is None else self.serializer.loads(value)


def load_window(window_key: str) -> Any:
    """The cache entry of ``window_key`` (or ``None``); runs in a worker thread."""
    alias = dfws_settings.cache_backend
    if getattr(_threads, "generation", None) != _generation:
        _threads.readers, _threads.generation = {}, _generation
    readers: dict[str, WindowReader] = _threads.readers
    reader = readers.get(alias)
    if reader is None:
        reader = readers[alias] = WindowReader(caches.create_connection(alias))
    return reader.get(window_key)


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
