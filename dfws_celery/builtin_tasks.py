"""The two tasks dfws registers besides the compiled handlers.

* ``dfws.publish``: sends an already-encoded frame to channel-layer groups;
  ``trigger(..., countdown=...)`` schedules it so that browsers receive the
  signal when the delay is over, not when the view ran.
* ``dfws.trigger``: ``trigger()`` with plain JSON arguments, for
  ``beat_schedule`` entries::

      CELERY_BEAT_SCHEDULE = {
          "clock": {
              "task": "dfws.trigger",
              "schedule": 5.0,
              "args": ["demo.clock", ["BROADCAST"]],
              "kwargs": {"kwargs": {"zone": "UTC"}},
          },
      }

  Target strings ``SERVER``, ``WINDOW``, ``USER``, ``SESSION``,
  ``BROADCAST`` are the special targets; any other string is a topic.

``apps.ready()`` registers them (:func:`register`).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from dfws_celery.publisher import publish
from dfws_celery.targets import BY_NAME
from dfws_celery.trigger import trigger_signal
from dfws_celery.window_info import WindowInfo
from dfws_celery.wire import WindowInfoValues

_registered = False


def publish_frame(groups: list[str], frame: str) -> None:
    publish(groups, frame)


def trigger_from_beat(
    path: str,
    to: list[str] | str | None = None,
    kwargs: dict[str, Any] | None = None,
    window_info: WindowInfoValues | None = None,
) -> None:
    names = [to] if isinstance(to, str) else list(to or ["SERVER"])
    targets = [BY_NAME.get(name, name) for name in names]
    trigger_signal(WindowInfo.from_dict(window_info), path, to=targets, kwargs=kwargs)


def register() -> None:
    global _registered
    if _registered:
        return
    shared_task(name="dfws.publish", serializer="json", ignore_result=True)(publish_frame)
    shared_task(name="dfws.trigger", serializer="json", ignore_result=True)(trigger_from_beat)
    _registered = True
