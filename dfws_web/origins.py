"""Which pages may open a websocket: the site's own origin, or the ones listed.

A browser sends the ``Origin`` of the page that opens a socket, and the
socket carries that browser's cookies: a page of another origin that could
connect would act as the visitor (cross-site websocket hijacking).  Host
names alone are not enough — another port or scheme of the same host is
another origin, possibly served by someone else.  So the ``Origin`` must be
exactly the socket's own origin (scheme, host and port, from the request's
``Host`` header, itself checked against ``ALLOWED_HOSTS`` as Django checks a
page's: with ``DEBUG`` and an empty list, the local names a new project runs
on) or one of ``WEBSOCKET_ALLOWED_ORIGINS``.  A request without ``Origin`` (not from a
browser) is refused too.

Behind a proxy that terminates TLS, run daphne with ``--proxy-headers`` (so
the scheme is ``wss``) or list the public origin in
``WEBSOCKET_ALLOWED_ORIGINS``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from dfws_celery.conf import dfws_settings

logger = logging.getLogger("dfws.websocket")
DEFAULT_PORTS = {"http": 80, "https": 443}
# what Django's HttpRequest.get_host() accepts with DEBUG on and ALLOWED_HOSTS empty
DEBUG_HOSTS = [".localhost", "127.0.0.1", "[::1]"]
WEBSOCKET_SCHEMES = {"ws": "http", "wss": "https"}


def normalize(origin: str) -> str | None:
    """``scheme://host:port`` in lower case with the port spelled out, or ``None``."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    return f"{scheme}://{parts.hostname.lower()}:{port or DEFAULT_PORTS[scheme]}"


def own_origin(scope: Mapping[str, Any], host: str) -> str | None:
    """The origin of the socket itself, if its ``Host`` is one of ``ALLOWED_HOSTS``."""
    domain, _ = split_domain_port(host)
    hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not hosts:
        hosts = DEBUG_HOSTS
    if not domain or not validate_host(domain, hosts):
        return None
    scheme = WEBSOCKET_SCHEMES.get(str(scope.get("scheme", "ws")), "http")
    return normalize(f"{scheme}://{host}")


def allowed(scope: Mapping[str, Any]) -> tuple[bool, str]:
    """``(allowed, origin header)`` for a websocket scope."""
    headers = dict(scope.get("headers", []))
    origin = headers.get(b"origin", b"").decode("latin-1")
    host = headers.get(b"host", b"").decode("latin-1")
    wanted = normalize(origin) if origin else None
    if wanted is None:
        return False, origin
    if wanted == own_origin(scope, host):
        return True, origin
    listed = {normalize(o) for o in dfws_settings.allowed_origins}
    return wanted in listed, origin


class OriginValidator:
    """ASGI middleware refusing (HTTP 403) a websocket handshake from another origin."""

    def __init__(self, app: Any) -> None:
        self.app = app

    # a plain function returning the next application's coroutine (ASGI 3 all the same): an
    # ``async def`` would keep a coroutine of its own per socket for as long as it lives
    _asgi_single_callable = True

    def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            ok, origin = allowed(scope)
            if not ok:
                return self.refuse(origin, receive, send)
        return self.app(scope, receive, send)

    async def refuse(self, origin: str, receive: Any, send: Any) -> None:
        logger.warning("websocket refused: origin %r is not this site's", origin)
        await receive()  # websocket.connect
        await send({"type": "websocket.close"})
