"""The outbound half of the consumer: frames from the window's groups to its socket.

``SignalConsumer`` (``consumer``) admits a window and forwards its calls;
this base class holds what flows the other way.  A frame reaches a socket
by one of two roads, and both end here:

* ``deliver``: the process's Pub/Sub subscriber hands the frame over
  directly (``fanout``), with no task wake-up per window;
* ``dfws_frame``: Channels' own path, a message in the socket's queue
  (the list layer, the in-memory layer, and every frame that arrived while
  the socket was paused).

On either road a numbered frame passes through ``Recovery`` once: a frame
already sent is dropped, a hole is filled from the history first.
"""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from dfws_celery import metrics as dfws_metrics
from dfws_celery._compat import PubSubProcess
from dfws_celery.history import history, kept
from dfws_celery.topics import group_name
from dfws_celery.wire import LayerFrame, answer_of, recovered_frame
from dfws_web import fanout
from dfws_web.limits import WindowLimits
from dfws_web.recovery import Recovery, asked_positions


class DeliveringConsumer(AsyncWebsocketConsumer):
    """Frames out to one window: replay at connect, then live frames, each once."""

    groups: list[str]
    window_key: str | None = None
    limits: WindowLimits | None = None
    recovery: Recovery | None = None
    metrics: dfws_metrics.Instruments | None = None
    timer: dfws_metrics.CallTimer | None = None
    fanout: PubSubProcess | None = None
    paused: bool = True  # frames from the subscriber wait in the queue (see fanout)

    async def recover(self, window_key: str) -> None:
        """Replay what the browser missed (see ``recovery``); live frames wait behind it."""
        store = history()
        if store is None:
            return
        asked = asked_positions(self.scope)
        window_group = group_name(f"-window.{window_key}")
        self.recovery = Recovery(store, kept(store, self.groups), window_group, asked)
        frames, resync = await self.recovery.replay()
        if self.metrics is not None:
            self.metrics.replayed.inc(len(frames))
            self.metrics.resyncs.inc(len(resync))
        for text in frames:
            await self.send(text_data=text)
        if asked or frames or resync:
            await self.send(text_data=recovered_frame(len(frames), resync))

    def deliver(self, event: LayerFrame) -> bool:
        """A frame from the process's subscriber (``fanout``); ``False``: queue it instead.

        Synchronous: the frame is written to the socket now, without a task
        of its own.  A paused socket (messages still queued, a hole to fill
        from the history) takes the queue, in order.
        """
        if self.paused or self.window_key is None:
            return False
        text = event["text"]
        if self.recovery is not None and "o" in event:
            frames = self.recovery.live(event)
            if frames is None:  # a hole: dfws_frame fills it, and the frames after it queue
                self.paused = True
                return False
        else:
            frames = [text]
        for frame in frames:
            message: Any = {"type": "websocket.send", "text": frame}
            fanout.send_now(self.base_send(message))
        if self.metrics is not None:
            self.metrics.frames_out.inc(len(frames))
        self.answered(text)
        return True

    def unpause_when_drained(self) -> None:
        """Fan-out may resume once the socket's own queue holds no more messages."""
        if self.fanout is not None and self.paused:
            queue = self.fanout.channels.get(self.channel_name)
            if queue is None or queue.empty():
                self.paused = False

    async def dfws_frame(self, event: LayerFrame) -> None:
        """A frame published to one of our groups (a signal, an ack, a result)."""
        text = event["text"]
        if self.recovery is None or "o" not in event:
            await self.send(text_data=text)
        else:
            frames = self.recovery.live(event)
            resync: list[str] = []
            if frames is None:  # a hole before this frame
                frames, resync = await self.recovery.alive(event)
                if self.metrics is not None:
                    self.metrics.replayed.inc(max(0, len(frames) - 1))
                    self.metrics.resyncs.inc(len(resync))
            for frame in frames:
                await self.send(text_data=frame)
            if resync:
                await self.send(text_data=recovered_frame(0, resync))
        self.answered(text)
        self.unpause_when_drained()

    def answered(self, text: str) -> None:
        """A result or an error of a call this window made stops counting."""
        timed = self.timer is not None and self.timer.pending
        if timed or (self.limits is not None and self.limits.pending):
            answer = answer_of(text)
            if answer is not None:
                if self.limits is not None:
                    self.limits.answered(*answer)
                if self.timer is not None:
                    self.timer.answered(*answer)

    async def send(  # type: ignore[override]  # the stubs know AsyncConsumer.send only
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        if self.metrics is not None:
            self.metrics.frames_out.inc()
        await super().send(text_data, bytes_data, close)
