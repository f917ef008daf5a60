"""``dfws_web.asgi.application``: HTTP to Django, ``WEBSOCKET_URL`` to the dfws consumer.

A websocket must come from the site's own origin (``origins``); the
consumer then binds it to the Django session that loaded the page and checks
that session and its user are still valid (``sessions``); the rest of the
window's identity comes from the cache entry ``set_websocket_topics`` wrote.

A project's ``asgi.py`` needs only::

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
    from dfws_web.asgi import application

The routing is built on the first connection, not at import time.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from asgiref.sync import markcoroutinefunction

ASGIApp = Any


def build_application() -> ASGIApp:
    from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter
    from django.core.asgi import get_asgi_application
    from django.urls import re_path

    http = get_asgi_application()  # sets Django up if the server did not

    from dfws_celery.backends import SignalWorkerConsumer
    from dfws_celery.conf import dfws_settings
    from dfws_celery.queue_watch import watch
    from dfws_celery.registry import REGISTRY
    from dfws_celery.routing import declared_queues
    from dfws_web.autobahn_text import lazy_debug_text
    from dfws_web.consumer import SignalConsumer
    from dfws_web.origins import OriginValidator

    path = "^" + re.escape(dfws_settings.websocket_url.lstrip("/")) + "$"
    # no CookieMiddleware: the consumer parses the cookies for its connect alone (consumer)
    websocket = OriginValidator(URLRouter([re_path(path, SignalConsumer.as_asgi())]))  # type: ignore[list-item,arg-type]
    watch.start()  # which queues have a consumer, known before the first call (queue_watch)
    lazy_debug_text()  # under daphne: no debug text built per frame (autobahn_text)
    workers = {queue: SignalWorkerConsumer.as_asgi() for queue in declared_queues(REGISTRY.all())}
    return ProtocolTypeRouter(
        {"http": http, "websocket": websocket, "channel": ChannelNameRouter(workers)}  # type: ignore[arg-type]
    )


class LazyApplication:
    """Builds the real application on first use (thread-safe)."""

    def __init__(self) -> None:
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()

    def get(self) -> ASGIApp:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = build_application()
        return self._app

    # ASGI 3 for every server: daphne (asgiref) reads the flag, uvicorn's auto-detection
    # asks whether __call__ is a coroutine function (marked so below)
    _asgi_single_callable = True

    def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        """The application's coroutine itself: an ``async def`` here would keep a coroutine
        of its own alive per socket, for as long as the socket lives (S7)."""
        return self.get()(scope, receive, send)


markcoroutinefunction(LazyApplication.__call__)


application = LazyApplication()
