"""``set_websocket_topics``: bind the current page's window to topics."""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from dfws_celery.conf import dfws_settings
from dfws_celery.targets import BROADCAST, SESSION, USER, WINDOW
from dfws_celery.window_info import WindowInfo
from dfws_web.window_keys import cache_key


def set_websocket_topics(request: HttpRequest, *topics: Any) -> None:
    """Make this page's websocket receive signals sent to ``topics``.

    The window always gets ``WINDOW``, ``BROADCAST``, ``USER`` and
    ``SESSION``.  Lists and sets are flattened, so the older
    ``set_websocket_topics(request, [obj1, obj2])`` form works too.
    """
    if not getattr(request, "dfws_middleware", False):
        raise ImproperlyConfigured(
            "set_websocket_topics() needs the dfws middleware: add "
            '"dfws_web.middleware.WebsocketMiddleware" to MIDDLEWARE '
            '(after "django.contrib.auth.middleware.AuthenticationMiddleware")'
        )
    window_info = WindowInfo.new(request)
    serializer = dfws_settings.topic_serializer
    wanted: list[Any] = [WINDOW, BROADCAST, USER, SESSION]
    for topic in topics:
        wanted.extend(topic if isinstance(topic, list | set) else [topic])
    serialized: list[str] = []
    for topic in wanted:
        value = serializer(window_info, topic)
        if value is not None and value not in serialized:
            serialized.append(value)
    request.dfws_topics = serialized  # type: ignore[attr-defined]
    cache = caches[dfws_settings.cache_backend]
    cache.set(
        cache_key(dfws_settings.cache_prefix, request.window_key),  # type: ignore[attr-defined]
        {"topics": serialized, "window_info": window_info.to_dict()},
        dfws_settings.cache_expire,
    )
