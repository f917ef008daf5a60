"""Who is on a topic now: the windows connected to it, across every daphne process.

Presence is kept for the topics listed in ``WEBSOCKET_PRESENCE["topics"]``
(serialized topic prefixes).  Each socket of such a topic is a member of a
Redis sorted set beside the topic's group (the channel layer's shard):

* ``<prefix>:pr:<group>``: one member per socket, a JSON object (the socket's
  channel name, an opaque window id, the user's pk and name, the process it
  is connected to, since when), scored by its expiry — ``ttl`` seconds after
  its last heartbeat (the browser beats every 30 s by default);
* ``<prefix>:prp:<process>``: a key each daphne process refreshes every few
  seconds (``process_ttl``): a process killed with SIGKILL takes its members
  with it within ``process_ttl`` seconds, without waiting for their expiry.

Readers (:func:`presence`, :func:`apresence`) run one Lua script that drops
expired members and members of dead processes, then lists the rest.  The
web side (joining, beating, leaving, the join/leave signals) is in
``dfws_web.members``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels import DEFAULT_CHANNEL_LAYER
from django.conf import settings

from dfws_celery._compat import shard_of
from dfws_celery.conf import PresenceSettings, dfws_settings
from dfws_celery.topics import group_name
from dfws_celery.window_info import WindowInfo

READ = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local alive = {}
local out = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local process = cjson.decode(member)['p']
  if alive[process] == nil then
    alive[process] = redis.call('EXISTS', ARGV[2] .. process) == 1
  end
  if alive[process] then
    out[#out + 1] = member
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return out
"""


@dataclass(frozen=True)
class Member:
    """One socket connected to a topic."""

    window: str  # an opaque id of the window (two sockets of one window share it)
    user_pk: Any  # None for an anonymous visitor
    username: str | None
    since: float  # time.time() of its connect

    def public(self) -> dict[str, Any]:
        """What the ``dfws.presence`` signal tells the topic's windows about it."""
        return {"window": self.window, "user_pk": self.user_pk, "username": self.username}


def decode_member(raw: Any) -> Member:
    value = json.loads(raw)
    return Member(value["w"], value.get("u"), value.get("n"), float(value.get("t", 0)))


class PresenceStore:
    """The sorted sets of the default channel layer's hosts."""

    def __init__(self, config: PresenceSettings, hosts: list[dict[str, Any]], prefix: str) -> None:
        self.config = config
        self.hosts = hosts
        self.prefix = prefix

    def key(self, group: str) -> str:
        return f"{self.prefix}:pr:{group}"

    def process_key(self, process: str) -> str:
        return f"{self.prefix}:prp:{process}"

    def host(self, group: str) -> dict[str, Any]:
        return self.hosts[shard_of(group, len(self.hosts))]

    def read(self, group: str, now: float) -> list[Member]:
        from dfws_celery.redis_clients import sync_client

        client = sync_client(self.host(group))
        raw = client.eval(READ, 1, self.key(group), now, f"{self.prefix}:prp:")
        return [decode_member(member) for member in raw]

    async def aread(self, group: str, now: float) -> list[Member]:
        from dfws_celery.redis_clients import loop_client

        client = await loop_client(self.host(group))
        raw = await client.eval(READ, 1, self.key(group), now, f"{self.prefix}:prp:")
        return [decode_member(member) for member in raw]


def store() -> PresenceStore | None:
    """The presence store, or ``None`` when presence is off or the layer is not Redis."""
    config = dfws_settings.presence
    if config is None:
        return None
    layer: Mapping[str, Any] = settings.CHANNEL_LAYERS.get(DEFAULT_CHANNEL_LAYER, {})
    if not str(layer.get("BACKEND", "")).startswith("channels_redis."):
        return None
    from channels_redis.utils import decode_hosts

    options = layer.get("CONFIG", {})
    return PresenceStore(config, decode_hosts(options.get("hosts")), options.get("prefix", "asgi"))


def _group(topic: Any, window_info: WindowInfo | None) -> str:
    serialized = dfws_settings.topic_serializer(window_info, topic)
    if serialized is None:
        raise ValueError(f"{topic!r} names no topic for this window")
    return group_name(serialized)


def _store_for(group: str) -> PresenceStore:
    current = store()
    if current is None:
        raise RuntimeError(
            'dfws presence is off: set WEBSOCKET_PRESENCE = {"topics": [...]} and use a '
            "channels_redis layer"
        )
    return current


def presence(topic: Any, window_info: WindowInfo | None = None) -> list[Member]:
    """The sockets connected to ``topic`` now, oldest first (sync: views, tasks).

    ``topic`` as for ``trigger(to=...)``; ``window_info`` for ``USER``,
    ``SESSION``, ``WINDOW``.
    """
    import time

    group = _group(topic, window_info)
    members = _store_for(group).read(group, time.time())
    return sorted(members, key=lambda m: m.since)


async def apresence(topic: Any, window_info: WindowInfo | None = None) -> list[Member]:
    """:func:`presence` for async code."""
    import time

    group = _group(topic, window_info)
    members = await _store_for(group).aread(group, time.time())
    return sorted(members, key=lambda m: m.since)
