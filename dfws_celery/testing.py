"""``SignalQueue``: capture dfws signals in unit tests instead of sending them.

Inside ``with SignalQueue() as queue:`` nothing reaches Celery or the
channel layer.  ``queue.ws_signals`` maps each serialized topic to a list
of ``(signal_name, kwargs)``; ``queue.python_signals`` maps each queue name
to a list of ``[signal_name, window_info_dict, kwargs, from_client,
serialized_client_topics, to_server, queue]``, one per handler task
message.  Everything captured must survive a JSON round trip, as it would
in production; otherwise ``TypeError``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from dfws_celery import testing_hooks
from dfws_celery.executor import run_from_message
from dfws_celery.registry import REGISTRY

if TYPE_CHECKING:
    from dfws_celery.registry import SignalConnection
    from dfws_celery.trigger import TriggerPlan


class SignalQueue:
    """Context manager recording triggered signals; ``immediate=True`` runs handlers at once."""

    def __init__(self, immediate: bool = False) -> None:
        self.immediate = immediate
        self.ws_signals: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        self.python_signals: dict[str, list[list[Any]]] = defaultdict(list)
        self._handlers: dict[int, SignalConnection] = {}

    def __enter__(self) -> SignalQueue:
        testing_hooks.active.append(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        testing_hooks.active.remove(self)

    def record_frame(self, plan: TriggerPlan) -> None:
        kwargs = _round_trip(plan.path, plan.kwargs)
        for topic in plan.topics:
            self.ws_signals[topic].append((plan.path, kwargs))

    def record_task(
        self,
        connection: SignalConnection,
        queue: str,
        info: dict[str, Any],
        kwargs: str,
        from_client: bool,
    ) -> None:
        path = connection.path
        entry = [path, info, json.loads(kwargs), from_client, None, True, queue]
        _round_trip(path, entry)
        if self.immediate:
            run_from_message(connection, info, kwargs, from_client)
        else:
            self.python_signals[queue].append(entry)
            self._handlers[id(entry)] = connection

    def execute_delayed_signals(self, queues: Iterable[str] | None = None) -> None:
        """Run the captured handler calls of ``queues`` (default: all), until none is left."""
        wanted = None if queues is None else set(queues)
        while True:
            pending = [
                (queue, entries)
                for queue, entries in self.python_signals.items()
                if entries and (wanted is None or queue in wanted)
            ]
            if not pending:
                return
            for _queue, entries in pending:
                batch = list(entries)
                entries.clear()
                for entry in batch:
                    connection = self._handlers.pop(id(entry), None)
                    if connection is None:  # an entry appended by hand in a test
                        connection = REGISTRY.get(entry[0])[0]
                    run_from_message(connection, entry[1], entry[2], entry[3])


def _round_trip(path: str, value: Any) -> Any:
    from dfws_celery.conf import dfws_settings

    try:
        return json.loads(dfws_settings.encode(value))
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"dfws signal {path!r}: captured value is not JSON-serializable: {exc}"
        ) from exc
