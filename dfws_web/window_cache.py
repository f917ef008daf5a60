"""A window's cache entry, read and written where it is cheapest.

Reading the entry at connect is on the hot path; three costs of Django's
cache API matter there, once per socket:

* ``caches[alias]`` is per asyncio task, so each consumer would build its
  own backend — for Redis a client, a pool and a TCP connection kept open
  as long as the socket lives;
* Django's ``RedisCache`` builds a new redis-py client for every operation,
  half the CPU of a ``get``;
* ``aget()`` hops to the process's single sync thread; any hop to a worker
  thread costs more CPU than the read itself.

So :func:`aload_window` reads a plain ``RedisCache`` on the event loop with
one ``redis.asyncio`` client per loop (:func:`loop_reader`, which the
limits and the session checks share), decoding with the backend's own
serializer; other backends are read by :func:`load_window` in a worker
thread, with one backend per thread.  What the entry holds, and who writes
it, is ``windows``' business.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.signals import setting_changed
from django.dispatch import receiver

from dfws_celery._compat import redis_cache_options, redis_cache_parts, redis_cache_primary
from dfws_celery.conf import dfws_settings
from dfws_celery.wire import WindowEntry


def cache_key(window_key: str) -> str:
    return f"{dfws_settings.cache_prefix}:window:{window_key}"


def store_window(window_key: str, entry: WindowEntry) -> None:
    """:func:`arestore_window`'s write for the other cache backends, in a worker thread."""
    sync_cache().add(cache_key(window_key), entry, dfws_settings.unconnected_expire)


_threads = threading.local()
_generation = 0  # bumped when tests override CACHES: every thread then builds new readers


@receiver(setting_changed)
def _forget_readers(*, setting: str, **kwargs: Any) -> None:
    global _generation
    if setting in ("CACHES", "WEBSOCKET_CACHE_BACKEND", "WEBSOCKET_CACHE_PREFIX"):
        _generation += 1
        _shared.clear()


def sync_cache() -> BaseCache:
    """The window cache (``WEBSOCKET_CACHE_BACKEND``) for sync code, kept across requests.

    Not ``caches[alias]``: Django keeps that per asyncio context, and under ASGI
    each request also runs its sync code in a thread of its own
    (``ThreadSensitiveContext``), so every page view that binds a window built a
    new backend — for Redis a new pool: a TCP connection and handshake per page.
    A plain ``RedisCache`` is shared by the whole process (redis-py's pools are
    thread-safe and reset after a fork); any other backend is kept per thread,
    as Django would.  Django's ``request_finished`` closes neither.
    """
    alias = dfws_settings.cache_backend
    slot = (alias, _generation)
    shared = _shared.get(slot)
    if shared is not None:
        return shared
    if getattr(_threads, "generation", None) != _generation:
        _threads.backends, _threads.generation = {}, _generation
    backends: dict[str, BaseCache] = _threads.backends
    backend = backends.get(alias)
    if backend is None:
        backend = backends[alias] = caches.create_connection(alias)
        if _shareable(backend):
            with _shared_lock:
                backend = _shared.setdefault(slot, backend)
    return backend


def _shareable(backend: BaseCache) -> bool:
    from django.core.cache.backends.redis import RedisCache

    return type(backend) is RedisCache


_shared: dict[tuple[str, int], BaseCache] = {}
_shared_lock = threading.Lock()


def load_window(window_key: str) -> WindowEntry | None:
    """The cache entry of ``window_key`` (or ``None``), read in a worker thread.

    For the backends :class:`AsyncWindowReader` cannot read (public API).
    """
    return entry_of(sync_cache().get(cache_key(window_key)))


# options of Django's RedisCache that are sync-only classes: with them, read in a thread
_SYNC_ONLY_OPTIONS = ("pool_class", "parser_class")


class AsyncWindowReader:
    """One event loop's reader of a plain ``RedisCache``."""

    def __init__(self, backend: Any) -> None:
        server, options, serializer = redis_cache_parts(backend)
        primary = redis_cache_primary(backend)
        self.backend = backend
        self.client = _client(server, options)
        # writes (a window's lifetime, the limits) go to the primary, reads may use a replica
        self.primary = self.client if primary == server else _client(primary, options)
        self.serializer = serializer

    @staticmethod
    def usable(backend: BaseCache) -> bool:
        from django.core.cache.backends.redis import RedisCache

        options = redis_cache_options(backend)
        return type(backend) is RedisCache and not any(k in options for k in _SYNC_ONLY_OPTIONS)

    async def get(self, window_key: str) -> WindowEntry | None:
        key = self.backend.make_and_validate_key(cache_key(window_key))
        value = await self.client.get(key)
        return None if value is None else entry_of(self.serializer.loads(value))


def _client(url: str, options: dict[str, Any]) -> Any:
    """A ``redis.asyncio`` client whose pool waits when full (redis-py 8's default raises):
    hundreds of sockets connecting at once queue for a connection instead of failing."""
    from redis import asyncio as aioredis

    pool_options = {"max_connections": 100, "timeout": None, **options}
    pool: Any = aioredis.BlockingConnectionPool.from_url(url, **pool_options)
    return aioredis.Redis(connection_pool=pool)


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, AsyncWindowReader | None]]
_loops = weakref.WeakKeyDictionary()


def loop_reader() -> AsyncWindowReader | None:
    """This event loop's reader of the window cache, or ``None`` if it is not a plain Redis."""
    alias = dfws_settings.cache_backend
    readers = _loops.setdefault(asyncio.get_running_loop(), {})
    slot = (alias, _generation)
    if slot not in readers:
        backend = caches.create_connection(alias)
        readers[slot] = AsyncWindowReader(backend) if AsyncWindowReader.usable(backend) else None
    return readers[slot]


async def aload_window(window_key: str) -> WindowEntry | None:
    """:func:`load_window` for the event loop."""
    reader = loop_reader()
    if reader is None:
        return await sync_to_async(load_window, thread_sensitive=False)(window_key)
    return await reader.get(window_key)


def touch_window(window_key: str) -> None:
    """:func:`aextend_window` for the other cache backends, in a worker thread."""
    sync_cache().touch(cache_key(window_key), dfws_settings.cache_expire)


async def aextend_window(window_key: str) -> None:
    """A window that connected lives ``WEBSOCKET_CACHE_EXPIRE`` seconds from now.

    Until its first connect it lives ``WEBSOCKET_UNCONNECTED_EXPIRE`` seconds:
    page views that never open a socket (crawlers) do not fill the cache.
    """
    reader = loop_reader()
    if reader is None:
        await sync_to_async(touch_window, thread_sensitive=False)(window_key)
        return
    key = reader.backend.make_and_validate_key(cache_key(window_key))
    await reader.primary.expire(key, dfws_settings.cache_expire)


def entry_of(value: Any) -> WindowEntry | None:
    """``value`` if it has the shape :func:`set_websocket_topics` writes, else ``None``."""
    if (
        isinstance(value, Mapping)
        and isinstance(value.get("topics"), list)
        and isinstance(value.get("window_info"), dict)
    ):
        entry: WindowEntry = {"topics": value["topics"], "window_info": value["window_info"]}
        verified_at = value.get("verified_at")
        if isinstance(verified_at, float | int) and not isinstance(verified_at, bool):
            entry["verified_at"] = float(verified_at)
        return entry
    return None
