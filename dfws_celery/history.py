"""Recent frames of each group, kept so that a window that reconnects misses nothing.

Every frame published to a group is also appended to that group's history
and numbered: an *offset* that grows by one per frame, and an *epoch* that
names the history.  The offsets travel with the layer message
(``LayerFrame["o"]``); each consumer forwards them to its browser and fills
the holes it sees from the history, and a browser that reconnects says
where it stopped (see ``dfws_web.recovery``).  When a history is lost —
Redis restarted without persistence, flushed, or quiet for longer than
``meta_ttl`` — its next frame starts a new epoch, which tells every reader
that the gap cannot be filled.

In Redis each group has two keys beside its Pub/Sub channel (same shard):

* ``<prefix>:h:<group>``, a stream of ``{"f": text}`` entries whose IDs are
  ``<offset>-1``, trimmed to about ``size`` entries and expiring ``ttl``
  seconds after the group's last frame;
* ``<prefix>:hm:<group>``, a hash ``{"e": epoch, "o": last offset}``
  expiring ``meta_ttl`` seconds after the last frame: it outlives the
  frames so that a window quiet for longer than ``ttl`` can still learn
  that it missed nothing.

One Lua script numbers and appends a frame to all the groups of one shard,
then the frame is published: a reader can see an offset before its
frame arrives, never the reverse, so a hole it sees is in the history
already.  With the in-memory channel layer the history is a dict of this
process (:class:`LocalHistory`).
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from channels import DEFAULT_CHANNEL_LAYER
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from dfws_celery._compat import pubsub_group_channel, shard_of
from dfws_celery.conf import HistorySettings, dfws_settings

# (epoch, offset) of one frame in one group's history
Position = tuple[str, int]

# numbers ARGV[1] in the history of the group whose keys are KEYS[2i-1] (hash) and KEYS[2i]
# (stream): ARGV 2-5 are size, ttl, meta_ttl and the epoch of a new history
_NUMBER = """
local function number(i)
  local meta, stream = KEYS[2 * i - 1], KEYS[2 * i]
  local epoch = redis.call('HGET', meta, 'e')
  if not epoch then
    epoch = ARGV[5]
    redis.call('DEL', stream)
    redis.call('HSET', meta, 'e', epoch, 'o', 0)
  end
  local offset = redis.call('HINCRBY', meta, 'o', 1)
  redis.call('XADD', stream, 'MAXLEN', '~', ARGV[2], offset .. '-1', 'f', ARGV[1])
  redis.call('EXPIRE', stream, ARGV[3])
  redis.call('EXPIRE', meta, ARGV[4])
  return epoch, offset
end
"""

APPEND = (
    _NUMBER
    + """
local out = {}
for i = 1, #KEYS / 2 do
  local epoch, offset = number(i)
  out[#out + 1] = epoch
  out[#out + 1] = offset
end
return out
"""
)

# The same, then the frame published to every group's Pub/Sub channel in the same script:
# one round trip instead of two for the sync publisher of the Pub/Sub layer (a worker's
# results, a view's triggers). The layer message is built here with Redis' cmsgpack, as
# channels_redis' plain msgpack serializer would build it: {type, text, o}.
# ARGV: text, size, ttl, meta_ttl, new epoch, k, the k kept groups, the channels.
APPEND_AND_PUBLISH = (
    _NUMBER
    + """
local k = tonumber(ARGV[6])
local o = {}
for i = 1, k do
  local epoch, offset = number(i)
  o[ARGV[6 + i]] = {epoch, offset}
end
local payload = cmsgpack.pack({type = 'dfws.frame', text = ARGV[1], o = o})
for i = 7 + k, #ARGV do
  redis.call('PUBLISH', ARGV[i], payload)
end
return k
"""
)


@dataclass
class Missed:
    """What a group's history holds after a reader's position."""

    epoch: str | None  # None: the group has no history (never written, or forgotten)
    last: int  # the group's last offset (0 without history)
    frames: list[tuple[int, str]] = field(default_factory=list)  # (offset, text), in order
    complete: bool = True  # False: frames the reader missed are gone (trimmed, new epoch)


def missed_from(
    position: Position | None,
    epoch: str | None,
    last: int,
    frames: list[tuple[int, str]],
    before: int = 0,
) -> Missed:
    """Decide, from a group's state, what a reader at ``position`` missed.

    ``position`` ``None``: a reader that saw nothing of this group and wants
    all of it (a window's own group at its first connect).  ``before``: only
    the frames before that offset (a hole a live frame revealed).
    """
    if epoch is None:  # nothing kept: fine if the reader saw nothing either
        return Missed(None, 0, complete=position is None)
    if position is not None and position[0] != epoch:
        return Missed(epoch, last, complete=False)
    after = 0 if position is None else position[1]
    upto = before - 1 if before else last
    wanted = [(offset, text) for offset, text in frames if after < offset <= upto]
    # offsets in a stream have no holes but at its start (trimmed): the first one decides
    complete = after >= upto or (bool(wanted) and wanted[0][0] == after + 1)
    return Missed(epoch, last, wanted if complete else [], complete)


class History(Protocol):
    config: HistorySettings

    def append(self, groups: list[str], text: str) -> dict[str, Position]: ...

    async def aappend(self, groups: list[str], text: str) -> dict[str, Position]: ...

    async def missed(self, group: str, position: Position | None, before: int = 0) -> Missed:
        """What the group holds after ``position`` (and before offset ``before``, if set)."""
        ...


def new_epoch() -> str:
    return secrets.token_hex(4)


class LocalHistory:
    """The history of one process, for the in-memory channel layer."""

    def __init__(self, config: HistorySettings) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.groups: dict[str, tuple[str, int, deque[tuple[int, str]]]] = {}

    def append(self, groups: list[str], text: str) -> dict[str, Position]:
        positions: dict[str, Position] = {}
        with self.lock:
            for group in groups:
                epoch, last, frames = self.groups.get(group) or (new_epoch(), 0, deque())
                last += 1
                frames.append((last, text))
                while len(frames) > self.config.size:
                    frames.popleft()
                self.groups[group] = (epoch, last, frames)
                positions[group] = (epoch, last)
        return positions

    async def aappend(self, groups: list[str], text: str) -> dict[str, Position]:
        return self.append(groups, text)

    async def missed(self, group: str, position: Position | None, before: int = 0) -> Missed:
        with self.lock:
            state = self.groups.get(group)
            if state is None:
                return missed_from(position, None, 0, [])
            epoch, last, frames = state
            kept = list(frames)
        return missed_from(position, epoch, last, kept, before)


class RedisHistory:
    """The history in Redis, on the channel layer's own hosts (a group's shard)."""

    def __init__(
        self,
        config: HistorySettings,
        hosts: list[dict[str, Any]],
        prefix: str,
        pubsub: bool = False,
    ) -> None:
        self.config = config
        self.hosts = hosts
        self.prefix = prefix
        # on the Pub/Sub layer a group's history lives on the shard of its Pub/Sub channel,
        # so that one script can append and publish (append_and_publish)
        self.pubsub = pubsub
        self._sync: dict[int, Any] = {}
        self._lock = threading.Lock()

    def keys(self, group: str) -> tuple[str, str]:
        return f"{self.prefix}:hm:{group}", f"{self.prefix}:h:{group}"

    def shard(self, group: str) -> int:
        name = pubsub_group_channel(self.prefix, group) if self.pubsub else group
        return shard_of(name, len(self.hosts))

    def _by_shard(self, groups: Iterable[str]) -> dict[int, list[str]]:
        shards: dict[int, list[str]] = {}
        for group in groups:
            shards.setdefault(self.shard(group), []).append(group)
        return shards

    def append_and_publish(self, kept: list[str], groups: list[str], text: str) -> Any:
        """The command that numbers ``text`` in ``kept`` and publishes it to ``groups``.

        For ``SyncPubSub`` to send on its shard: every group must be on that one shard.
        """
        keys = [key for group in kept for key in self.keys(group)]
        channels = [pubsub_group_channel(self.prefix, group) for group in groups]
        args = [*self._args(text), len(kept), *kept, *channels]
        return ("EVAL", APPEND_AND_PUBLISH, len(keys), *keys, *args)

    def _args(self, text: str) -> list[Any]:
        c = self.config
        return [text, c.size, c.ttl, c.meta_ttl, new_epoch()]

    @staticmethod
    def _positions(groups: list[str], reply: list[Any]) -> dict[str, Position]:
        return {
            group: (_text(reply[2 * i]), int(reply[2 * i + 1])) for i, group in enumerate(groups)
        }

    def _sync_script(self, shard: int) -> Any:
        script = self._sync.get(shard)
        if script is None:
            with self._lock:
                script = self._sync.get(shard)
                if script is None:
                    from dfws_celery.redis_clients import sync_client

                    client = sync_client(self.hosts[shard])
                    script = self._sync[shard] = client.register_script(APPEND)
        return script

    async def _async_client(self, shard: int) -> Any:
        from dfws_celery.redis_clients import loop_client

        return await loop_client(self.hosts[shard])

    def append(self, groups: list[str], text: str) -> dict[str, Position]:
        positions: dict[str, Position] = {}
        for shard, members in self._by_shard(groups).items():
            keys = [key for group in members for key in self.keys(group)]
            reply = self._sync_script(shard)(keys=keys, args=self._args(text))
            positions.update(self._positions(members, reply))
        return positions

    async def aappend(self, groups: list[str], text: str) -> dict[str, Position]:
        from dfws_celery.redis_clients import loop_bare

        positions: dict[str, Position] = {}
        for shard, members in self._by_shard(groups).items():
            keys = [key for group in members for key in self.keys(group)]
            bare = await loop_bare(self.hosts[shard])
            reply = await bare.run_script(APPEND, keys, self._args(text))
            positions.update(self._positions(members, reply))
        return positions

    async def missed(self, group: str, position: Position | None, before: int = 0) -> Missed:
        from dfws_celery.redis_clients import loop_bare

        meta, stream = self.keys(group)
        after = 0 if position is None else position[1]
        end = f"{before - 1}-1" if before else "+"
        bare = await loop_bare(self.hosts[self.shard(group)])
        # one snapshot: the epoch and last offset, and the frames, as of the same moment
        replies = await bare.exchange(
            [("MULTI",), ("HMGET", meta, "e", "o"), ("XRANGE", stream, f"({after}-1", end),
             ("EXEC",)]
        )  # fmt: skip
        done = replies[-1]
        if isinstance(done, Exception):
            raise done
        (epoch, last), entries = done
        frames = [(int(_text(key).split("-")[0]), _field(fields, "f")) for key, fields in entries]
        epoch_text = None if epoch is None else _text(epoch)
        return missed_from(position, epoch_text, int(last or 0), frames, before)


def _field(fields: Any, name: str) -> str:
    """A stream entry's field, from a raw reply (a flat list) or a parsed one (a dict)."""
    if isinstance(fields, dict):
        return _text(fields.get(name.encode(), fields.get(name)))
    pairs = iter(fields)
    for key, value in zip(pairs, pairs, strict=False):
        if _text(key) == name:
            return _text(value)
    raise ValueError(f"a history entry without {name!r}")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# ---- the process's history ----

_history: dict[str, History | None] = {}
_history_lock = threading.Lock()


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting in ("WEBSOCKET_HISTORY", "CHANNEL_LAYERS"):
        _history.clear()


def history() -> History | None:
    """The history of the default channel layer, or ``None`` when it is off."""
    try:
        return _history["default"]
    except KeyError:
        pass
    with _history_lock:
        if "default" not in _history:
            _history["default"] = _build()
    return _history["default"]


def _build() -> History | None:
    config = dfws_settings.history
    if config is None:
        return None
    layer: Mapping[str, Any] = settings.CHANNEL_LAYERS.get(DEFAULT_CHANNEL_LAYER, {})
    backend = str(layer.get("BACKEND", ""))
    if backend.endswith("InMemoryChannelLayer"):
        return LocalHistory(config)
    if not backend.startswith("channels_redis."):
        return None  # a layer we cannot store beside: no history
    from channels_redis.utils import decode_hosts

    from dfws_celery.pubsub import is_pubsub

    options = layer.get("CONFIG", {})
    hosts, prefix = decode_hosts(options.get("hosts")), options.get("prefix", "asgi")
    return RedisHistory(config, hosts, prefix, pubsub=is_pubsub(backend))


def kept(store: History, groups: list[str]) -> list[str]:
    """The groups among ``groups`` whose frames ``store`` keeps (``WEBSOCKET_HISTORY["skip"]``)."""
    skip = store.config.skip_groups
    if not skip:
        return groups
    return [group for group in groups if not group.startswith(skip)]
