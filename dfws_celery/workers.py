"""Execution backends for server handlers (``WEBSOCKET_WORKERS``).

``celery`` (default) sends one task message per handler to its routed
queue.  ``thread`` and ``process`` run the same compiled handler body in
pools per queue (sized by ``WEBSOCKET_POOL_SIZES``, default 10) inside the
calling process; ``channels`` sends it to a channel named after the queue,
consumed by ``python manage.py runworker <queue>``.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channels.consumer import SyncConsumer

from dfws_celery import testing_hooks
from dfws_celery.compiler import message_options
from dfws_celery.conf import dfws_settings
from dfws_celery.executor import run_from_message
from dfws_celery.publisher import channel_layer, warm_loop
from dfws_celery.registry import REGISTRY, SignalConnection
from dfws_celery.relay import run_and_relay

logger = logging.getLogger("dfws.signals")
CHANNELS_MESSAGE_TYPE = "dfws.execute"
DEFAULT_POOL_SIZE = 10


@dataclass(frozen=True)
class Delivery:
    """When a server handler should run (Celery only)."""

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


def enqueue(
    connection: SignalConnection,
    queue: str,
    window_info: dict[str, Any],
    kwargs: str,
    *,
    from_client: bool = False,
    call_id: str | None = None,
    delivery: Delivery = NOW,
) -> None:
    """Have ``connection``'s handler run on ``queue`` by the configured backend."""
    if testing_hooks.capture_task(connection, queue, window_info, kwargs, from_client):
        return
    mode = dfws_settings.workers
    if mode != "celery" and not delivery.empty:
        raise ValueError(
            f"countdown/eta/expires for dfws signal {connection.path!r} need "
            f"WEBSOCKET_WORKERS = 'celery' (currently {mode!r})"
        )
    if mode == "celery":
        task_kwargs: dict[str, Any] = {}
        if from_client:
            task_kwargs = {"from_client": True, "call_id": call_id}
        connection.task.apply_async(
            (window_info, kwargs),
            task_kwargs,
            queue=queue,
            argsrepr=args_repr(window_info, kwargs),
            kwargsrepr=repr(task_kwargs),
            **delivery.celery_options(),
            **message_options(connection),
        )
    elif mode == "channels":
        message = {
            "type": CHANNELS_MESSAGE_TYPE,
            "task_name": connection.task_name,
            "window_info": window_info,
            "kwargs": kwargs,
            "from_client": from_client,
            "call_id": call_id,
        }
        warm_loop.run(channel_layer().send(queue, message))
    else:
        future = _pool(mode, queue).submit(
            _run_by_name, connection.task_name, window_info, kwargs, from_client, call_id
        )
        future.add_done_callback(_log_failure)


REPR_LIMIT = 1024  # Celery's own argsrepr_maxsize


def args_repr(window_info: dict[str, Any], kwargs: str) -> str:
    """What Flower and the worker's log show as a handler task's arguments.

    The handler's arguments (the JSON text) and who called, instead of
    Celery's ``saferepr`` of the whole window dict — which is also a quarter
    of the CPU of an ``apply_async``.
    """
    who = " ".join(
        f"{name}={window_info[name]}"
        for name in ("window_key", "username")
        if window_info.get(name)
    )
    text = f"(<window {who}>, {kwargs})" if who else f"(<window>, {kwargs})"
    return text if len(text) <= REPR_LIMIT else text[: REPR_LIMIT - 3] + "..."


def _run_by_name(
    task_name: str,
    window_info: dict[str, Any],
    kwargs: str,
    from_client: bool,
    call_id: str | None,
) -> Any:
    connection = REGISTRY.by_task_name[task_name]
    if call_id is None:
        return run_from_message(connection, window_info, kwargs, from_client, call_id)
    return run_and_relay(connection, window_info, kwargs, from_client, call_id)


def _log_failure(future: Future[Any]) -> None:
    exc = future.exception()
    if exc is not None:
        logger.error("dfws handler failed: %r", exc, exc_info=exc)


_pools: dict[tuple[str, str], Executor] = {}


def _pool(mode: str, queue: str) -> Executor:
    pool = _pools.get((mode, queue))
    if pool is None:
        size = dfws_settings.pool_sizes.get(queue, DEFAULT_POOL_SIZE)
        if mode == "thread":
            pool = ThreadPoolExecutor(size, thread_name_prefix=f"dfws-{queue}")
        else:  # children inherit the configured Django and the registry
            pool = ProcessPoolExecutor(size, mp_context=multiprocessing.get_context("fork"))
        _pools[(mode, queue)] = pool
    return pool


class SignalWorkerConsumer(SyncConsumer):
    """Runs handlers sent to a queue channel (``WEBSOCKET_WORKERS = "channels"``)."""

    def dfws_execute(self, message: dict[str, Any]) -> None:
        try:
            _run_by_name(
                message["task_name"],
                message["window_info"],
                message["kwargs"],
                message.get("from_client", False),
                message.get("call_id"),
            )
        except Exception:  # the worker keeps serving the queue; the failure is logged
            logger.exception("dfws handler %s failed", message.get("task_name"))
