"""System checks for the browser edge (``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

MIDDLEWARE = "dfws_web.middleware.WebsocketMiddleware"
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"


@register("dfws")
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    middleware = list(getattr(settings, "MIDDLEWARE", []))
    if MIDDLEWARE not in middleware:
        return [
            Error(
                f"{MIDDLEWARE!r} is not in MIDDLEWARE: pages get no window key.",
                hint=f"Add {MIDDLEWARE!r} to MIDDLEWARE, after {AUTH_MIDDLEWARE!r}.",
                id="dfws.E006",
            )
        ]
    if AUTH_MIDDLEWARE in middleware and middleware.index(AUTH_MIDDLEWARE) > middleware.index(
        MIDDLEWARE
    ):
        return [
            Error(
                f"{MIDDLEWARE!r} comes before {AUTH_MIDDLEWARE!r}: windows would not know "
                "their user.",
                hint=f"Move {MIDDLEWARE!r} after {AUTH_MIDDLEWARE!r} in MIDDLEWARE.",
                id="dfws.E007",
            )
        ]
    return []


@register("dfws")
def check_asgi_application(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not getattr(settings, "ASGI_APPLICATION", None):
        return [
            Error(
                "ASGI_APPLICATION is not set: runserver/daphne serve no websocket.",
                hint='Set ASGI_APPLICATION = "dfws_web.asgi.application" (or your asgi.py\'s).',
                id="dfws.E008",
            )
        ]
    return []
