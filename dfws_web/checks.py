"""System checks for the browser edge (``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.management import get_commands

MIDDLEWARE = "dfws_web.middleware.WebsocketMiddleware"
# apps whose ``runserver`` serves WSGI only: no websocket, the client 404s in a reconnect loop
WSGI_RUNSERVERS = ("django.core", "django.contrib.staticfiles")
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


@register("dfws")
def check_runserver(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``runserver`` must serve websockets when it is the server (``DEBUG`` on).

    The app that provides ``runserver`` decides: Django's own (or staticfiles')
    serves WSGI only, so every websocket of the page 404s and the client
    reconnects forever.  ``daphne`` (listed first), Channels before 4, or a
    project's own command serve ASGI.  With ``DEBUG`` off, ``runserver`` is
    not what serves the site (daphne or uvicorn run the ASGI application).
    """
    if not settings.DEBUG or not getattr(settings, "ASGI_APPLICATION", None):
        return []
    provider = get_commands().get("runserver")
    if provider not in WSGI_RUNSERVERS:
        return []
    return [
        Error(
            f"'runserver' is {provider}'s, which serves no websocket: every page's socket "
            "would get HTTP 404 and reconnect forever.",
            hint='Add "daphne" to INSTALLED_APPS, first (its runserver serves ASGI_APPLICATION '
            "with websockets), or serve the project with `daphne proj.asgi:application`; "
            'silence with SILENCED_SYSTEM_CHECKS = ["dfws.E010"] if runserver is never used.',
            id="dfws.E010",
        )
    ]
