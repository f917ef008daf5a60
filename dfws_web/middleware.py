"""``WebsocketMiddleware``: a window key per page view, and the cookies that carry it."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from dfws_celery.conf import dfws_settings
from dfws_celery.queue_watch import watch
from dfws_web.window_cache import load_window
from dfws_web.windows import (
    BROWSER_COOKIE,
    COOKIE_KEY,
    COOKIE_URL,
    QUERY_KEY,
    entry_cookie,
    new_browser_id,
    new_window_key,
    outages,
    same_browser,
    sign,
    unsign,
    valid_browser_id,
)

AJAX_HEADER = "HTTP_X_REQUESTED_WITH"
KEY_HEADER = "HTTP_X_DFWS_KEY"


class WebsocketMiddleware:
    """Sets ``request.window_key``; after a view that called ``set_websocket_topics``,
    sets the ``dfwskey`` (signed window key) and ``dfwsurl`` (websocket URL) cookies.

    An AJAX request (``X-Requested-With: XMLHttpRequest``) belongs to the page
    that sent it: it keeps the window key of its ``X-Dfws-Key`` header or cookie,
    but only when the request comes from the session that loaded that page (a
    leaked key sent from elsewhere gets a fresh window), and it never re-binds
    the page's window (``set_websocket_topics`` leaves its entry alone).

    When the cache could not store the window's entry (an outage), the page
    still gets its cookies, plus the entry signed in an HttpOnly ``dfwsw-<key>``
    cookie that the consumer stores once the cache is back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        watch.start()  # a web process learns which queues have a consumer (queue_watch)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = None
        if request.META.get(AJAX_HEADER) == "XMLHttpRequest":
            key = page_window(request)
        request.window_key = key or new_window_key()  # type: ignore[attr-defined]
        browser = valid_browser_id(request.COOKIES.get(BROWSER_COOKIE))
        request.dfws_browser_id = browser or new_browser_id()  # type: ignore[attr-defined]
        request.dfws_page_window = key is not None  # type: ignore[attr-defined]
        request.dfws_middleware = True  # type: ignore[attr-defined]
        response = self.get_response(request)
        if getattr(request, "dfws_topics", None) is not None and not key:
            self.set_cookies(request, response)
            signed_entry = getattr(request, "dfws_signed_entry", None)
            if signed_entry is not None:
                self.set_entry_cookie(request, response, signed_entry)
            if browser is None and getattr(request, "dfws_bound_to_browser", False):
                self.set_browser_cookie(request, response)
        return response

    def set_cookies(self, request: HttpRequest, response: HttpResponse) -> None:
        signed = sign(request.window_key)  # type: ignore[attr-defined]
        # The URL carries the key too: cookies are shared by every tab of the site, so
        # after another page loads, a reconnecting tab must still say which window it is.
        url = f"{websocket_url(request)}?{QUERY_KEY}={quote(signed, safe='')}"
        values = {COOKIE_KEY: signed, COOKIE_URL: quote(url, safe="")}
        for name, value in values.items():
            response.set_cookie(
                name,
                value,
                domain=settings.CSRF_COOKIE_DOMAIN,
                path=settings.CSRF_COOKIE_PATH,
                samesite=settings.CSRF_COOKIE_SAMESITE,
                secure=request.is_secure(),
            )

    def set_entry_cookie(self, request: HttpRequest, response: HttpResponse, value: str) -> None:
        """The window's entry, signed, while the cache cannot hold it (HttpOnly, short-lived)."""
        response.set_cookie(
            entry_cookie(request.window_key),  # type: ignore[attr-defined]
            value,
            max_age=dfws_settings.unconnected_expire,
            domain=settings.SESSION_COOKIE_DOMAIN,
            path=settings.SESSION_COOKIE_PATH,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )

    def set_browser_cookie(self, request: HttpRequest, response: HttpResponse) -> None:
        """The browser's id for a visitor without a session: HttpOnly, until the browser closes."""
        response.set_cookie(
            BROWSER_COOKIE,
            request.dfws_browser_id,  # type: ignore[attr-defined]
            domain=settings.SESSION_COOKIE_DOMAIN,
            path=settings.SESSION_COOKIE_PATH,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )


def page_window(request: HttpRequest) -> str | None:
    """The window key an AJAX request names, if that window belongs to the request's session."""
    key = unsign(request.META.get(KEY_HEADER) or request.COOKIES.get(COOKIE_KEY))
    if key is None:
        return None
    try:
        entry = load_window(key)
    except Exception as exc:  # the cache is down: the request gets a window of its own
        outages.failed("window cache", "dfws: the window cache is unreachable", exc)
        return None
    if entry is None or not same_browser(request.COOKIES, entry["window_info"]):
        return None
    return key


def websocket_url(request: HttpRequest) -> str:
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}{dfws_settings.websocket_url}"
