"""The web side of presence: each socket joins, beats and leaves its presence topics.

A socket whose window has topics tracked by ``WEBSOCKET_PRESENCE`` adds
itself to each topic's sorted set at connect, pushes its expiry back at
every heartbeat and removes itself at disconnect (``dfws_celery.presence``
reads them).  Each event loop keeps its process's liveness key fresh, so
that a process killed without a goodbye takes its members along within
``process_ttl`` seconds.

Joins and leaves are told to the topic's windows as a ``dfws.presence``
signal ``{"topic", "joined": [...], "left": [...]}``, gathered per topic
and per process over one second: a burst of reconnects (a deploy) makes a
handful of frames, not one per socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from django.utils.crypto import salted_hmac

from dfws_celery.presence import Member, PresenceStore, store
from dfws_celery.publisher import apublish
from dfws_celery.wire import WindowInfoValues, signal_frame

logger = logging.getLogger("dfws.websocket")
PRESENCE_SIGNAL = "dfws.presence"
GATHER_SECONDS = 1.0

_process: tuple[int, str] | None = None


def process_id() -> str:
    """This process's name in the presence sets (a forked child gets its own)."""
    global _process
    if _process is None or _process[0] != os.getpid():
        _process = (os.getpid(), f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}")
    return _process[1]


def window_id(window_key: str) -> str:
    """An id of the window others may see: not its key, which addresses it."""
    return salted_hmac("dfws.presence.window", window_key).hexdigest()[:16]


@dataclass
class _Loop:
    """What one event loop does for presence: keep its process alive, gather announcements."""

    store: PresenceStore
    refresher: asyncio.Task[None] | None = None
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)


_loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Loop] = weakref.WeakKeyDictionary()


async def _alive(presence: PresenceStore) -> None:
    from dfws_celery.redis_clients import loop_client

    ttl = presence.config.process_ttl
    for host in presence.hosts:
        client = await loop_client(host)
        await client.set(presence.process_key(process_id()), 1, ex=ttl)


async def _keep_alive(presence: PresenceStore) -> None:
    while True:
        await asyncio.sleep(presence.config.process_ttl / 3)
        try:
            await _alive(presence)
        except Exception:  # Redis is away: members expire, the next beat brings them back
            logger.warning("presence: could not refresh this process's liveness", exc_info=True)


async def _loop_state(presence: PresenceStore) -> _Loop:
    loop = asyncio.get_running_loop()
    state = _loops.get(loop)
    if state is None or state.refresher is None or state.refresher.done():
        state = _loops[loop] = _Loop(presence)
        await _alive(presence)
        state.refresher = loop.create_task(_keep_alive(presence))
    return state


def _announce(state: _Loop, group: str, topic: str, what: str, member: dict[str, Any]) -> None:
    pending = state.pending.get(group)
    if pending is None:
        pending = state.pending[group] = {"topic": topic, "joined": [], "left": []}
        asyncio.get_running_loop().call_later(
            GATHER_SECONDS, lambda: asyncio.ensure_future(_flush(state, group))
        )
    other = "left" if what == "joined" else "joined"
    if member in pending[other]:  # a reconnect inside the second: nothing to tell
        pending[other].remove(member)
    else:
        pending[what].append(member)


async def _flush(state: _Loop, group: str) -> None:
    opts = state.pending.pop(group, None)
    if not opts or not (opts["joined"] or opts["left"]):
        return
    frame = signal_frame(PRESENCE_SIGNAL, json.dumps(opts), uuid.uuid4().hex)
    try:
        await apublish([group], frame)
    except Exception:
        logger.warning("presence: could not announce to %s", group, exc_info=True)


class Membership:
    """One socket's membership of its presence topics (slots: one per window)."""

    __slots__ = ("member", "presence", "public", "topics")

    def __init__(
        self,
        presence: PresenceStore,
        channel_name: str,
        window_key: str,
        window_info: WindowInfoValues,
        topics: list[tuple[str, str]],
    ) -> None:
        self.presence = presence
        self.topics = topics  # (serialized topic, group)
        self.public = Member(
            window_id(window_key),
            window_info.get("user_pk"),
            window_info.get("username"),
            time.time(),
        ).public()
        self.member = json.dumps(
            {
                "c": channel_name,
                "w": self.public["window"],
                "u": self.public["user_pk"],
                "n": self.public["username"],
                "p": process_id(),
                "t": time.time(),
            },
            sort_keys=True,
        )

    async def _each_shard(self, command: str, *args: Any) -> None:
        """``command key *args`` for each presence topic, one write per shard of the layer."""
        from dfws_celery.redis_clients import loop_bare

        by_host: dict[str, tuple[Any, list[tuple[Any, ...]]]] = {}
        for _, group in self.topics:
            host = self.presence.host(group)
            _, commands = by_host.setdefault(repr(sorted(host.items())), (host, []))
            commands.append((command, self.presence.key(group), *args))
        for host, commands in by_host.values():
            replies = await (await loop_bare(host)).exchange(commands)
            for reply in replies:
                if isinstance(reply, Exception):
                    raise reply

    async def _zadd(self) -> None:
        # a plain ZADD: a member that expired meanwhile (a Redis restart) comes back
        await self._each_shard("ZADD", time.time() + self.presence.config.ttl, self.member)

    async def join(self) -> None:
        state = await _loop_state(self.presence)
        await self._zadd()
        if self.presence.config.signals:
            for topic, group in self.topics:
                _announce(state, group, topic, "joined", self.public)

    async def beat(self) -> None:
        await _loop_state(self.presence)  # a refresher that died (Redis away) starts again
        await self._zadd()

    async def leave(self) -> None:
        await self._each_shard("ZREM", self.member)
        if self.presence.config.signals:
            state = await _loop_state(self.presence)
            for topic, group in self.topics:
                _announce(state, group, topic, "left", self.public)


def membership(
    channel_name: str,
    window_key: str,
    window_info: WindowInfoValues,
    topics: list[str],
    groups: list[str],
) -> Membership | None:
    """The socket's :class:`Membership`, or ``None`` if none of its topics is tracked."""
    presence = store()
    if presence is None:
        return None
    tracked = [(t, g) for t, g in zip(topics, groups, strict=True) if presence.config.tracks(t)]
    if not tracked:
        return None
    return Membership(presence, channel_name, window_key, window_info, tracked)
