"""The assembler: each ``SignalConnection`` becomes its own named Celery task.

Run once by ``apps.ready()`` (and for each later declaration, through
``SignalRegistry.on_add``); nothing on the send path imports it.  Tasks are
registered with ``shared_task`` so they belong to whatever app
``celery -A proj`` loads, without the project listing them.  Their names,
queues and options are decided in ``routing``.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from celery.signals import task_prerun

from dfws_celery import metrics
from dfws_celery.errors import SignalError
from dfws_celery.executor import run_from_message
from dfws_celery.registry import REGISTRY, SignalConnection
from dfws_celery.relay import (
    REFUSALS,
    Refusal,
    encode_result,
    send_encoded_result,
    send_error,
    send_result,
)
from dfws_celery.routing import task_class_options
from dfws_celery.wire import WindowInfoValues

# where a running task keeps its window key, out of the arguments Celery stores
logger = logging.getLogger("dfws.signals")
KEY_ATTR = "dfws_window_key"
ANSWERED_ATTR = "dfws_answered"  # the task body sent the result itself


class SignalTask(Task):  # type: ignore[type-arg]
    """Base class of compiled handler tasks; answers browser calls (see ``relay``).

    The window key travels in the task message (the handler may answer that
    window) but is never stored with the task's result: :func:`hide_window_key`
    gives the request keyless copies of the arguments before Celery stores
    anything (``STARTED`` included), whatever the result backend and
    ``result_extended``; the handler and the answer get the arguments as sent,
    and a retry puts the key back into its message; ``on_failure``, which
    Celery calls with the request's arguments, puts it back for the answer.

    A browser call the worker refuses (permission, arguments) returns a
    :class:`~dfws_celery.relay.Refusal`: the task succeeds, ``on_success``
    answers with the error frame.  Refusing a server trigger's arguments is
    a bug of the code that triggered, and still fails the task.
    """

    # expected failures: recorded as FAILURE, but not logged as worker errors
    throws = (SignalError,)
    serializer = "json"
    typing = False

    def on_success(self, retval: Any, task_id: str, args: Any, kwargs: Any) -> None:
        call_id, window_info = _browser_call(args, kwargs)
        if call_id is None or getattr(self.request, ANSWERED_ATTR, False):
            return
        if isinstance(retval, Refusal):
            send_error(window_info, call_id, self.name, retval.error)
        else:
            send_result(window_info, call_id, self.name, retval)

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        # Celery passes the request's (keyless) arguments here
        call_id, window_info = _browser_call(args, kwargs)
        key = getattr(self.request, KEY_ATTR, None)
        if call_id is not None and key is not None:
            window_info = {**(window_info or {}), "window_key": key}
        if call_id is not None:
            retries = getattr(self.request, "retries", 0) or 0
            send_error(window_info, call_id, self.name, exc, retries)

    def retry(self, args: Any = None, kwargs: Any = None, *rest: Any, **options: Any) -> Any:
        key = getattr(self.request, KEY_ATTR, None)
        if key is not None:  # the retry's message carries the key again
            args = list((self.request.args or ()) if args is None else args)
            kwargs = dict((self.request.kwargs or {}) if kwargs is None else kwargs)
            _put_window_values(args, kwargs, key)
        return super().retry(args, kwargs, *rest, **options)


def _browser_call(args: Any, kwargs: Any) -> tuple[str | None, Any]:
    """``(call_id, window_info)`` of a task message sent for a browser call."""
    kwargs = kwargs or {}
    if not kwargs.get("from_client") or not kwargs.get("call_id"):
        return None, None
    return kwargs["call_id"], _window_values(args, kwargs)


def _window_values(args: Any, kwargs: Any) -> dict[str, Any] | None:
    values = args[0] if args else (kwargs or {}).get("window_info")
    return values if isinstance(values, dict) else None


def _put_window_values(args: list[Any], kwargs: dict[str, Any], key: str | None) -> None:
    """A copy of the window dict in ``args``/``kwargs``, with ``key`` or without any key."""
    values = dict(_window_values(args, kwargs) or {})
    values.pop("window_key", None)
    if key is not None:
        values["window_key"] = key
    if args:
        args[0] = values
    else:
        kwargs["window_info"] = values


def hide_window_key(task: Any = None, args: Any = None, kwargs: Any = None, **_: Any) -> None:
    """``task_prerun``: the request of a handler task keeps its arguments without the key.

    Celery stores the request's arguments with every state (``STARTED``,
    ``RETRY``, the result) when ``result_extended`` is on; the handler runs
    with the arguments as sent, which are other objects.
    """
    if not isinstance(task, SignalTask):
        return
    values = _window_values(args, kwargs)
    if values is None or values.get("window_key") is None:
        return
    request = task.request
    setattr(request, KEY_ATTR, values["window_key"])
    request.args, request.kwargs = list(args or ()), dict(kwargs or {})
    _put_window_values(request.args, request.kwargs, None)


def time_queue_wait(task: Any = None, **_: Any) -> None:
    """``task_prerun``: how long a handler task's message waited (``metrics.queue_wait``).

    Not for a message that waited on purpose: a countdown or eta, a retry.
    """
    if not isinstance(task, SignalTask):
        return
    request = task.request
    if request.eta is not None or request.retries:
        return
    connection = REGISTRY.by_task_name.get(task.name)
    if connection is not None:
        metrics.task_started(connection.path, request.headers)


def compile_connection(connection: SignalConnection) -> None:
    """Register ``connection``'s task on every Celery app (idempotent)."""
    if connection.task is not None:
        return

    def run(
        task: Task,  # type: ignore[type-arg]
        window_info: WindowInfoValues | None = None,
        kwargs: dict[str, Any] | str | None = None,
        from_client: bool = False,
        call_id: str | None = None,
    ) -> Any:
        try:
            result = run_from_message(connection, window_info, kwargs, from_client, call_id)
        except REFUSALS as exc:
            if not from_client:
                raise
            metrics.refused(exc.type)
            return Refusal(exc)
        if call_id is not None:
            encoded = encode_result(connection.task_name, result)  # fail the task, not the relay
            # answered now: the reply does not wait for Celery's bookkeeping of the success
            # (the result backend, the signals); on_success answers if this could not
            try:
                send_encoded_result(window_info, call_id, connection.task_name, encoded)
            except Exception:
                logger.debug("%s: the result will be sent by on_success", task.name, exc_info=True)
            else:
                setattr(task.request, ANSWERED_ATTR, True)
        return result

    run.__name__ = connection.function.__name__
    run.__qualname__ = connection.function.__qualname__
    run.__module__ = connection.function.__module__
    run.__doc__ = connection.function.__doc__
    task = shared_task(  # type: ignore[no-untyped-call]
        name=connection.task_name, bind=True, base=SignalTask, **task_class_options(connection)
    )(run)
    object.__setattr__(connection, "task", task)


def compile_all() -> None:
    """Compile every declared handler; later declarations compile as they come."""
    task_prerun.connect(hide_window_key, weak=False, dispatch_uid="dfws_hide_window_key")
    task_prerun.connect(time_queue_wait, weak=False, dispatch_uid="dfws_time_queue_wait")
    for connection in REGISTRY.all():
        compile_connection(connection)
    REGISTRY.on_add = compile_connection
