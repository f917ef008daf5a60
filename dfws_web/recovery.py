"""A window that reconnects misses nothing: positions per topic, replay, holes filled.

Each socket keeps, per group it joined, the position (epoch, offset) of the
last frame it sent to its browser (:class:`Recovery`).  At connect it
replays, from each group's history (``dfws_celery.history``), what came
after the positions the browser sent back (``?dfwspos=``) — and for the
window's own group, everything, so that a signal sent to ``WINDOW`` before
the socket opened (in the view that rendered the page) is not lost.  Live
frames then pass only if they are new: an offset already sent is dropped
(the frame came in the replay, or through another of the window's groups),
and a jump over missing offsets (a Pub/Sub message lost while the layer
reconnected to Redis, or two publishers racing) is filled from the history
first.  What cannot be filled is reported to the browser (``resync``).

Channels hands a consumer its messages one at a time, and the replay runs
inside ``connect``: live frames wait behind it, so no frame overtakes
another at the seam.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from dfws_celery.history import History, Position
from dfws_celery.wire import POSITIONS_QUERY, LayerFrame, with_positions

logger = logging.getLogger("dfws.websocket")
POSITION = re.compile(r"^([0-9a-f]{1,16})\.([0-9]{1,15})$")
TAG = re.compile(r"^[0-9a-f]{12}$")
MAX_QUERY = 4096  # bytes of ?dfwspos=: a window has a handful of topics


def topic_tag(group: str) -> str:
    """The name of a group in ``"o"`` and ``?dfwspos=``: short, the same for every window
    of the group (a frame can be tagged once per process), and not the group's name (a
    window's own group is named after its key).  Interned: the sockets of a process that
    share a group share its tag's string."""
    return sys.intern(hashlib.blake2s(group.encode(), digest_size=6).hexdigest())


def asked_positions(scope: Mapping[str, Any]) -> dict[str, Position]:
    """The positions the browser sent back, by topic tag; anything malformed is ignored."""
    raw = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(POSITIONS_QUERY)
    if not raw or len(raw[0]) > MAX_QUERY:
        return {}
    try:
        value = json.loads(raw[0])
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    positions: dict[str, Position] = {}
    for key, text in value.items():
        match = POSITION.match(text) if isinstance(text, str) else None
        if match and TAG.match(key):
            positions[key] = (match[1], int(match[2]))
    return positions


class Recovery:
    """One socket's positions in the histories of its groups.

    Kept small, one per idle window (S7): slots, containers made on first use,
    and what only the replay needs (``asked``, ``window_group``) dropped after it.
    """

    __slots__ = ("ahead", "asked", "from_start", "positions", "store", "tag_of", "window_group")

    def __init__(
        self,
        store: History,
        groups: list[str],
        window_group: str | None,
        asked: dict[str, Position],
    ) -> None:
        self.store = store
        self.tag_of = {group: topic_tag(group) for group in groups}
        self.window_group = window_group
        self.asked: dict[str, Position] | None = asked
        self.positions: dict[str, Position] = {}
        # answers this socket sent and kept ahead of its position (frames numbered before
        # them had not reached it yet): no hole when the position gets to them
        self.ahead: dict[str, set[Position]] | None = None
        # the window's own group when the replay found it empty: this socket wants all of
        # it, so its first live frame must be offset 1 of its epoch, or there is a hole (an
        # answer the window's previous socket was still keeping while this one connected).
        # Only that group can be wanted whole: a name, not a set (216 bytes for one name)
        self.from_start: str | None = None

    async def replay(self) -> tuple[list[str], list[str]]:
        """The frames the browser missed, in order per topic, and the topics it cannot get."""
        frames: list[str] = []
        resync: list[str] = []
        asked, window_group = self.asked or {}, self.window_group
        self.asked = self.window_group = None  # the replay's alone: not kept per socket
        for group, tag in self.tag_of.items():
            position = asked.get(tag)
            if position is None and group != window_group:
                continue  # a topic the browser had nothing of: live from now on
            missed = await self.store.missed(group, position)
            if missed.epoch is not None:
                self.positions[group] = (missed.epoch, missed.last)
            elif position is None:
                self.from_start = group
            if not missed.complete:
                resync.append(tag)
                continue
            for offset, text in missed.frames:
                frames.append(with_positions(text, {tag: f"{missed.epoch}.{offset}"}))
        return frames, resync

    async def keep(self, group: str, text: str) -> str:
        """Number ``text``, about to be sent to this socket, in ``group``'s history.

        Returns ``text`` with its position (``"o"``), so that the browser counts
        it as seen and a later reconnect does not get it again; as it was when
        the history cannot take it (the answer still goes out).
        """
        tag = self.tag_of.get(group)
        if tag is None:
            return text
        try:
            positions = await self.store.aappend([group], text)
        except Exception:
            logger.warning("could not keep an answer in the history of %s", group, exc_info=True)
            return text
        epoch, offset = positions[group]
        known = self.positions.get(group)
        # sent now: not a hole for the next frame, unless frames numbered before it (a
        # handler that answered before the ack was kept) have not reached this socket yet
        if (known is None and offset == 1) or (
            known is not None and known[0] == epoch and known[1] == offset - 1
        ):
            self.positions[group] = (epoch, offset)
        else:
            if self.ahead is None:
                self.ahead = {}
            self.ahead.setdefault(group, set()).add((epoch, offset))
        return with_positions(text, {tag: f"{epoch}.{offset}"})

    def live(self, event: LayerFrame) -> list[str] | None:
        """The frames to send for a published frame (none if it was sent already).

        ``None`` when a hole must be filled from the history first: then
        :meth:`alive`.  Runs for every frame of every socket: no coroutine,
        no JSON encoder on this path.
        """
        offsets = event["o"]
        tags: list[str] = []
        for group, (epoch, offset) in offsets.items():
            tag = self.tag_of.get(group)
            if tag is None:
                continue
            known = self.positions.get(group) or self._start(group, epoch)
            if known is not None and known[0] == epoch:
                if offset <= known[1]:
                    continue  # sent already
                if offset > known[1] + 1 and not self._sent_between(group, known, offset):
                    return None
            elif known is not None:
                return None  # the history was lost while this socket was open
            self.positions[group] = (epoch, offset)
            # tag and epoch: hex, offset: an int: nothing to escape
            tags.append(f'"{tag}":"{epoch}.{offset}"')
        text = event["text"]
        if tags:
            return [f'{text[:-1]},"o":{{{",".join(tags)}}}}}']
        if not any(group in self.tag_of for group in offsets):
            return [text]  # not numbered for any of our groups
        return []

    def _start(self, group: str, epoch: str) -> Position | None:
        """The position before everything, for a group this socket wants all of."""
        return (epoch, 0) if group == self.from_start else None

    def _sent_between(self, group: str, known: Position, offset: int) -> bool:
        """Whether every offset between ``known`` and ``offset`` is an answer sent already."""
        ahead = self.ahead.get(group) if self.ahead else None
        epoch, last = known
        between = {(epoch, n) for n in range(last + 1, offset)}
        if not ahead or not between <= ahead:
            return False
        ahead -= between
        return True

    async def alive(self, event: LayerFrame) -> tuple[list[str], list[str]]:
        """:meth:`live` for a frame after a hole: what the history has of it goes first."""
        text = event["text"]
        frames: list[str] = []
        resync: list[str] = []
        tags: dict[str, str] = {}
        for group, (epoch, offset) in event["o"].items():
            tag = self.tag_of.get(group)
            if tag is None:
                continue
            known = self.positions.get(group) or self._start(group, epoch)
            if known is not None and known[0] == epoch:
                if offset <= known[1]:
                    continue
                if offset > known[1] + 1:
                    missed = await self.store.missed(group, known, before=offset)
                    if missed.complete:
                        ahead = (self.ahead or {}).get(group, set())
                        for missed_offset, missed_text in missed.frames:
                            if (epoch, missed_offset) in ahead:
                                ahead.discard((epoch, missed_offset))
                                continue  # an answer this socket sent already
                            one = {tag: f"{epoch}.{missed_offset}"}
                            frames.append(with_positions(missed_text, one))
                    else:
                        resync.append(tag)
            elif known is not None:  # the history was lost while this socket was open
                resync.append(tag)
            self.positions[group] = (epoch, offset)
            tags[tag] = f"{epoch}.{offset}"
        if tags:
            frames.append(with_positions(text, tags))
        return frames, resync
