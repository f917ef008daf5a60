"""``SignalQueue``: capture dfws signals in unit tests instead of sending them.

Inside ``with SignalQueue() as queue:`` nothing reaches Celery or the
channel layer.  ``queue.ws_signals`` maps each serialized topic to a list
of ``(signal_name, kwargs)``; ``queue.python_signals`` maps each queue name
to a list of ``[signal_name, window_info_dict, kwargs, from_client,
serialized_client_topics, to_server, queue]``, one per handler task
message.  Everything captured must survive a JSON round trip, as it would
in production; otherwise ``TypeError``.

``SignalQueue`` is a ``backends.Backend``: entering the block installs it as
the current backend, so ``trigger()`` and browser calls reach it by the
same path as they reach Celery.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from dfws_celery import backends
from dfws_celery.backends import NOW, Delivery, Publication
from dfws_celery.conf import dfws_settings
from dfws_celery.executor import run_from_message
from dfws_celery.registry import REGISTRY, SignalConnection
from dfws_celery.wire import WindowInfoValues


class SignalQueue:
    """Context manager recording triggered signals; ``immediate=True`` runs handlers at once."""

    name = "recording"

    def __init__(self, immediate: bool = False) -> None:
        self.immediate = immediate
        self.ws_signals: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        self.python_signals: dict[str, list[list[Any]]] = defaultdict(list)
        self._handlers: dict[int, SignalConnection] = {}

    def __enter__(self) -> SignalQueue:
        backends.install(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        backends.uninstall(self)

    # ---- the Backend protocol ----

    def publish(self, publication: Publication) -> None:
        kwargs = _round_trip(publication.path, publication.kwargs)
        for topic in publication.topics:
            self.ws_signals[topic].append((publication.path, kwargs))

    async def apublish(self, publication: Publication) -> None:
        self.publish(publication)

    def publish_later(self, publication: Publication, delivery: Delivery) -> None:
        self.publish(publication)

    def enqueue(
        self,
        connection: SignalConnection,
        queue: str,
        info: WindowInfoValues,
        kwargs: str,
        *,
        from_client: bool = False,
        call_id: str | None = None,
        delivery: Delivery = NOW,
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
    try:
        return json.loads(dfws_settings.encode(value))
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"dfws signal {path!r}: captured value is not JSON-serializable: {exc}"
        ) from exc
