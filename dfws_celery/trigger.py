"""``trigger()``: run a dfws signal's handlers and send it to browser topics.

The arguments are encoded once with ``WEBSOCKET_SIGNAL_ENCODER``; the same
text goes into every task message and every browser frame.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.http import HttpRequest

from dfws_celery import testing_hooks
from dfws_celery.compiler import static_queue
from dfws_celery.conf import dfws_settings
from dfws_celery.executor import run_handler
from dfws_celery.publisher import apublish, publish
from dfws_celery.queues import DynamicQueue
from dfws_celery.registry import REGISTRY, SignalConnection
from dfws_celery.targets import SERVER, SYNC, USER
from dfws_celery.topics import group_name
from dfws_celery.window_info import WindowInfo
from dfws_celery.workers import Delivery, enqueue

logger = logging.getLogger("dfws.signals")
Source = WindowInfo | HttpRequest | None


def trigger(source: Source, path: str, to: Any = None, **kwargs: Any) -> None:
    """Send the dfws signal ``path`` with ``kwargs`` to the targets ``to`` (default ``USER``)."""
    trigger_signal(source, path, to=to, kwargs=kwargs)


def trigger_signal(
    source: Source,
    path: str,
    to: Any = None,
    kwargs: dict[str, Any] | None = None,
    countdown: float | None = None,
    expires: float | datetime | None = None,
    eta: datetime | None = None,
) -> None:
    """Like :func:`trigger`, with Celery's ``countdown``, ``expires`` and ``eta``."""
    plan = _plan(source, path, to, kwargs, Delivery(countdown, eta, expires))
    plan.run_python()
    if plan.groups:
        if plan.delivery.delayed:
            plan.schedule_publish()
        elif not testing_hooks.capture_frame(plan):
            publish(plan.groups, plan.frame())


async def atrigger(source: Source, path: str, to: Any = None, **kwargs: Any) -> None:
    """:func:`trigger` for async code."""
    await atrigger_signal(source, path, to=to, kwargs=kwargs)


async def atrigger_signal(
    source: Source,
    path: str,
    to: Any = None,
    kwargs: dict[str, Any] | None = None,
    countdown: float | None = None,
    expires: float | datetime | None = None,
    eta: datetime | None = None,
) -> None:
    """:func:`trigger_signal` for async code: publishing is awaited on the caller's loop.

    Building the plan (it may read the request's user) and enqueueing
    (Celery's publish is blocking I/O) run in a thread so that the event
    loop keeps serving other connections.
    """
    from asgiref.sync import sync_to_async

    plan = await sync_to_async(_plan, thread_sensitive=False)(
        source, path, to, kwargs, Delivery(countdown, eta, expires)
    )
    if plan.has_python:
        await sync_to_async(plan.run_python, thread_sensitive=False)()
    if plan.groups:
        if plan.delivery.delayed:
            await sync_to_async(plan.schedule_publish, thread_sensitive=False)()
        elif not testing_hooks.capture_frame(plan):
            await apublish(plan.groups, plan.frame())


class TriggerPlan:
    """What one trigger call does: handlers to run, groups to reach, the encoded text."""

    def __init__(
        self,
        window_info: WindowInfo,
        path: str,
        kwargs: dict[str, Any],
        encoded: str,
        delivery: Delivery,
    ) -> None:
        self.window_info = window_info
        self.path = path
        self.kwargs = kwargs
        self.encoded = encoded
        self.delivery = delivery
        self.to_server = False
        self.sync = False
        self.topics: list[str] = []
        self.groups: list[str] = []

    @property
    def has_python(self) -> bool:
        return self.to_server or self.sync

    def frame(self) -> str:
        return (
            f'{{"signal":{json.dumps(self.path)},"opts":{self.encoded},'
            f'"signal_id":"{uuid.uuid4().hex}"}}'
        )

    def run_python(self) -> None:
        connections = REGISTRY.get(self.path)
        if self.has_python and not connections:
            logger.debug("dfws signal %r has no Python handler: nothing to run", self.path)
        if self.sync:
            for connection in connections:
                run_handler(connection, self.window_info, dict(self.kwargs))
        if self.to_server and connections:
            info = self.window_info.to_dict()
            for connection in connections:
                queue = queue_for(connection, self.window_info, self.kwargs)
                enqueue(connection, queue, info, self.encoded, delivery=self.delivery)

    def schedule_publish(self) -> None:
        from dfws_celery.celery_app import get_celery_app

        if testing_hooks.capture_frame(self):
            return
        if dfws_settings.workers != "celery":
            raise ValueError(
                f"countdown/eta for dfws signal {self.path!r} to browsers need "
                f"WEBSOCKET_WORKERS = 'celery' (currently {dfws_settings.workers!r})"
            )
        get_celery_app().send_task(
            "dfws.publish",
            (self.groups, self.frame()),
            queue=dfws_settings.default_queue,
            serializer="json",
            **self.delivery.celery_options(),
        )


def queue_for(connection: SignalConnection, window_info: WindowInfo, kwargs: dict[str, Any]) -> str:
    queue = static_queue(connection)
    if queue is None:
        assert isinstance(connection.queue, DynamicQueue)
        queue = connection.queue(window_info, kwargs)
    return queue


def _plan(
    source: Source,
    path: str,
    to: Any,
    kwargs: dict[str, Any] | None,
    delivery: Delivery,
) -> TriggerPlan:
    window_info = WindowInfo.new(source)
    kwargs = kwargs or {}
    plan = TriggerPlan(window_info, path, kwargs, encode_kwargs(path, kwargs), delivery)
    serializer = dfws_settings.topic_serializer
    targets = [USER] if to is None else to
    if isinstance(targets, str) or not isinstance(targets, Iterable):
        targets = [targets]
    seen: set[str] = set()
    for target in targets:
        if target is SERVER:
            plan.to_server = True
        elif target is SYNC:
            plan.sync = True
        else:
            topic = serializer(window_info, target)
            if topic is not None and topic not in seen:
                seen.add(topic)
                plan.topics.append(topic)
    plan.groups = [group_name(topic) for topic in plan.topics]
    return plan


def encode_kwargs(path: str, kwargs: dict[str, Any]) -> str:
    """Encode once; name the offending key when the encoder refuses a value."""
    try:
        return dfws_settings.encode(kwargs)
    except (TypeError, ValueError) as exc:
        for key, value in kwargs.items():
            try:
                dfws_settings.encode(value)
            except (TypeError, ValueError):
                raise TypeError(
                    f"dfws signal {path!r}: argument {key!r} = {value!r} cannot be encoded "
                    f"by WEBSOCKET_SIGNAL_ENCODER: {exc}"
                ) from exc
        raise TypeError(f"dfws signal {path!r}: arguments cannot be encoded: {exc}") from exc
