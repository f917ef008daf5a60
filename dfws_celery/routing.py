"""Where a handler's task goes: its name, its queue, the options that travel with it.

This module is the one place that decides

* the **task name** of a handler (``name=`` or ``<path>:<module>.<qualname>``);
* its **queue**: a fixed name (default ``WEBSOCKET_DEFAULT_QUEUE``) known
  when the handler is declared, or a :class:`DynamicQueue` that chooses per
  call among the queues it declares;
* the **message options** (``priority``: Celery deprecates it as a task
  attribute) and the task options Celery's task class takes;
* the **router** appended to the project's ``task_routes`` (the project's own
  routes come first and win), and the queue list a worker must consume.

It reads declarations through the :class:`Routable` protocol and finds them
through a lookup function given to :func:`install_router`, so the registry
sits above it and nothing here imports the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from django.core.exceptions import ImproperlyConfigured

from dfws_celery._compat import reset_celery_router
from dfws_celery.conf import dfws_settings

if TYPE_CHECKING:
    from celery import Celery

    from dfws_celery.window_info import WindowInfo

INTERNAL_TASKS = ("dfws.publish", "dfws.trigger")
MESSAGE_OPTIONS = frozenset({"priority"})


class DynamicQueue:
    """Pick the queue of each call; ``queues`` lists every name it may return.

    ``@signal(queue=DynamicQueue(lambda wi, kwargs: "slow" if kwargs.get("big") else "celery",
    queues=["celery", "slow"]))``.  The declared set feeds ``dfws_queues``
    (the ``-Q`` list) and is checked on every call.
    """

    def __init__(
        self, choose: Callable[[WindowInfo, dict[str, Any]], str], queues: Iterable[str]
    ) -> None:
        self.choose = choose
        self.queues = frozenset(queues)
        if not self.queues:
            raise ImproperlyConfigured(
                "DynamicQueue needs the non-empty set of queues it may return"
            )

    def __call__(self, window_info: WindowInfo, kwargs: dict[str, Any]) -> str:
        queue = self.choose(window_info, kwargs)
        if queue not in self.queues:
            raise ImproperlyConfigured(
                f"DynamicQueue chose {queue!r}, which is not among its declared queues "
                f"{sorted(self.queues)}: add it to queues=[...] (workers consume only those)"
            )
        return queue

    def __repr__(self) -> str:
        return f"DynamicQueue({'|'.join(sorted(self.queues))})"


class Routable(Protocol):
    """What routing reads of a declared handler (``registry.SignalConnection``)."""

    @property
    def queue(self) -> str | DynamicQueue | None: ...

    @property
    def task_options(self) -> Mapping[str, Any]: ...


def task_name(path: str, function: Callable[..., Any], name: str | None = None) -> str:
    """The Celery task name of ``function`` handling ``path``: ``name`` wins."""
    return name or f"{path}:{function.__module__}.{function.__qualname__}"


def static_queue(declared: Routable) -> str | None:
    """The queue fixed at declaration, or ``None`` when a ``DynamicQueue`` decides."""
    if isinstance(declared.queue, DynamicQueue):
        return None
    return declared.queue or dfws_settings.default_queue


def queue_for(declared: Routable, window_info: WindowInfo, kwargs: dict[str, Any]) -> str:
    """The queue of one call; ``window_info`` and ``kwargs`` matter to dynamic queues only."""
    queue = declared.queue
    if isinstance(queue, DynamicQueue):
        return queue(window_info, kwargs)
    return queue or dfws_settings.default_queue


def declared_queues_of(declared: Routable) -> frozenset[str]:
    """Every queue one handler may be sent to."""
    if isinstance(declared.queue, DynamicQueue):
        return declared.queue.queues
    return frozenset({declared.queue or dfws_settings.default_queue})


def declared_queues(handlers: Iterable[Routable]) -> list[str]:
    """Every queue a worker must consume for ``handlers`` (``-Q``), the default one first."""
    default = dfws_settings.default_queue
    queues = {default}
    for declared in handlers:
        queues |= declared_queues_of(declared)
    return sorted(queues, key=lambda q: (q != default, q))


def message_options(declared: Routable) -> dict[str, Any]:
    """Options that travel with each message (``priority``)."""
    return {k: v for k, v in declared.task_options.items() if k in MESSAGE_OPTIONS}


def task_class_options(declared: Routable) -> dict[str, Any]:
    """Options set on the task itself (everything but the message options)."""
    return {k: v for k, v in declared.task_options.items() if k not in MESSAGE_OPTIONS}


class SignalRouter:
    """Celery router: the declared queue and message options of a dfws task.

    ``None`` for tasks that are not ours, and for a ``DynamicQueue`` handler
    without message options (the call chooses its queue).
    """

    def __init__(self, lookup: Callable[[str], Routable | None]) -> None:
        self.lookup = lookup

    def __call__(
        self, name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any
    ) -> dict[str, Any] | None:
        if name in INTERNAL_TASKS:
            return {"queue": dfws_settings.default_queue}
        declared = self.lookup(name)
        if declared is None:
            return None
        route = message_options(declared)
        queue = static_queue(declared)
        if queue is not None:
            route["queue"] = queue
        return route or None


def install_router(app: Celery, lookup: Callable[[str], Routable | None]) -> SignalRouter:
    """Append a :class:`SignalRouter` to ``app.conf.task_routes`` (once) and return it."""
    routes = app.conf.task_routes
    if routes is None:
        routes = []
    elif isinstance(routes, dict | str) or callable(routes):
        routes = [routes]
    routes = list(routes)
    for route in routes:
        if isinstance(route, SignalRouter):
            return route
    router = SignalRouter(lookup)
    app.conf.task_routes = [*routes, router]
    reset_celery_router(app)
    return router


def installed_router(app: Celery) -> SignalRouter | None:
    """The :class:`SignalRouter` of ``app``, if :func:`install_router` ran."""
    routes = app.conf.task_routes
    routes = routes if isinstance(routes, list | tuple) else [routes]
    return next((r for r in routes if isinstance(r, SignalRouter)), None)
