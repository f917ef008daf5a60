"""The seam between ``trigger()`` and ``testing.SignalQueue`` (no test code here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from dfws_celery.registry import SignalConnection
    from dfws_celery.trigger import TriggerPlan


class Recorder(Protocol):
    def record_frame(self, plan: TriggerPlan) -> None: ...

    def record_task(
        self,
        connection: SignalConnection,
        queue: str,
        info: dict[str, Any],
        kwargs: str,
        from_client: bool,
    ) -> None: ...


active: list[Recorder] = []


def capture_frame(plan: TriggerPlan) -> bool:
    if not active:
        return False
    active[-1].record_frame(plan)
    return True


def capture_task(
    connection: SignalConnection, queue: str, info: dict[str, Any], kwargs: str, from_client: bool
) -> bool:
    if not active:
        return False
    active[-1].record_task(connection, queue, info, kwargs, from_client)
    return True
