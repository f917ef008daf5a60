"""``trigger()``: run a dfws signal's handlers and send it to browser topics.

The arguments are encoded once with ``WEBSOCKET_SIGNAL_ENCODER``; the same
text goes into every task message and every browser frame.

Inside ``transaction.atomic()`` (of the default database) the task messages
and the frames wait for the commit and are dropped on rollback
(``WEBSOCKET_TRIGGER_ON_COMMIT``, ``on_commit=False``): a worker must not run
before the rows it reads exist.  The plan — who the source is, the topics,
the encoded arguments — is made at once, so an argument that cannot be
encoded still raises where ``trigger()`` is called.  ``SYNC`` handlers run
at once, as their name says.

An unreachable broker or channel layer raises :class:`PublishError` (the
library's exception chained), or with ``fail_silently=True`` is logged —
once, then counted (``outages.OutageLog``).  A send that waited for a commit
never raises: the transaction is committed and Django's other ``on_commit``
callbacks must still run, so its failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest

from dfws_celery import backends
from dfws_celery.backends import Backend, Delivery, Publication
from dfws_celery.conf import dfws_settings
from dfws_celery.errors import PublishError
from dfws_celery.executor import run_handler
from dfws_celery.outages import OUTAGE_ERRORS, OutageLog
from dfws_celery.queue_watch import watch
from dfws_celery.registry import REGISTRY
from dfws_celery.routing import queue_for
from dfws_celery.targets import SERVER, SYNC, USER
from dfws_celery.topics import group_name
from dfws_celery.window_info import WindowInfo

logger = logging.getLogger("dfws.signals")
outages = OutageLog(logger)
Source = WindowInfo | HttpRequest | None


def trigger(
    source: Source,
    path: str,
    to: Any = None,
    *,
    on_commit: bool | None = None,
    fail_silently: bool = False,
    **kwargs: Any,
) -> None:
    """Send the dfws signal ``path`` with ``kwargs`` to the targets ``to`` (default ``USER``).

    ``on_commit`` (default ``WEBSOCKET_TRIGGER_ON_COMMIT``, true): inside an
    atomic block, send when it commits, nothing on rollback.  ``PublishError``
    when the broker or the channel layer is unreachable, unless
    ``fail_silently`` (then logged).
    """
    trigger_signal(
        source, path, to=to, kwargs=kwargs, on_commit=on_commit, fail_silently=fail_silently
    )


def trigger_signal(
    source: Source,
    path: str,
    to: Any = None,
    kwargs: dict[str, Any] | None = None,
    countdown: float | None = None,
    expires: float | datetime | None = None,
    eta: datetime | None = None,
    *,
    on_commit: bool | None = None,
    fail_silently: bool = False,
) -> None:
    """Like :func:`trigger`, with Celery's ``countdown``, ``expires`` and ``eta``."""
    plan = _plan(source, path, to, kwargs, Delivery(countdown, eta, expires))
    backend = backends.current()
    plan.run_sync()
    if not plan.sends:
        return
    connection = _atomic_connection(on_commit)
    if connection is None:
        _send(plan, backend, fail_silently)
    else:  # robust by itself: never raises once the transaction is committed
        connection.on_commit(lambda: _send(plan, backend, fail_silently=True))


def _atomic_connection(on_commit: bool | None) -> BaseDatabaseWrapper | None:
    """The default database's connection when the send must wait for its commit."""
    if on_commit is False or (on_commit is None and not dfws_settings.trigger_on_commit):
        return None
    connection = transaction.get_connection()
    return connection if connection.in_atomic_block else None


def _send(plan: TriggerPlan, backend: Backend, fail_silently: bool) -> None:
    path = plan.publication.path
    try:
        plan.enqueue(backend)
        if plan.publication.groups:
            if plan.delivery.delayed:
                backend.publish_later(plan.publication, plan.delivery)
            else:
                backend.publish(plan.publication)
    except OUTAGE_ERRORS as exc:
        if not fail_silently:
            raise PublishError(path, exc) from exc
        outages.failed("publish", f"dfws signal {path!r} was not sent", exc)
        return
    outages.ok("publish")


async def atrigger(
    source: Source,
    path: str,
    to: Any = None,
    *,
    on_commit: bool | None = None,
    fail_silently: bool = False,
    **kwargs: Any,
) -> None:
    """:func:`trigger` for async code."""
    await atrigger_signal(
        source, path, to=to, kwargs=kwargs, on_commit=on_commit, fail_silently=fail_silently
    )


async def atrigger_signal(
    source: Source,
    path: str,
    to: Any = None,
    kwargs: dict[str, Any] | None = None,
    countdown: float | None = None,
    expires: float | datetime | None = None,
    eta: datetime | None = None,
    *,
    on_commit: bool | None = None,
    fail_silently: bool = False,
) -> None:
    """:func:`trigger_signal` for async code: publishing is awaited on the caller's loop.

    Building the plan (it may read the request's user) and enqueueing
    (Celery's publish is blocking I/O) run in a thread so that the event
    loop keeps serving other connections.  ``on_commit`` is accepted for
    symmetry: Django's atomic blocks are sync-only, so async code is never
    inside one and the signal is sent at once.
    """
    plan = await sync_to_async(_plan, thread_sensitive=False)(
        source, path, to, kwargs, Delivery(countdown, eta, expires)
    )
    backend = backends.current()
    if plan.sync:
        await sync_to_async(plan.run_sync, thread_sensitive=False)()
    try:
        if plan.to_server:
            await sync_to_async(plan.enqueue, thread_sensitive=False)(backend)
        if plan.publication.groups:
            if plan.delivery.delayed:
                await sync_to_async(backend.publish_later, thread_sensitive=False)(
                    plan.publication, plan.delivery
                )
            else:
                await backend.apublish(plan.publication)
    except OUTAGE_ERRORS as exc:
        if not fail_silently:
            raise PublishError(path, exc) from exc
        outages.failed("publish", f"dfws signal {path!r} was not sent", exc)
        return
    outages.ok("publish")


class TriggerPlan:
    """What one trigger call does: handlers to run, and the publication to topics."""

    def __init__(self, window_info: WindowInfo, publication: Publication, delivery: Delivery):
        self.window_info = window_info
        self.publication = publication
        self.delivery = delivery
        self.to_server = False
        self.sync = False

    @property
    def sends(self) -> bool:
        """Whether anything leaves this process: task messages or frames."""
        return self.to_server or bool(self.publication.groups)

    def handlers(self) -> list[Any]:
        path = self.publication.path
        connections = REGISTRY.get(path)
        if not connections:
            logger.debug("dfws signal %r has no Python handler: nothing to run", path)
        return connections

    def run_sync(self) -> None:
        """``SYNC``: the handlers, here and now."""
        if self.sync:
            for connection in self.handlers():
                run_handler(connection, self.window_info, dict(self.publication.kwargs))

    def enqueue(self, backend: Backend) -> None:
        """``SERVER``: one task message (or pool job) per handler, on its queue."""
        if not self.to_server:
            return
        connections = self.handlers()
        kwargs = self.publication.kwargs
        if connections:
            info = self.window_info.to_dict()
            for connection in connections:
                queue = queue_for(connection, self.window_info, kwargs)
                backend.enqueue(
                    connection, queue, info, self.publication.encoded, delivery=self.delivery
                )
                watch.warn(queue, self.publication.path)


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
