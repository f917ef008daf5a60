"""The assembler: each ``SignalConnection`` becomes its own named Celery task.

Run once by ``apps.ready()`` (and for each later declaration, through
``SignalRegistry.on_add``); nothing on the send path imports it.  Tasks are
registered with ``shared_task`` so they belong to whatever app
``celery -A proj`` loads, without the project listing them.  Their names,
queues and options are decided in ``routing``.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from dfws_celery.errors import SignalError
from dfws_celery.executor import run_from_message
from dfws_celery.registry import REGISTRY, SignalConnection
from dfws_celery.relay import encode_result, send_error, send_result
from dfws_celery.routing import task_class_options
from dfws_celery.wire import WindowInfoValues


class SignalTask(Task):  # type: ignore[type-arg]
    """Base class of compiled handler tasks; answers browser calls (see ``relay``)."""

    # expected failures: recorded as FAILURE, but not logged as worker errors
    throws = (SignalError,)
    serializer = "json"
    typing = False

    def on_success(self, retval: Any, task_id: str, args: Any, kwargs: Any) -> None:
        call_id, window_info = _browser_call(args, kwargs)
        if call_id is not None:
            send_result(window_info, call_id, self.name, retval)

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        call_id, window_info = _browser_call(args, kwargs)
        if call_id is not None:
            retries = getattr(self.request, "retries", 0) or 0
            send_error(window_info, call_id, self.name, exc, retries)


def _browser_call(args: Any, kwargs: Any) -> tuple[str | None, Any]:
    """``(call_id, window_info)`` of a task message sent for a browser call."""
    kwargs = kwargs or {}
    if not kwargs.get("from_client") or not kwargs.get("call_id"):
        return None, None
    window_info = args[0] if args else kwargs.get("window_info")
    return kwargs["call_id"], window_info


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
        result = run_from_message(connection, window_info, kwargs, from_client, call_id)
        if call_id is not None:
            encode_result(connection.task_name, result)  # fail the task, not the relay
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
    for connection in REGISTRY.all():
        compile_connection(connection)
    REGISTRY.on_add = compile_connection
