"""Where server handlers run (``WEBSOCKET_WORKERS``), behind one ``Backend`` protocol.

* ``celery`` (default): one task message per handler, on its routed queue.
* ``thread`` / ``process``: the same compiled handler body in pools per
  queue (sized by ``WEBSOCKET_POOL_SIZES``, default 10) inside the calling
  process.
* ``channels``: a message to a channel named after the queue, consumed by
  ``python manage.py runworker <queue>`` (:class:`SignalWorkerConsumer`).
* ``testing.SignalQueue`` records instead of sending: it installs itself
  with :func:`use` for the length of a ``with`` block.

A backend also publishes the frames of a trigger to browser topics, so a
recording backend captures those too and the send path never asks whether
it is being recorded.  The backend is chosen from settings on first use
(again after ``override_settings``).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from channels.consumer import SyncConsumer
from django.core.exceptions import ImproperlyConfigured

from dfws_celery import metrics
from dfws_celery.celery_app import get_celery_app
from dfws_celery.conf import dfws_settings
from dfws_celery.executor import run_and_answer, run_from_message
from dfws_celery.publisher import apublish, channel_layer, publish, warm_loop
from dfws_celery.registry import REGISTRY, SignalConnection
from dfws_celery.routing import message_options
from dfws_celery.wire import (
    ExecuteMessage,
    TaskKwargs,
    WindowInfoValues,
    signal_frame,
)

logger = logging.getLogger("dfws.signals")
DEFAULT_POOL_SIZE = 10
REPR_LIMIT = 1024  # Celery's own argsrepr_maxsize


@dataclass(frozen=True)
class Delivery:
    """When a server handler or a browser frame should go out (Celery only)."""

    countdown: float | None = None
    eta: datetime | None = None
    expires: float | datetime | None = None

    @property
    def delayed(self) -> bool:
        return self.countdown is not None or self.eta is not None

    @property
    def empty(self) -> bool:
        return self.countdown is None and self.eta is None and self.expires is None

    def celery_options(self) -> dict[str, Any]:
        options = {"countdown": self.countdown, "eta": self.eta, "expires": self.expires}
        return {k: v for k, v in options.items() if v is not None}


NOW = Delivery()


@dataclass
class Publication:
    """One trigger's signal to browser topics: the arguments encoded once."""

    path: str
    kwargs: dict[str, Any]
    encoded: str
    topics: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def frame(self) -> str:
        return signal_frame(self.path, self.encoded, uuid.uuid4().hex)


class Backend(Protocol):
    """Runs handlers and publishes frames; see the module docstring for the kinds."""

    name: str

    def enqueue(
        self,
        connection: SignalConnection,
        queue: str,
        window_info: WindowInfoValues,
        kwargs: str,
        *,
        from_client: bool = False,
        call_id: str | None = None,
        delivery: Delivery = NOW,
    ) -> None:
        """Have ``connection``'s handler run on ``queue`` with ``kwargs`` (JSON text)."""

    def publish(self, publication: Publication) -> None:
        """Send ``publication`` to its groups now."""

    async def apublish(self, publication: Publication) -> None:
        """:meth:`publish` on the caller's event loop."""

    def publish_later(self, publication: Publication, delivery: Delivery) -> None:
        """Send ``publication`` when ``delivery`` says."""


class LayerBackend:
    """What every real backend shares: frames go to the channel layer."""

    name = "layer"

    def publish(self, publication: Publication) -> None:
        publish(publication.groups, publication.frame())

    async def apublish(self, publication: Publication) -> None:
        await apublish(publication.groups, publication.frame())

    def publish_later(self, publication: Publication, delivery: Delivery) -> None:
        raise ImproperlyConfigured(
            f"countdown/eta for dfws signal {publication.path!r} to browsers need "
            f"WEBSOCKET_WORKERS = 'celery' (currently {self.name!r})"
        )

    def check_delivery(self, connection: SignalConnection, delivery: Delivery) -> None:
        if not delivery.empty:
            raise ImproperlyConfigured(
                f"countdown/eta/expires for dfws signal {connection.path!r} need "
                f"WEBSOCKET_WORKERS = 'celery' (currently {self.name!r})"
            )


class CeleryBackend(LayerBackend):
    name = "celery"

    def enqueue(
        self,
        connection: SignalConnection,
        queue: str,
        window_info: WindowInfoValues,
        kwargs: str,
        *,
        from_client: bool = False,
        call_id: str | None = None,
        delivery: Delivery = NOW,
    ) -> None:
        task_kwargs: TaskKwargs = {}
        if from_client:
            task_kwargs = {"from_client": True, "call_id": call_id}
        sent = metrics.sent_headers()  # the send time, for the worker's queue wait
        connection.task.apply_async(
            (window_info, kwargs),
            task_kwargs,
            queue=queue,
            argsrepr=args_repr(window_info, kwargs),
            kwargsrepr=repr(task_kwargs),
            **({"headers": sent} if sent is not None else {}),
            **delivery.celery_options(),
            **message_options(connection),
        )

    def publish_later(self, publication: Publication, delivery: Delivery) -> None:
        get_celery_app().send_task(
            "dfws.publish",
            (publication.groups, publication.frame()),
            queue=dfws_settings.default_queue,
            serializer="json",
            **delivery.celery_options(),
        )


class PoolBackend(LayerBackend):
    """``thread`` or ``process``: pools per queue in this process."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._pools: dict[str, Executor] = {}
        self._lock = threading.Lock()

    def enqueue(
        self,
        connection: SignalConnection,
        queue: str,
        window_info: WindowInfoValues,
        kwargs: str,
        *,
        from_client: bool = False,
        call_id: str | None = None,
        delivery: Delivery = NOW,
    ) -> None:
        self.check_delivery(connection, delivery)
        future = self._pool(queue).submit(
            run_by_name, connection.task_name, window_info, kwargs, from_client, call_id
        )
        future.add_done_callback(_log_failure)

    def _pool(self, queue: str) -> Executor:
        pool = self._pools.get(queue)
        if pool is None:
            with self._lock:
                pool = self._pools.get(queue)
                if pool is None:
                    pool = self._pools[queue] = self._new_pool(queue)
        return pool

    def _new_pool(self, queue: str) -> Executor:
        size = dfws_settings.pool_sizes.get(queue, DEFAULT_POOL_SIZE)
        if self.name == "thread":
            return ThreadPoolExecutor(size, thread_name_prefix=f"dfws-{queue}")
        # children inherit the configured Django and the registry
        return ProcessPoolExecutor(size, mp_context=multiprocessing.get_context("fork"))


class ChannelsBackend(LayerBackend):
    """Handlers run by ``manage.py runworker <queue>`` (needs the list-based layer)."""

    name = "channels"

    def enqueue(
        self,
        connection: SignalConnection,
        queue: str,
        window_info: WindowInfoValues,
        kwargs: str,
        *,
        from_client: bool = False,
        call_id: str | None = None,
        delivery: Delivery = NOW,
    ) -> None:
        self.check_delivery(connection, delivery)
        message: ExecuteMessage = {
            "type": "dfws.execute",
            "task_name": connection.task_name,
            "window_info": window_info,
            "kwargs": kwargs,
            "from_client": from_client,
            "call_id": call_id,
        }
        warm_loop.run(channel_layer().send(queue, dict(message)))


def args_repr(window_info: WindowInfoValues, kwargs: str) -> str:
    """What Flower, the worker's log and stored results show as a handler task's arguments.

    The handler's arguments (the JSON text) and who called, instead of
    Celery's ``saferepr`` of the whole window dict — which is also a quarter
    of the CPU of an ``apply_async``.  Never the window key: whoever holds
    it can address that window, and this text is stored with the results
    (django-celery-results' ``task_args`` with ``CELERY_RESULT_EXTENDED``).
    """
    username = window_info.get("username")
    text = f"(<window username={username}>, {kwargs})" if username else f"(<window>, {kwargs})"
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."


def run_by_name(
    task_name: str,
    window_info: WindowInfoValues,
    kwargs: str,
    from_client: bool,
    call_id: str | None,
) -> Any:
    """Run a handler found by its task name; a browser call is answered (non-Celery modes)."""
    connection = REGISTRY.by_task_name[task_name]
    if call_id is None:
        return run_from_message(connection, window_info, kwargs, from_client, call_id)
    return run_and_answer(connection, window_info, kwargs, from_client, call_id)


def _log_failure(future: Future[Any]) -> None:
    exc = future.exception()
    if exc is not None:
        logger.error("dfws handler failed: %r", exc, exc_info=exc)


class SignalWorkerConsumer(SyncConsumer):
    """Runs handlers sent to a queue channel (``WEBSOCKET_WORKERS = "channels"``)."""

    def dfws_execute(self, message: ExecuteMessage) -> None:
        try:
            run_by_name(
                message["task_name"],
                message["window_info"],
                message["kwargs"],
                message.get("from_client", False),
                message.get("call_id"),
            )
        except Exception:  # the worker keeps serving the queue; the failure is logged
            logger.exception("dfws handler %s failed", message.get("task_name"))


# ---- which backend ----

_overrides: list[Backend] = []
_chosen: dict[str, Backend] = {}
_chosen_lock = threading.Lock()


def _build(mode: str) -> Backend:
    if mode == "celery":
        return CeleryBackend()
    if mode == "channels":
        return ChannelsBackend()
    return PoolBackend(mode)


def current() -> Backend:
    """The backend of this moment: an installed recorder, else the configured one."""
    if _overrides:
        return _overrides[-1]
    mode = dfws_settings.workers
    backend = _chosen.get(mode)
    if backend is None:
        with _chosen_lock:
            backend = _chosen.get(mode)
            if backend is None:
                backend = _chosen[mode] = _build(mode)
    return backend


def install(backend: Backend) -> None:
    """Make ``backend`` the current one until :func:`uninstall` (``SignalQueue`` does)."""
    _overrides.append(backend)


def uninstall(backend: Backend) -> None:
    _overrides.remove(backend)


@contextmanager
def use(backend: Backend) -> Iterator[Backend]:
    install(backend)
    try:
        yield backend
    finally:
        uninstall(backend)
