"""``trigger()``: run a dfws signal's handlers and send it to browser topics.

The arguments are encoded once with ``WEBSOCKET_SIGNAL_ENCODER``; the same
text goes into every task message and every browser frame.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest

from dfws_celery import backends
from dfws_celery.backends import Backend, Delivery, Publication
from dfws_celery.conf import dfws_settings
from dfws_celery.executor import run_handler
from dfws_celery.registry import REGISTRY
from dfws_celery.routing import queue_for
from dfws_celery.targets import SERVER, SYNC, USER
from dfws_celery.topics import group_name
from dfws_celery.window_info import WindowInfo

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
    backend = backends.current()
    plan.run_python(backend)
    if plan.publication.groups:
        if plan.delivery.delayed:
            backend.publish_later(plan.publication, plan.delivery)
        else:
            backend.publish(plan.publication)


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
    plan = await sync_to_async(_plan, thread_sensitive=False)(
        source, path, to, kwargs, Delivery(countdown, eta, expires)
    )
    backend = backends.current()
    if plan.has_python:
        await sync_to_async(plan.run_python, thread_sensitive=False)(backend)
    if plan.publication.groups:
        if plan.delivery.delayed:
            await sync_to_async(backend.publish_later, thread_sensitive=False)(
                plan.publication, plan.delivery
            )
        else:
            await backend.apublish(plan.publication)


class TriggerPlan:
    """What one trigger call does: handlers to run, and the publication to topics."""

    def __init__(self, window_info: WindowInfo, publication: Publication, delivery: Delivery):
        self.window_info = window_info
        self.publication = publication
        self.delivery = delivery
        self.to_server = False
        self.sync = False

    @property
    def has_python(self) -> bool:
        return self.to_server or self.sync

    def run_python(self, backend: Backend) -> None:
        path = self.publication.path
        connections = REGISTRY.get(path)
        if self.has_python and not connections:
            logger.debug("dfws signal %r has no Python handler: nothing to run", path)
        kwargs = self.publication.kwargs
        if self.sync:
            for connection in connections:
                run_handler(connection, self.window_info, dict(kwargs))
        if self.to_server and connections:
            info = self.window_info.to_dict()
            for connection in connections:
                queue = queue_for(connection, self.window_info, kwargs)
                backend.enqueue(
                    connection, queue, info, self.publication.encoded, delivery=self.delivery
                )


def _plan(
    source: Source,
    path: str,
    to: Any,
    kwargs: dict[str, Any] | None,
    delivery: Delivery,
) -> TriggerPlan:
    window_info = WindowInfo.new(source)
    kwargs = kwargs or {}
    publication = Publication(path, kwargs, encode_kwargs(path, kwargs))
    plan = TriggerPlan(window_info, publication, delivery)
    serializer = dfws_settings.topic_serializer
    targets = [USER] if to is None else to
    if isinstance(targets, str) or not isinstance(targets, Iterable):
        targets = [targets]
    topics = publication.topics
    for target in targets:
        if target is SERVER:
            plan.to_server = True
        elif target is SYNC:
            plan.sync = True
        else:
            topic = serializer(window_info, target)
            if topic is not None and topic not in topics:
                topics.append(topic)
    publication.groups = [group_name(topic) for topic in topics]
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
