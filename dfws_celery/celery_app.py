"""Which Celery app owns the dfws tasks and sends their messages.

Celery's ``current_app`` is thread-local: a fresh thread that asks for it
may get Celery's unconfigured fallback app and silently publish to
``amqp://localhost``.  dfws therefore resolves the project's app once
(``WEBSOCKET_CELERY_APP`` if set, else the only configured app, else the
current app of the thread that first asks) and always uses that one.
"""

from __future__ import annotations

import threading

from celery import Celery
from celery import _state as celery_state
from django.utils.module_loading import import_string

from dfws_celery.conf import dfws_settings

_lock = threading.Lock()
_app: Celery | None = None


def get_celery_app() -> Celery:
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                _app = _resolve()
    return _app


def reset_celery_app() -> None:
    global _app
    _app = None


def _resolve() -> Celery:
    path = dfws_settings.celery_app_path
    if path:
        app = import_string(path)
        if not isinstance(app, Celery):
            raise TypeError(f"WEBSOCKET_CELERY_APP = {path!r} is not a Celery app: {app!r}")
        return app
    fallback = getattr(celery_state, "default_app", None)
    active: list[Celery] = list(getattr(celery_state, "_get_active_apps")())  # noqa: B009
    apps = [a for a in active if a is not fallback and a.main != "default"]
    if len(apps) == 1:
        return apps[0]
    current: Celery = celery_state.get_current_app()
    return current
