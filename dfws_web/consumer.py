"""The minimal websocket consumer: admit a window, validate its frames, forward them.

It never runs handler code: permission and argument checks happen in the
worker.  Blocking work (Celery's publish) goes to a thread so one slow
broker call does not stall every websocket of the process.  Window
identity (key, session, cache entry) is read through ``windows``; frames
are parsed and built by ``dfws_celery.wire``; what the window's groups
publish reaches the socket through the base class, ``delivery``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer
from django.conf import settings

from dfws_celery import metrics as dfws_metrics
from dfws_celery._compat import handler_of
from dfws_celery.conf import dfws_settings
from dfws_celery.errors import BadFrame, ErrorType, SignalError, Unavailable
from dfws_celery.outages import OUTAGE_ERRORS, OutageLog
from dfws_celery.publisher import warm_loop
from dfws_celery.queue_watch import watch
from dfws_celery.routing import static_queue
from dfws_celery.topics import group_name, topic_kind
from dfws_celery.wire import (
    HEARTBEAT,
    TRY_AGAIN_CLOSE,
    AckQueue,
    CloseCode,
    LayerControl,
    WindowInfoValues,
    ack_frame,
    error_frame,
    parse_call_frame,
    refusal_frame,
)
from dfws_web import fanout
from dfws_web.calls import callable_handlers, forward
from dfws_web.delivery import DeliveringConsumer
from dfws_web.limits import Refusals, WindowLimits
from dfws_web.members import Membership, membership
from dfws_web.sessions import acheck_window, check_window
from dfws_web.window_cache import aextend_window, aload_window
from dfws_web.windows import COOKIE_KEY, QUERY_KEY, arestore_window, same_browser, unsign

logger = logging.getLogger("dfws.websocket")
connect_outages = OutageLog(logger)


def client_address(scope: Mapping[str, Any]) -> str:
    """The client's address (daphne's ``--proxy-headers`` make it the one a proxy forwards)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def query_key(scope: Mapping[str, Any]) -> str | None:
    """The signed window key in the URL (``?dfwskey=``), which wins over the shared cookie."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(QUERY_KEY)
    return values[0] if values else None


class SignalConsumer(DeliveringConsumer):
    """One browser window: admitted at connect, its calls forwarded into Celery.

    What flows to the socket (live frames, the replay) is ``DeliveringConsumer``'s.
    """

    session_key: str | None = None
    window_info: WindowInfoValues
    refusals: Refusals
    joined_at: float = 0.0
    members: Membership | None = None
    topic_kinds: frozenset[str] = frozenset()  # counted in metrics.windows_by_kind

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' entry point, with an outage at its very start answered like one at connect.

        Channels subscribes the socket's channel (``new_channel``) before the
        first message; on the Pub/Sub layer that is a Redis command, and Redis
        down made each attempt of each page a traceback and a failed handshake.
        """
        try:
            await super().__call__(scope, receive, send)
        except OUTAGE_ERRORS as exc:
            if getattr(self, "channel_name", None) is not None:  # later: not the subscription
                raise
            connect_outages.failed("websocket connect", "dfws: a window could not connect", exc)
            if (await receive())["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": int(TRY_AGAIN_CLOSE)})

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
        self.refusals = Refusals()
        cookies = self.scope.get("cookies", {})
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
        self.window_info = window_info
        self.metrics = dfws_metrics.get()
        if self.metrics is not None:
            self.metrics.windows.inc()
            self.topic_kinds = frozenset(topic_kind(topic) for topic in entry["topics"])
            for kind in self.topic_kinds:
                self.metrics.by_kind(kind).inc()
            self.timer = dfws_metrics.CallTimer(self.metrics)
        if isinstance(self.channel_layer, InMemoryChannelLayer):
            warm_loop.adopt_current()
        self.groups = [group_name(topic) for topic in entry["topics"]]
        await self.join_groups()
        await self.recover(key)
        self.members = membership(self.channel_name, key, window_info, entry["topics"], self.groups)
        if self.members is not None:
            await self.members.join()
        # from now on the process's subscriber hands frames straight to this socket, once
        # the messages queued meanwhile are handled (``fanout``)
        self.fanout = fanout.register(self.channel_layer, self.channel_name, self.deliver)
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
        self.window_info = window_info

    async def refuse_window(self, code: CloseCode) -> None:
        # a plain int: autobahn (daphne) refuses an int subclass and closes with 1011 instead
        await self.close(code=int(code))

    async def join_groups(self) -> None:
        add = self.channel_layer.group_add
        await asyncio.gather(*(add(group, self.channel_name) for group in self.groups))
        self.joined_at = time.monotonic()

    async def refresh_groups(self) -> None:
        """Join again before the layer's ``group_expiry`` silently drops a long-lived window."""
        expiry = getattr(self.channel_layer, "group_expiry", 86400)
        if time.monotonic() - self.joined_at > expiry / 2:
            await self.join_groups()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, minus closing stale database connections before each message.

        Since Channels 4.2 that is a ``sync_to_async`` hop to the process's single sync
        thread per message per socket (a quarter of daphne's CPU in fan-out, and it
        serializes deliveries).  This consumer never touches the database.
        """
        await handler_of(self, message)(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.window_key is None:
            return
        if text_data == HEARTBEAT:
            if self.metrics is not None:
                self.metrics.heartbeats_in.inc()
            await self.send(text_data=HEARTBEAT)
            await self.refresh_groups()
            if self.limits is not None:
                await self.limits.heartbeat()
            if self.members is not None:
                await self.members.beat()
            return
        if text_data is None:
            await self.refuse(BadFrame("binary frames are not accepted"), None)
            return
        assert self.limits is not None  # set with window_key
        if self.metrics is not None:
            self.metrics.calls_in.inc()
        started = time.monotonic()
        call_id = signal_name = None
        handlers: list[tuple[str, str | None]] = []
        try:
            frame = parse_call_frame(text_data, dfws_settings.max_frame_size)
            call_id, signal_name = frame.get("call_id"), frame["signal"]
            connections = callable_handlers(frame["signal"], call_id, self.window_info)
            handlers = [(c.task_name, static_queue(c)) for c in connections]
            refusal = await self.limits.admit_call(call_id, handlers)
            if refusal is not None:
                handlers = []
                raise refusal
            # apply_async is blocking I/O: in the loop's thread pool (asgiref's sync_to_async
            # would add a context copy per call for nothing, as forward() reads no contextvar)
            forwarded = await asyncio.get_running_loop().run_in_executor(
                None,
                forward,
                frame["signal"],
                frame["opts"],
                call_id,
                self.window_info,
                connections,
            )
        except SignalError as exc:
            self.release(call_id, handlers)
            await self.refuse(exc, text_data)
            return
        except Exception as exc:  # the broker is down, a router raised...: keep the socket
            self.release(call_id, handlers)
            logger.exception(
                "window %s: could not queue dfws signal %r", self.window_key, signal_name
            )
            error = Unavailable(
                f"the call could not be queued ({type(exc).__name__})", call_id=call_id
            )
            if self.metrics is not None:
                self.metrics.refusals.labels(error.type).inc()
            await self.answer(refusal_frame(error.body(), call_id))
            return
        for _handler, refused in forwarded.refused:
            logger.warning("window %s: %s", self.window_key, refused)
            if self.metrics is not None:
                self.metrics.refusals.labels(refused.type).inc()
        self.release(call_id, [(name, None) for name, _ in forwarded.refused])
        if call_id is None:  # nothing to ack; a refusal is still said, as for a bad frame
            for _handler, refused in forwarded.refused:
                await self.send(text_data=refusal_frame(refused.body()))
            return
        refused_here = {name for name, _ in forwarded.refused}
        queues: dict[str, AckQueue] = {
            name: {"queue": queue, "consumer": watch.consumed(queue)}
            for name, queue in handlers
            if queue is not None and name not in refused_here
        }
        ack = ack_frame(call_id, forwarded.handlers, dfws_settings.call_timeout, queues)
        await self.answer(ack)
        if self.timer is not None:
            at_edge = {name for name, _ in forwarded.refused}
            sent = [name for name in forwarded.handlers if name not in at_edge]
            self.timer.sent(frame["signal"], call_id, sent, started)
        for handler, refused in forwarded.refused:
            await self.answer(error_frame(call_id, handler, refused.body()))

    async def answer(self, text: str) -> None:
        """An answer of the edge to a call (its ack, a refusal), kept, then sent.

        Kept in the window's history (``Recovery.keep``), like the workers'
        results, and sent with its position: a socket that drops before the ack
        arrives gets it in the replay, so the page's pending call does not wait
        for an ack that was lost; one that got it is not sent it again.
        """
        if self.recovery is not None and self.window_key is not None:
            text = await self.recovery.keep(group_name(f"-window.{self.window_key}"), text)
        await self.send(text_data=text)

    def release(self, call_id: str | None, handlers: list[tuple[str, str | None]]) -> None:
        """Calls that will get no answer from a worker stop counting now."""
        if call_id is not None and self.limits is not None:
            for name, _ in handlers:
                self.limits.answered(call_id, name)

    async def refuse(self, error: SignalError, text: str | None) -> None:
        """Answer a refused frame; log the first few, sum up the rest, close an abuser."""
        log_it, summary, close = self.refusals.count(error.type)
        if self.metrics is not None:
            self.metrics.refusals.labels(error.type).inc()
        if log_it:
            # JS-only signals (html.*) called in the page reach us too: not worth a warning
            level = logging.DEBUG if error.type == ErrorType.UNKNOWN_SIGNAL else logging.WARNING
            logger.log(
                level, "window %s: refused frame (%s: %s) %.200r", self.window_key, error.type,
                error, text,
            )  # fmt: skip
        if summary is not None:
            logger.warning("window %s: %s", self.window_key, summary)
        await self.send(text_data=refusal_frame(error.body(), error.call_id))
        if close:
            logger.warning(
                "window %s: more than %d frames refused in a minute, closing the socket",
                self.window_key,
                dfws_settings.max_refusals,
            )
            await self.refuse_window(CloseCode.TOO_MANY_REFUSALS)
