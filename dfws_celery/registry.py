"""``@signal``: declare a Python handler of a dfws signal.

The decorator only records a ``SignalConnection``; the handler's Celery
task is compiled when Django is ready (``apps.ready`` runs
``compiler.compile_all``) or, for a declaration made later, right away
(``SignalRegistry.on_add``).  A declaration that cannot work raises
``ImproperlyConfigured`` at import time, in the project's code.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured

from dfws_celery.permissions import Permission, describe, server_side
from dfws_celery.routing import DynamicQueue, task_name

F = TypeVar("F", bound=Callable[..., Any])

PATH_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$")
TASK_OPTIONS = frozenset(
    {
        "acks_late",
        "autoretry_for",
        "default_retry_delay",
        "expires",
        "ignore_result",
        "max_retries",
        "priority",
        "rate_limit",
        "retry_backoff",
        "retry_backoff_max",
        "retry_jitter",
        "soft_time_limit",
        "time_limit",
    }
)


@dataclass(frozen=True, eq=False)
class SignalConnection:
    """One Python handler attached to a dfws signal path."""

    path: str
    function: Callable[..., Any]
    is_allowed_to: Permission
    queue: str | DynamicQueue | None
    task_name: str
    task_options: dict[str, Any]
    parameters: dict[str, inspect.Parameter]
    accepts_kwargs: bool
    task: Any = field(default=None, compare=False)

    @property
    def handler_name(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"

    @property
    def browser_callable(self) -> bool:
        return self.is_allowed_to is not server_side

    @property
    def permission_name(self) -> str:
        return describe(self.is_allowed_to)


class SignalRegistry:
    """Every declared handler, by signal path and by task name."""

    def __init__(self) -> None:
        self.by_path: dict[str, list[SignalConnection]] = {}
        self.by_task_name: dict[str, SignalConnection] = {}
        self.on_add: Callable[[SignalConnection], None] | None = None

    def add(self, connection: SignalConnection) -> None:
        other = self.by_task_name.get(connection.task_name)
        if other is not None and other.function is not connection.function:
            raise ImproperlyConfigured(
                f"Task name {connection.task_name!r} of dfws signal {connection.path!r} is "
                f"already used by {other.handler_name}: pass a distinct name= to @signal"
            )
        if other is not None:  # the same module imported twice: keep the first
            return
        self.by_path.setdefault(connection.path, []).append(connection)
        self.by_task_name[connection.task_name] = connection
        if self.on_add is not None:
            self.on_add(connection)

    def get(self, path: str) -> list[SignalConnection]:
        return self.by_path.get(path, [])

    def all(self) -> list[SignalConnection]:
        return [c for path in sorted(self.by_path) for c in self.by_path[path]]

    def remove(self, connection: SignalConnection) -> None:
        """Forget a handler (used by tests that declare signals on the fly)."""
        self.by_path[connection.path].remove(connection)
        if not self.by_path[connection.path]:
            del self.by_path[connection.path]
        del self.by_task_name[connection.task_name]


REGISTRY = SignalRegistry()


def signal(
    path: str | None = None,
    *,
    is_allowed_to: Permission = server_side,
    queue: str | DynamicQueue | None = None,
    name: str | None = None,
    **task_options: Any,
) -> Callable[[F], F]:
    """Declare ``function(window_info, **kwargs)`` as a handler of the dfws signal ``path``.

    ``queue`` is a queue name (default ``WEBSOCKET_DEFAULT_QUEUE``) or a
    ``DynamicQueue``; ``name`` pins the Celery task name; the other keyword
    arguments are Celery task options.  The function is returned unchanged.
    """

    def decorate(function: F) -> F:
        REGISTRY.add(_connection(function, path, is_allowed_to, queue, name, task_options))
        return function

    return decorate


def _connection(
    function: Callable[..., Any],
    path: str | None,
    is_allowed_to: Permission,
    queue: str | DynamicQueue | None,
    name: str | None,
    task_options: dict[str, Any],
) -> SignalConnection:
    where = f"@signal on {function.__module__}.{function.__qualname__}"
    signal_path = path if path is not None else f"{function.__module__}.{function.__name__}"
    if not isinstance(signal_path, str) or not PATH_RE.match(signal_path):
        raise ImproperlyConfigured(
            f"{where}: invalid dfws signal path {signal_path!r}: use dot-separated "
            "identifiers such as 'shop.cart.updated'"
        )
    unknown = sorted(set(task_options) - TASK_OPTIONS)
    if unknown:
        raise ImproperlyConfigured(
            f"{where}: unknown option {unknown[0]!r} for dfws signal {signal_path!r}: "
            f"expected one of {', '.join(sorted(TASK_OPTIONS))}"
        )
    if not callable(is_allowed_to):
        raise ImproperlyConfigured(
            f"{where}: is_allowed_to must be callable, got {is_allowed_to!r}"
        )
    if queue is not None and not isinstance(queue, str | DynamicQueue):
        raise ImproperlyConfigured(
            f"{where}: queue must be a string or a DynamicQueue, got {queue!r}"
        )
    params = _parameters(function, where)
    if not function.__name__.isidentifier():
        raise ImproperlyConfigured(
            f"{where}: a lambda cannot handle a dfws signal: its Celery task needs a "
            "function name; write def handler(window_info, ...)"
        )
    accepts_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    params = {k: p for k, p in params.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
    return SignalConnection(
        path=signal_path,
        function=function,
        is_allowed_to=is_allowed_to,
        queue=queue,
        task_name=task_name(signal_path, function, name),
        task_options=dict(task_options),
        parameters=params,
        accepts_kwargs=accepts_kwargs,
    )


class LazyAnnotation:
    """An annotation naming what its module defines later: resolved at the first call.

    With ``from __future__ import annotations`` an annotation is a string, and
    the class it names may be defined below the handler.  It must still check
    the browser's value: resolved when a call comes (the module is loaded by
    then), and a call is refused when it still cannot be resolved.
    """

    def __init__(self, text: str, namespace: dict[str, Any]) -> None:
        self.text = text
        self.namespace = namespace

    def __call__(self, value: Any) -> Any:
        try:
            target = eval(self.text, self.namespace)
        except Exception as exc:
            raise TypeError(f"the annotation {self.text!r} cannot be resolved: {exc}") from exc
        return target(value) if callable(target) else value

    def __repr__(self) -> str:
        return f"LazyAnnotation({self.text!r})"


def _parameters(function: Callable[..., Any], where: str) -> dict[str, inspect.Parameter]:
    try:
        sig = inspect.signature(function, eval_str=True)
    except NameError:  # a name the module defines later: resolve each annotation alone
        sig = _resolved_one_by_one(function)
    params = list(sig.parameters.values())
    if not params or params[0].name != "window_info":
        raise ImproperlyConfigured(
            f"{where}: the first parameter must be 'window_info' "
            f"(got {params[0].name if params else 'no parameter'!r}): "
            "write def handler(window_info, ...)"
        )
    for param in params:
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            raise ImproperlyConfigured(
                f"{where}: *{param.name} is not allowed: handlers receive keyword "
                "arguments only; use **kwargs"
            )
    return {p.name: p for p in params[1:]}


def _resolved_one_by_one(function: Callable[..., Any]) -> inspect.Signature:
    sig = inspect.signature(function)
    namespace = getattr(function, "__globals__", {})
    params = []
    for param in sig.parameters.values():
        annotation = param.annotation
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)
            except NameError:
                annotation = LazyAnnotation(annotation, namespace)
        params.append(param.replace(annotation=annotation))
    return sig.replace(parameters=params)
