"""The raw Celery baseline of S1: a plain task with the same arguments as a dfws handler task."""

from typing import Any

from celery import shared_task


@shared_task(name="bench.raw_noop", serializer="json", ignore_result=True)
def raw_noop(window_info: dict[str, Any], kwargs: str) -> None:
    pass
