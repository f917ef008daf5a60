"""Window identity: the key of each page view, its cookies, its session, its cache entry.

A *window* is one page view.  Its life at the edge, in order:

1. ``WebsocketMiddleware`` gives the request a fresh, unguessable key
   (:func:`new_window_key`);
2. the view calls :func:`set_websocket_topics`, which writes the window's
   :class:`~dfws_celery.wire.WindowEntry` — its serialized topics and its
   ``WindowInfo`` — in ``WEBSOCKET_CACHE_BACKEND`` for
   ``WEBSOCKET_CACHE_EXPIRE`` seconds;
3. the middleware sets the cookies ``dfwskey`` (the signed key) and
   ``dfwsurl`` (the websocket URL, which carries the signed key too: cookies
   are shared by every tab, the URL is not);
4. the consumer unsigns the key (:func:`unsign`), reads the entry
   (``window_cache.aload_window``) and checks that the socket comes from the session
   that loaded the page (:func:`same_session`).

The entry is read and written through ``window_cache`` (on the event loop
for a plain ``RedisCache``, in a worker thread for the other backends).

When the cache is unreachable the page still renders: :func:`set_websocket_topics`
logs the outage (once, then a count per minute) and hands the middleware
the entry signed (``dfws.window-entry`` salt, with the key and the time) for
an HttpOnly cookie ``dfwsw-<key>`` that lives ``WEBSOCKET_UNCONNECTED_EXPIRE``
seconds.  The client reconnects with backoff; once Redis is back, the
consumer finds no entry, and :func:`arestore_window` writes the signed one
(without its ``verified_at``: the session is checked in full) — the
page's socket connects with no reload.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from dfws_celery.conf import dfws_settings
from dfws_celery.outages import OutageLog
from dfws_celery.targets import BROADCAST, SESSION, USER, WINDOW
from dfws_celery.window_info import WindowInfo
from dfws_celery.window_info_middlewares import hash_browser_id, hash_session_key
from dfws_celery.wire import WindowEntry, WindowInfoValues
from dfws_web.window_cache import cache_key, entry_of, loop_reader, store_window, sync_cache

logger = logging.getLogger("dfws.websocket")
outages = OutageLog(logger)
SALT = "dfws.window-key"
ENTRY_SALT = "dfws.window-entry"
# the signed entry of a window the cache could not store: dfwsw-<window key>, HttpOnly
ENTRY_COOKIE_PREFIX = "dfwsw-"
ENTRY_COOKIE_LIMIT = 3800  # bytes; browsers keep cookies up to about 4 kB
COOKIE_KEY = "dfwskey"
COOKIE_URL = "dfwsurl"
QUERY_KEY = COOKIE_KEY  # ?dfwskey= in the websocket URL
# binds the windows of a visitor without a Django session to their browser (HttpOnly)
BROWSER_COOKIE = "dfwsid"
BROWSER_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")


# ---- the key ----


def new_window_key() -> str:
    return secrets.token_urlsafe(18)


def sign(window_key: str) -> str:
    return signing.Signer(salt=SALT).sign(window_key)


def unsign(value: str | None) -> str | None:
    """The window key inside a signed value, or ``None`` if it is not ours."""
    if not value:
        return None
    try:
        return signing.Signer(salt=SALT).unsign(value)
    except signing.BadSignature:
        return None


# ---- the session, or the browser ----


def new_browser_id() -> str:
    return secrets.token_urlsafe(24)


def valid_browser_id(value: str | None) -> str | None:
    return value if value and BROWSER_ID.match(value) else None


def same_browser(cookies: Mapping[str, str], window_info: WindowInfoValues) -> bool:
    """Whether ``cookies`` are those of the browser that loaded the window's page.

    A page with a Django session is bound to that session; a page without one
    to the browser's ``dfwsid`` cookie, which page scripts cannot read: a
    window key that leaked (from the URL, a log) opens nothing on its own.
    """
    if window_info.get("session_hash"):
        return same_session(cookies.get(settings.SESSION_COOKIE_NAME), window_info)
    expected = window_info.get("browser_hash")
    if not expected:  # bound to nothing (a project without WindowKeyMiddleware)
        return True
    browser = valid_browser_id(cookies.get(BROWSER_COOKIE))
    return browser is not None and hmac.compare_digest(hash_browser_id(browser), str(expected))


def same_session(session_key: str | None, window_info: WindowInfoValues) -> bool:
    """Whether ``session_key`` (the socket's session cookie) is the page's session.

    Compared through the hash the page's ``WindowInfo`` carries: the session
    key itself never leaves the web process.
    """
    expected = window_info.get("session_hash")
    if not expected:  # the page had no session
        return True
    if not session_key:
        return False
    return hmac.compare_digest(hash_session_key(session_key), str(expected))


# ---- writing the entry ----


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
    if getattr(request, "dfws_page_window", False):
        logger.warning(
            "set_websocket_topics() in an AJAX request: the page's window %s keeps its topics "
            "(a request never re-binds an existing window)",
            request.window_key,  # type: ignore[attr-defined]
        )
        return
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
    request.dfws_bound_to_browser = window_info.browser_hash is not None  # type: ignore[attr-defined]
    entry: WindowEntry = {"topics": serialized, "window_info": window_info.to_dict()}
    if window_info.session_hash:
        # this request's AuthenticationMiddleware has just checked the session and the user
        entry["verified_at"] = time.time()
    key: str = request.window_key  # type: ignore[attr-defined]
    try:
        sync_cache().set(cache_key(key), entry, dfws_settings.unconnected_expire)
    except Exception as exc:  # an outage of the cache must not turn the page into a 500
        outages.failed(
            "window cache",
            "dfws: the window cache is unreachable: pages render, their sockets connect "
            "once it is back",
            exc,
        )
        request.dfws_signed_entry = sign_entry(key, entry)  # type: ignore[attr-defined]
        return
    outages.ok("window cache")


def entry_cookie(window_key: str) -> str:
    return f"{ENTRY_COOKIE_PREFIX}{window_key}"


def sign_entry(window_key: str, entry: WindowEntry) -> str | None:
    """The entry signed for its window's cookie, or ``None`` if a cookie cannot hold it."""
    value = signing.dumps({"k": window_key, "e": entry}, salt=ENTRY_SALT, compress=True)
    if len(value) > ENTRY_COOKIE_LIMIT:
        logger.warning("window %s: its entry is too large for a cookie", window_key)
        return None
    return value


def signed_entry(window_key: str, cookies: Mapping[str, str]) -> WindowEntry | None:
    """The entry in the window's ``dfwsw-`` cookie, if it is ours, this window's and fresh."""
    value = cookies.get(entry_cookie(window_key))
    if not value:
        return None
    try:
        data = signing.loads(value, salt=ENTRY_SALT, max_age=dfws_settings.unconnected_expire)
    except signing.BadSignature:  # forged, or expired
        return None
    if not isinstance(data, dict) or data.get("k") != window_key:
        return None
    entry = entry_of(data.get("e"))
    if entry is not None:
        entry.pop("verified_at", None)  # the session is checked in full
    return entry


async def arestore_window(window_key: str, cookies: Mapping[str, str]) -> WindowEntry | None:
    """The entry of a window rendered while the cache was down, written now (or ``None``).

    Only when the cache has no entry for the key (the caller has just read
    it): an entry already there is never replaced.
    """
    entry = signed_entry(window_key, cookies)
    if entry is None:
        return None
    reader = loop_reader()
    if reader is None:
        await sync_to_async(store_window, thread_sensitive=False)(window_key, entry)
    else:
        key = reader.backend.make_and_validate_key(cache_key(window_key))
        value = reader.serializer.dumps(entry)
        await reader.primary.set(key, value, ex=dfws_settings.unconnected_expire, nx=True)
    logger.info("window %s: its entry, signed while the cache was down, is stored", window_key)
    return entry
