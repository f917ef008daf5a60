"""The inbound half of the consumer: what a window's socket sends, answered.

``SignalConsumer`` (``consumer``) admits a window; this base class takes
the frames its page sends once admitted:

* a heartbeat, answered and used to keep the window's groups, limits and
  presence alive;
* a call, parsed (``wire``), checked against the window's limits
  (``limits``), forwarded into Celery in a thread (``calls.forward``) and
  acknowledged; the ack and the edge's refusals are kept in the window's
  history before they are sent (``answer``), so a socket that drops still
  gets them in its replay;
* anything else (a binary frame, a malformed or refused call) is answered
  with a refusal frame, logged a few times a minute, and an abusive socket
  is closed (``refuse``).

The consumer never runs handler code: permission and argument checks of a
call happen in the worker.
"""

from __future__ import annotations

import asyncio
import logging
import time

from dfws_celery.conf import dfws_settings
from dfws_celery.errors import BadFrame, ErrorType, SignalError, Unavailable
from dfws_celery.queue_watch import watch
from dfws_celery.routing import static_queue
from dfws_celery.topics import group_name
from dfws_celery.wire import (
    HEARTBEAT,
    AckQueue,
    CloseCode,
    WindowInfoValues,
    ack_frame,
    error_frame,
    parse_call_frame,
    refusal_frame,
)
from dfws_web.calls import callable_handlers, forward
from dfws_web.delivery import DeliveringConsumer
from dfws_web.limits import Refusals
from dfws_web.members import Membership

logger = logging.getLogger("dfws.websocket")


class ReceivingConsumer(DeliveringConsumer):
    """Frames in from one admitted window: heartbeats and calls, each answered."""

    window_info: WindowInfoValues
    refusals: Refusals | None = None  # made at the first refused frame (most sockets never)
    joined_at: float = 0.0
    members: Membership | None = None

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

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.window_key is None:
            return
        if text_data == HEARTBEAT:
            await self.heartbeat()
        elif text_data is None:
            await self.refuse(BadFrame("binary frames are not accepted"), None)
        else:
            await self.call(text_data)

    async def heartbeat(self) -> None:
        """Answer the page's heartbeat and keep what the window holds alive with it."""
        if self.metrics is not None:
            self.metrics.heartbeats_in.inc()
        await self.send(text_data=HEARTBEAT)
        await self.refresh_groups()
        if self.limits is not None:
            await self.limits.heartbeat()
        if self.members is not None:
            await self.members.beat()

    async def call(self, text_data: str) -> None:
        """A call frame: parsed, admitted by the limits, forwarded into Celery, acked."""
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
        if self.refusals is None:
            self.refusals = Refusals()
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
