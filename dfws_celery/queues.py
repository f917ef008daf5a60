"""Queues a handler's task goes to: a fixed name or one chosen per call."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dfws_celery.window_info import WindowInfo


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
            raise ValueError("DynamicQueue needs the non-empty set of queues it may return")

    def __call__(self, window_info: WindowInfo, kwargs: dict[str, Any]) -> str:
        queue = self.choose(window_info, kwargs)
        if queue not in self.queues:
            raise ValueError(
                f"DynamicQueue chose {queue!r}, which is not among its declared queues "
                f"{sorted(self.queues)}"
            )
        return queue

    def __repr__(self) -> str:
        return f"DynamicQueue({'|'.join(sorted(self.queues))})"
