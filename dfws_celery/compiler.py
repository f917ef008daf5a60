"""Compile each ``SignalConnection`` into its own named Celery task, and route it.

Tasks are registered with ``shared_task`` so they belong to whatever app
``celery -A proj`` loads, without the project listing them.  Routing is a
router callable with Celery's signature, appended after the project's own
``task_routes`` (which therefore win); static queues also travel with every
message we send, and dynamic queues are chosen per call.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from celery.app.base import Celery

from dfws_celery.conf import dfws_settings
from dfws_celery.errors import SignalError
from dfws_celery.executor import run_from_message
from dfws_celery.queues import DynamicQueue
from dfws_celery.registry import REGISTRY, SignalConnection
from dfws_celery.relay import encode_result, send_error, send_result

INTERNAL_TASKS = ("dfws.publish", "dfws.trigger")
MESSAGE_OPTIONS = frozenset({"priority"})


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
        window_info: dict[str, Any] | None = None,
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
    # Celery deprecates the task attribute `priority`: it travels with messages instead
    options = {k: v for k, v in connection.task_options.items() if k not in MESSAGE_OPTIONS}
    task = shared_task(  # type: ignore[no-untyped-call]
        name=connection.task_name, bind=True, base=SignalTask, **options
    )(run)
    object.__setattr__(connection, "task", task)


def compile_all() -> None:
    """Compile every declared handler; later declarations compile as they come."""
    from dfws_celery import builtin_tasks

    builtin_tasks.register()
    for connection in REGISTRY.all():
        compile_connection(connection)
    REGISTRY.on_add = compile_connection


def static_queue(connection: SignalConnection) -> str | None:
    if isinstance(connection.queue, DynamicQueue):
        return None
    return connection.queue or dfws_settings.default_queue


def route_task(
    name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any
) -> dict[str, str] | None:
    """Celery router: the declared queue of a dfws task (``None`` for other tasks)."""
    if name in INTERNAL_TASKS:
        return {"queue": dfws_settings.default_queue}
    connection = REGISTRY.by_task_name.get(name)
    if connection is None:
        return None
    route = message_options(connection)
    queue = static_queue(connection)
    if queue is not None:
        route["queue"] = queue
    return route or None


def message_options(connection: SignalConnection) -> dict[str, Any]:
    """Options of ``connection`` that travel with each message (``priority``)."""
    return {k: v for k, v in connection.task_options.items() if k in MESSAGE_OPTIONS}


def install_router(app: Celery) -> None:
    """Append :func:`route_task` to ``app.conf.task_routes`` (once)."""
    routes = app.conf.task_routes
    if routes is None:
        routes = []
    elif isinstance(routes, dict | str) or callable(routes):
        routes = [routes]
    routes = list(routes)
    if route_task in routes or "dfws_celery.compiler.route_task" in routes:
        return
    app.conf.task_routes = [*routes, route_task]
    app.amqp.flush_routes()  # Celery caches the prepared table and the router
    app.amqp.__dict__.pop("router", None)


def declared_queues() -> list[str]:
    """Every queue a worker must consume for the declared handlers (``-Q``)."""
    default = dfws_settings.default_queue
    queues = {default}
    for connection in REGISTRY.all():
        queues |= connection.declared_queues(default)
    return sorted(queues, key=lambda q: (q != default, q))
