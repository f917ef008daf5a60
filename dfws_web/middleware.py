"""``WebsocketMiddleware``: a window key per page view, and the cookies that carry it."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from dfws_celery.conf import dfws_settings
from dfws_web.windows import COOKIE_KEY, COOKIE_URL, QUERY_KEY, new_window_key, sign, unsign

AJAX_HEADER = "HTTP_X_REQUESTED_WITH"
KEY_HEADER = "HTTP_X_DFWS_KEY"


class WebsocketMiddleware:
    """Sets ``request.window_key``; after a view that called ``set_websocket_topics``,
    sets the ``dfwskey`` (signed window key) and ``dfwsurl`` (websocket URL) cookies.

    An AJAX request (``X-Requested-With: XMLHttpRequest``) belongs to the page
    that sent it: it keeps the window key of its ``X-Dfws-Key`` header or cookie.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = None
        if request.META.get(AJAX_HEADER) == "XMLHttpRequest":
            key = unsign(request.META.get(KEY_HEADER) or request.COOKIES.get(COOKIE_KEY))
        request.window_key = key or new_window_key()  # type: ignore[attr-defined]
        request.dfws_middleware = True  # type: ignore[attr-defined]
        response = self.get_response(request)
        if getattr(request, "dfws_topics", None) is not None and not key:
            self.set_cookies(request, response)
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


def websocket_url(request: HttpRequest) -> str:
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}{dfws_settings.websocket_url}"
