"""One fan-out per process per topic message: frames go from the subscriber to the sockets.

With channels_redis' Pub/Sub layer a process receives a group's message
once; the layer then puts the raw bytes in the queue of every local member,
and each consumer task wakes up, decodes the same bytes, dispatches and
sends.  For a broadcast to many windows that per-window path is most of a
delivery's cost.  Here the process's subscriber decodes the message once
and hands a frame straight to each member socket that registered
(:func:`register`): a plain function call per window, no queue, no task
wake-up, no decoding per window.

What stays on the ordinary path: messages that are not frames (control
messages), members that did not register (other consumers of the group),
and a socket while it is *paused* — its consumer still has queued messages
to handle first (at connect, or while it fills a hole from the history),
so that no frame overtakes another.  Other layers are not touched.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from dfws_celery._compat import PubSubProcess

logger = logging.getLogger("dfws.websocket")


class Receiver(Protocol):
    """A registered socket (the consumer itself: no bound method kept per socket)."""

    def deliver(self, event: Any) -> bool:
        """Write the frame now; ``False`` when the socket wants the message queued instead."""
        ...


_processes: weakref.WeakKeyDictionary[Any, tuple[PubSubProcess, dict[str, Receiver]]]
_processes = weakref.WeakKeyDictionary()


def register(layer: Any, channel_name: str, deliver: Receiver) -> PubSubProcess | None:
    """Receive frames of ``layer``'s groups through ``deliver.deliver``; ``None`` if not a
    Pub/Sub layer.

    Call on the consumer's event loop.
    """
    from channels_redis.pubsub import RedisPubSubChannelLayer

    if not isinstance(layer, RedisPubSubChannelLayer):
        return None
    process = PubSubProcess(layer)
    known = _processes.get(process.loop_layer)
    if known is None:
        direct: dict[str, Receiver] = {}
        process.hook_receivers(lambda shard, original: _receiver(process, direct, original))
        known = _processes[process.loop_layer] = (process, direct)
    known[1][channel_name] = deliver
    return known[0]


def unregister(process: PubSubProcess, channel_name: str) -> None:
    known = _processes.get(process.loop_layer)
    if known is not None:
        known[1].pop(channel_name, None)


def _receiver(
    process: PubSubProcess, direct: dict[str, Receiver], original: Callable[[Any], None]
) -> Callable[[Any], None]:
    def receive(message: Any) -> None:
        if message is None or not direct:
            original(message)
            return
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        members = process.groups.get(name)
        if not members or name in process.channels:
            original(message)
            return
        data = message["data"]
        event: dict[str, Any] | None = None
        queues = process.channels
        for channel_name in tuple(members):
            queue = queues.get(channel_name)
            if queue is None:
                continue
            deliver = direct.get(channel_name)
            if deliver is not None:
                if event is None:
                    event = process.deserialize(data)
                    if event.get("type") != "dfws.frame":  # a control message: every queue
                        original(message)
                        return
                try:
                    if deliver.deliver(event):
                        continue
                except OSError as exc:  # its client has gone (uvicorn's ClientDisconnected)
                    logger.debug("fan-out to %s: the client has gone (%r)", channel_name, exc)
                    continue
                except Exception:  # one socket's failure is not the others'
                    logger.exception("fan-out to %s failed", channel_name)
                    continue
            queue.put_nowait(data)

    return receive


_finishing: set[asyncio.Future[None]] = set()  # tasks finishing a send that had to wait


def send_now(sending: Awaitable[Any]) -> None:
    """Run an ASGI ``send`` coroutine to its end now if it never waits (daphne's does not).

    If it waits (a server applying back-pressure), a task finishes it.
    """
    if not inspect.iscoroutine(sending):
        task = asyncio.ensure_future(sending)
    else:
        try:
            waiting = sending.send(None)
        except StopIteration:
            return
        task = asyncio.ensure_future(_finish(sending, waiting))
    _finishing.add(task)
    task.add_done_callback(_finished)


def _finished(task: asyncio.Future[None]) -> None:
    """A send finished by a task ended: its failure is said here (nobody awaits it)."""
    _finishing.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if isinstance(exc, OSError):  # the client went away while the send waited
        logger.debug("fan-out: a send ended with its client gone (%r)", exc)
    elif exc is not None:
        logger.error("fan-out: a send failed", exc_info=exc)


async def _finish(coroutine: Coroutine[Any, Any, Any], waiting: Any) -> None:
    while True:
        try:
            if waiting is None:  # a bare yield (asyncio.sleep(0)): one turn of the loop
                await asyncio.sleep(0)
            else:
                # what a task does with a future its coroutine yields: take the "blocking"
                # mark off (awaiting a pending future that has it raises), then wait for it
                waiting._asyncio_future_blocking = False
                await waiting
        except BaseException as exc:  # what it waited for failed: the coroutine decides
            try:
                waiting = coroutine.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting = coroutine.send(None)
        except StopIteration:
            return
