"""Publishing frames to channel-layer groups from sync and async code.

Why one warm event loop per process: ``async_to_sync(layer.group_send)``
from sync code (views, Celery tasks, the shell) starts a thread and an
event loop per call, and channels_redis opens a new Redis connection for
each loop (channels_redis #125, #122, #332) — about 110 publishes/s where
one long-lived loop reaches about 1,500/s.  Sync callers here submit their
coroutine to a single daemon thread that runs one loop for the life of the
process (recreated after ``fork()``), so the layer's connection pool stays
warm.  Async callers (``atrigger``) just await on their own loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any, TypeVar

from channels.layers import BaseChannelLayer, InMemoryChannelLayer, get_channel_layer
from django.core.exceptions import ImproperlyConfigured

from dfws_celery.history import History, RedisHistory, history, kept
from dfws_celery.metrics import publish_failed
from dfws_celery.outages import OUTAGE_ERRORS
from dfws_celery.pubsub import sync_publisher
from dfws_celery.wire import layer_frame

T = TypeVar("T")
logger = logging.getLogger("dfws.signals")
PUBLISH_TIMEOUT = 30.0


def channel_layer() -> BaseChannelLayer:
    layer = get_channel_layer()
    if layer is None:
        raise ImproperlyConfigured(
            "dfws needs a channel layer to reach browsers: set CHANNEL_LAYERS "
            "(dfws_celery.layers.redis_pubsub_channel_layer() in production, "
            "channels.layers.InMemoryChannelLayer for a single process)"
        )
    return layer


async def apublish(groups: Iterable[str], frame: str) -> None:
    """Send the text ``frame`` to every consumer of each group."""
    try:
        await asend(groups, layer_frame(frame))
    except OUTAGE_ERRORS:
        publish_failed()
        raise


async def asend(groups: Iterable[str], message: Mapping[str, Any]) -> None:
    """Send a layer ``message`` (a frame or a control message) to each group.

    A frame is first numbered in each group's history (``history``): the
    message then carries its ``(epoch, offset)`` per group.
    """
    groups = list(groups)
    message = dict(message)
    store, numbered = _numbered(groups, message)
    if store is not None and numbered:
        message["o"] = await store.aappend(numbered, message["text"])
    await _group_send(groups, message)


async def _group_send(groups: list[str], message: dict[str, Any]) -> None:
    layer = channel_layer()
    sends = [layer.group_send(group, message) for group in groups]
    if len(sends) == 1:
        await sends[0]
    elif sends:
        await asyncio.gather(*sends)


class WarmLoop:
    """A daemon thread running one event loop, restarted in a forked child."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._adopted = False

    @property
    def adopted(self) -> bool:
        """Whether frames go to a server's own loop, which is still running.

        A closed adopted loop (the server stopped) adopts nothing any more: the
        in-memory layer's rule then drops frames instead of publishing them
        from a private thread, where its queues are not safe to use.
        """
        return self._adopted and not self._stale()

    def loop(self) -> asyncio.AbstractEventLoop:
        if self._stale():
            with self._lock:
                if self._stale():
                    self._start()
        assert self._loop is not None
        return self._loop

    def _stale(self) -> bool:
        return self._loop is None or self._loop.is_closed() or self._pid != os.getpid()

    def adopt_current(self) -> None:
        """Publish on the running loop from now on (see :meth:`adopt`)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self.adopt(loop)

    def adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Publish on ``loop`` (a server's own loop) instead of a private thread.

        Needed for the in-memory channel layer, whose queues are only safe to
        use from the loop that reads them.
        """
        with self._lock:
            self._loop, self._thread, self._pid = loop, None, os.getpid()
            self._adopted = True

    def _start(self) -> None:
        self._adopted = False
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="dfws-publisher", daemon=True)
        thread.start()
        self._loop, self._thread, self._pid = loop, thread, os.getpid()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = PUBLISH_TIMEOUT) -> T:
        loop = self.loop()
        if threading.current_thread() is self._thread or _running_loop() is loop:
            coroutine.close()
            raise RuntimeError("dfws: synchronous publish called from the publisher loop itself")
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        return future.result(timeout)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


warm_loop = WarmLoop()


def publish(groups: Iterable[str], frame: str) -> None:
    """Sync version of :func:`apublish`, through the process's warm loop."""
    try:
        send(groups, layer_frame(frame))
    except OUTAGE_ERRORS:
        publish_failed()
        raise


def _numbered(groups: list[str], message: Mapping[str, Any]) -> tuple[History | None, list[str]]:
    """The history, and the groups whose history keeps ``message`` (frames only)."""
    if message.get("type") != "dfws.frame":
        return None, []
    store = history()
    return (None, []) if store is None else (store, kept(store, groups))


def send(groups: Iterable[str], message: Mapping[str, Any]) -> None:
    """Sync version of :func:`asend`."""
    groups = list(groups)
    if not groups:
        return
    message = dict(message)
    store, numbered = _numbered(groups, message)
    layer = channel_layer()
    fast = sync_publisher(layer)
    if fast is not None and numbered and isinstance(store, RedisHistory) and fast.plain():
        shard = fast.single_shard(groups)
        if shard is not None:  # numbered and published by one script: one round trip
            fast.execute(shard, store.append_and_publish(numbered, groups, message["text"]))
            return
    if store is not None and numbered:
        message["o"] = store.append(numbered, message["text"])
    if isinstance(layer, InMemoryChannelLayer) and not warm_loop.adopted:
        # In-memory groups live in this process and only a connected consumer joins
        # them (adopting its loop): before that nobody can listen, and touching the
        # layer from another thread would race with the server's loop.
        logger.debug("no websocket connected to this process yet: frame dropped")
        return
    if fast is not None:  # Redis Pub/Sub: one PUBLISH per group, no loop needed
        fast.group_send(groups, message)
        return
    warm_loop.run(_group_send(groups, message))
