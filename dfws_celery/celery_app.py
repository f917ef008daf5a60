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
from celery.app import app_or_default
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from dfws_celery._compat import active_celery_apps
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


def _resolve() -> Celery:
    path = dfws_settings.celery_app_path
    if path:
        try:
            app = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"WEBSOCKET_CELERY_APP = {path!r} cannot be imported: {exc}"
            ) from exc
        if not isinstance(app, Celery):
            raise ImproperlyConfigured(
                f"WEBSOCKET_CELERY_APP = {path!r} is not a Celery app: {app!r}; point it at "
                "the app your proj/celery.py creates, e.g. 'proj.celery.app'"
            )
        return app
    apps = active_celery_apps()
    if len(apps) == 1:
        return apps[0]
    current: Celery = app_or_default()
    return current
