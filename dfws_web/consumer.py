"""The websocket consumer of a window: admit it, then hand its frames to the halves.

It never runs handler code.  At connect it reads the window's identity
(key, session, cache entry) through ``windows``, ``window_cache`` and
``sessions``, applies the socket limits, joins the window's groups, replays
what it missed and registers with the process's subscriber.  What the page
sends afterwards is the inbound half's (``inbound``: heartbeats, calls);
what the window's groups publish reaches the socket through the outbound
half (``delivery``).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer
from django.conf import settings
from django.http.cookie import parse_cookie

from dfws_celery import metrics as dfws_metrics
from dfws_celery._compat import handler_of, serve_async_consumer
from dfws_celery.outages import OUTAGE_ERRORS, OutageLog
from dfws_celery.publisher import warm_loop
from dfws_celery.topics import group_name, topic_kind
from dfws_celery.wire import TRY_AGAIN_CLOSE, CloseCode, LayerControl, WindowInfoValues
from dfws_web import fanout
from dfws_web.inbound import ReceivingConsumer
from dfws_web.limits import WindowLimits
from dfws_web.members import membership
from dfws_web.sessions import acheck_window, check_window
from dfws_web.window_cache import aextend_window, aload_window
from dfws_web.windows import COOKIE_KEY, QUERY_KEY, arestore_window, same_browser, unsign

logger = logging.getLogger("dfws.websocket")
connect_outages = OutageLog(logger)


def client_address(scope: Mapping[str, Any]) -> str:
    """The client's address (daphne's ``--proxy-headers`` make it the one a proxy forwards)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def scope_cookies(scope: Mapping[str, Any]) -> dict[str, str]:
    """The handshake's cookies, parsed for the connect only.

    Not Channels' ``CookieMiddleware``: it keeps a copy of the scope and the
    parsed cookies for as long as the socket lives (1.4 KiB per idle window).
    A stack that parsed them already (``AuthMiddlewareStack``) is read as is.
    """
    parsed = scope.get("cookies")
    if parsed is not None:
        return dict(parsed)
    cookies: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        if name == b"cookie":  # HTTP/2 may split them over several headers
            cookies.update(parse_cookie(value.decode("latin-1")))
    return cookies


def interned(window_info: WindowInfoValues, window_key: str) -> WindowInfoValues:
    """The copy kept per idle window (S7): its keys, and its text values (a user agent, a
    language, the hashes of a session's tabs), shared by every window of the process that
    has the same; the window's key is the consumer's own string."""
    values: WindowInfoValues = {}
    for name, value in window_info.items():
        if name == "window_key" and value == window_key:
            value = window_key
        elif isinstance(value, str):
            value = sys.intern(value)
        values[sys.intern(name)] = value
    return values


def query_key(scope: Mapping[str, Any]) -> str | None:
    """The signed window key in the URL (``?dfwskey=``), which wins over the shared cookie."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(QUERY_KEY)
    return values[0] if values else None


class SignalConsumer(ReceivingConsumer):
    """One browser window: admitted at connect, closed when its session or user ends.

    Its calls and heartbeats are ``ReceivingConsumer``'s; what flows to the
    socket (live frames, the replay) is ``DeliveringConsumer``'s.
    """

    session_key: str | None = None
    topic_kinds: frozenset[str] = frozenset()  # counted in metrics.windows_by_kind

    def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        """Channels' entry point: the one coroutine that serves the socket.

        A plain function returning ``_compat.serve_async_consumer``'s coroutine,
        Channels' steps without a wrapper coroutine kept per window (S7).
        """
        return serve_async_consumer(self, scope, receive, send)

    async def channel_failed(self, exc: BaseException, receive: Any, send: Any) -> bool:
        """An outage at the very start, answered like one at connect.

        Channels subscribes the socket's channel (``new_channel``) before the
        first message; on the Pub/Sub layer that is a Redis command, and Redis
        down made each attempt of each page a traceback and a failed handshake.
        """
        if not isinstance(exc, OUTAGE_ERRORS):
            return False
        connect_outages.failed("websocket connect", "dfws: a window could not connect", exc)
        if (await receive())["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": int(TRY_AGAIN_CLOSE)})
        return True

    async def connect(self) -> None:
        """Accept the socket, then admit the window or close with the reason's code.

        Redis unreachable (the cache, the layer, a restart in progress) closes
        with 1013 (try again later) and one log line per outage, not a
        traceback per socket; the client retries with its backoff.
        """
        try:
            await self.open_window()
        except OUTAGE_ERRORS as exc:
            connect_outages.failed("websocket connect", "dfws: a window could not connect", exc)
            await self.close(code=TRY_AGAIN_CLOSE)
            return
        connect_outages.ok("websocket connect")

    async def open_window(self) -> None:
        self.groups = []
        cookies = scope_cookies(self.scope)
        signed = query_key(self.scope) or cookies.get(COOKIE_KEY)
        key = unsign(signed)
        await self.accept()
        if key is None:
            logger.warning("websocket refused: missing or forged dfwskey cookie %r", signed)
            await self.refuse_window(CloseCode.FORGED_KEY)
            return
        # not Django's aget(): it runs in the one thread shared by every
        # sync_to_async(thread_sensitive=True) call of the process, serializing connects
        entry = await aload_window(key)
        if entry is None:  # a page rendered while the cache was down keeps its entry signed
            entry = await arestore_window(key, cookies)
        if entry is None:
            logger.warning("websocket refused: window %s is unknown or expired", key)
            await self.refuse_window(CloseCode.UNKNOWN_WINDOW)
            return
        self.session_key = cookies.get(settings.SESSION_COOKIE_NAME)
        if not same_browser(cookies, entry["window_info"]):
            logger.warning("websocket refused: window %s belongs to another session", key)
            await self.refuse_window(CloseCode.FORGED_KEY)
            return
        window_info = await acheck_window(self.session_key, entry)
        if window_info is None:
            logger.warning("websocket refused: the session of window %s has ended", key)
            await self.refuse_window(CloseCode.SESSION_ENDED)
            return
        limits = WindowLimits(key, client_address(self.scope))
        full, _ = await asyncio.gather(limits.open(), aextend_window(key))
        if full is not None:
            logger.warning("websocket refused: window %s or its address has too many sockets", key)
            await self.refuse_window(full)
            return
        self.limits = limits
        self.window_key = key
        self.window_info = interned(window_info, self.window_key)
        self.metrics = dfws_metrics.get()
        if self.metrics is not None:
            self.metrics.windows.inc()
            self.topic_kinds = frozenset(topic_kind(topic) for topic in entry["topics"])
            for kind in self.topic_kinds:
                self.metrics.by_kind(kind).inc()
            self.timer = dfws_metrics.CallTimer(self.metrics)
        if isinstance(self.channel_layer, InMemoryChannelLayer):
            warm_loop.adopt_current()
        self.groups = [sys.intern(group_name(topic)) for topic in entry["topics"]]
        await self.join_groups()
        await self.recover(key)
        self.members = membership(self.channel_name, key, window_info, entry["topics"], self.groups)
        if self.members is not None:
            await self.members.join()
        # from now on the process's subscriber hands frames straight to this socket, once
        # the messages queued meanwhile are handled (``fanout``)
        self.fanout = fanout.register(self.channel_layer, self.channel_name, self)
        self.unpause_when_drained()

    async def disconnect(self, code: int) -> None:
        # Channels itself discards every group of ``self.groups``; the limits are ours
        if self.fanout is not None:
            fanout.unregister(self.fanout, self.channel_name)
            self.fanout = None
        if self.limits is not None:
            await self.limits.close()
        if self.members is not None:
            await self.members.leave()
        if self.metrics is not None:
            self.metrics.windows.dec()
            for kind in self.topic_kinds:
                self.metrics.by_kind(kind).dec()
            self.metrics = None

    async def current(self, window_info: WindowInfoValues) -> WindowInfoValues | None:
        """``sessions.check_window`` in a thread, skipped for windows without a session."""
        if not window_info.get("session_hash"):
            return window_info
        return await sync_to_async(check_window, thread_sensitive=False)(
            self.session_key, window_info
        )

    async def dfws_revoke(self, message: LayerControl) -> None:
        """The window's session ended (logout): close the socket."""
        logger.info("window %s: its session ended, closing the socket", self.window_key)
        await self.refuse_window(CloseCode.SESSION_ENDED)

    async def dfws_revalidate(self, message: LayerControl) -> None:
        """The window's user changed: check the session and user again."""
        if self.window_key is None:
            return
        window_info = await self.current(self.window_info)
        if window_info is None:
            logger.info("window %s: its user may no longer use it, closing", self.window_key)
            await self.refuse_window(CloseCode.SESSION_ENDED)
            return
        self.window_info = interned(window_info, self.window_key)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, minus closing stale database connections before each message.

        Since Channels 4.2 that is a ``sync_to_async`` hop to the process's single sync
        thread per message per socket (a quarter of daphne's CPU in fan-out, and it
        serializes deliveries).  This consumer never touches the database.
        """
        await handler_of(self, message)(message)
