"""``WebsocketMiddleware``: a window key per page view, and the cookies that carry it."""

from __future__ import annotations

from urllib.parse import quote, unquote

from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from dfws_web import set_websocket_topics
from dfws_web.middleware import WebsocketMiddleware, websocket_url
from dfws_web.windows import sign, unsign

AJAX = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def run(view=None, **meta):
    request = RequestFactory().get("/", **meta)
    request.user = AnonymousUser()
    response = WebsocketMiddleware(lambda r: (view(r) if view else None) or HttpResponse("page"))(
        request
    )
    return request, response


def bind(request):
    set_websocket_topics(request, "news")


def test_each_page_view_gets_a_new_key():
    first, _ = run()
    second, _ = run()
    assert first.window_key != second.window_key and len(first.window_key) >= 24
    assert first.dfws_middleware


def test_cookies_are_set_only_when_the_view_binds_topics():
    _, plain = run()
    assert "dfwskey" not in plain.cookies and "dfwsurl" not in plain.cookies
    request, response = run(bind)
    signed = response.cookies["dfwskey"].value
    assert unsign(signed) == request.window_key
    assert (
        unquote(response.cookies["dfwsurl"].value)
        == f"ws://testserver/ws/?dfwskey={quote(signed, safe='')}"
    )
    assert response.content == b"page"


def test_secure_pages_get_a_wss_url_and_secure_cookies(settings):
    settings.WEBSOCKET_URL = "/sockets/"
    _, response = run(bind, secure=True)
    assert unquote(response.cookies["dfwsurl"].value).startswith(
        "wss://testserver/sockets/?dfwskey="
    )
    assert response.cookies["dfwskey"]["secure"] and response.cookies["dfwsurl"]["secure"]
    _, response = run(bind)
    assert not response.cookies["dfwskey"]["secure"]


def test_cookies_follow_the_csrf_cookie_settings(settings):
    settings.CSRF_COOKIE_DOMAIN = "example.org"
    settings.CSRF_COOKIE_PATH = "/app/"
    settings.CSRF_COOKIE_SAMESITE = "Strict"
    _, response = run(bind)
    for name in ("dfwskey", "dfwsurl"):
        cookie = response.cookies[name]
        assert (cookie["domain"], cookie["path"], cookie["samesite"]) == (
            "example.org",
            "/app/",
            "Strict",
        )


def test_an_ajax_request_belongs_to_the_page_that_sent_it():
    page, page_response = run(bind)
    signed = sign(page.window_key)
    browser = f"dfwsid={page_response.cookies['dfwsid'].value}"  # the page's browser
    by_header, response = run(bind, **AJAX, HTTP_X_DFWS_KEY=signed, HTTP_COOKIE=browser)
    assert by_header.window_key == page.window_key
    assert "dfwskey" not in response.cookies  # the page's cookies stay as they are
    by_cookie, _ = run(**AJAX, HTTP_COOKIE=f"dfwskey={signed}; {browser}")
    assert by_cookie.window_key == page.window_key
    elsewhere, _ = run(**AJAX, HTTP_X_DFWS_KEY=signed)  # the key alone, from another browser
    assert elsewhere.window_key != page.window_key


def test_a_forged_key_or_a_plain_request_gets_a_fresh_window():
    page, _ = run(bind)
    forged, _ = run(**AJAX, HTTP_X_DFWS_KEY=page.window_key + ":bad")
    not_ajax, _ = run(HTTP_X_DFWS_KEY=sign(page.window_key))
    assert page.window_key not in (forged.window_key, not_ajax.window_key)


def test_the_websocket_url_uses_the_request_host(settings):
    settings.ALLOWED_HOSTS = ["shop.example"]
    request = RequestFactory().get("/", HTTP_HOST="shop.example:8443", secure=True)
    assert websocket_url(request) == "wss://shop.example:8443/ws/"
