from __future__ import annotations

from urllib.parse import quote, unquote

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory

from dfws_celery.window_info_middlewares import hash_browser_id, hash_session_key
from dfws_web import set_websocket_topics
from dfws_web.middleware import WebsocketMiddleware
from dfws_web.window_cache import cache_key
from dfws_web.windows import sign, unsign


def run(view, **meta):
    request = RequestFactory().get("/", **meta)
    request.user = AnonymousUser()
    response = WebsocketMiddleware(lambda r: view(r) or HttpResponse())(request)
    return request, response


def test_each_page_view_gets_a_new_unguessable_key():
    first, _ = run(lambda r: None)
    second, _ = run(lambda r: None)
    assert first.window_key != second.window_key and len(first.window_key) >= 24


def test_cookies_only_when_the_view_binds_topics():
    _, plain = run(lambda r: None)
    assert "dfwskey" not in plain.cookies
    request, response = run(lambda r: set_websocket_topics(r, "news"))
    assert unsign(response.cookies["dfwskey"].value) == request.window_key
    url = unquote(response.cookies["dfwsurl"].value)
    assert url == f"ws://testserver/ws/?dfwskey={quote(response.cookies['dfwskey'].value, safe='')}"


def test_secure_requests_get_a_wss_url(settings):
    settings.WEBSOCKET_URL = "/sockets/"
    _, response = run(lambda r: set_websocket_topics(r), secure=True)
    assert unquote(response.cookies["dfwsurl"].value).startswith(
        "wss://testserver/sockets/?dfwskey="
    )
    assert response.cookies["dfwsurl"]["secure"]


def test_cookies_honour_the_csrf_cookie_settings(settings):
    settings.CSRF_COOKIE_DOMAIN = "example.org"
    settings.CSRF_COOKIE_PATH = "/app/"
    settings.CSRF_COOKIE_SAMESITE = "Strict"
    _, response = run(lambda r: set_websocket_topics(r))
    cookie = response.cookies["dfwskey"]
    assert (cookie["domain"], cookie["path"], cookie["samesite"]) == (
        "example.org",
        "/app/",
        "Strict",
    )


def store_window(key, **window_info):
    entry = {"topics": [f"-window.{key}"], "window_info": {"window_key": key, **window_info}}
    caches["default"].set(cache_key(key), entry, 60)
    return entry


def test_ajax_request_reuses_the_page_window_key():
    store_window("page-key")
    store_window("k2")
    request, _ = run(
        lambda r: None, HTTP_X_REQUESTED_WITH="XMLHttpRequest", HTTP_X_DFWS_KEY=sign("page-key")
    )
    assert request.window_key == "page-key"
    request, _ = run(
        lambda r: None, HTTP_X_REQUESTED_WITH="XMLHttpRequest", HTTP_COOKIE=f"dfwskey={sign('k2')}"
    )
    assert request.window_key == "k2"


def test_a_leaked_key_sent_from_another_session_names_no_window():
    # the victim's page had a session; the attacker's request has none (or another one)
    store_window("victim-key", session_hash=hash_session_key("victim-session"))
    request, response = run(
        lambda r: set_websocket_topics(r, "attacker-topic"),
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
        HTTP_X_DFWS_KEY=sign("victim-key"),
    )
    assert request.window_key != "victim-key"
    assert caches["default"].get(cache_key("victim-key"))["topics"] == ["-window.victim-key"]
    assert unsign(response.cookies["dfwskey"].value) == request.window_key  # a window of its own


def test_an_unknown_key_names_no_window():
    request, _ = run(
        lambda r: None, HTTP_X_REQUESTED_WITH="XMLHttpRequest", HTTP_X_DFWS_KEY=sign("gone-key")
    )
    assert request.window_key != "gone-key"


def test_an_ajax_request_never_rebinds_its_page_window(caplog):
    entry = store_window("page-key-2")
    request, response = run(
        lambda r: set_websocket_topics(r, "other-topic"),
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
        HTTP_X_DFWS_KEY=sign("page-key-2"),
    )
    assert request.window_key == "page-key-2"
    assert caches["default"].get(cache_key("page-key-2")) == entry
    assert "dfwskey" not in response.cookies
    assert "never re-binds an existing window" in caplog.text


def test_ajax_request_with_a_forged_key_gets_a_fresh_one():
    request, _ = run(
        lambda r: None, HTTP_X_REQUESTED_WITH="XMLHttpRequest", HTTP_X_DFWS_KEY="page-key:bad"
    )
    assert request.window_key != "page-key"


def test_topics_are_stored_in_the_cache_with_the_window_info():
    request, response = run(lambda r: set_websocket_topics(r, ["news", "sports"], "news"))
    entry = caches["default"].get(cache_key(request.window_key))
    # a visitor without a session: USER and SESSION are their browser (the dfwsid cookie)
    browser = hash_browser_id(response.cookies["dfwsid"].value)
    assert entry["topics"] == [
        "-window." + request.window_key, "-broadcast", f"-session.{browser}", "news", "sports",
    ]  # fmt: skip
    assert entry["window_info"]["window_key"] == request.window_key


def test_without_the_middleware_the_error_says_which_line_to_add():
    request = RequestFactory().get("/")
    with pytest.raises(
        ImproperlyConfigured, match=r'"dfws_web\.middleware\.WebsocketMiddleware" to MIDDLEWARE'
    ):
        set_websocket_topics(request)


def render(source: str, **context) -> str:
    return Template("{% load websockets %}" + source).render(Context(context))


def test_js_call_renders_an_escaped_data_attribute():
    html = render('<form {% js_call "signal.name" on="change" form="form_data" id=42 %}>')
    assert html == (
        '<form data-df-signal="[{&quot;name&quot;: &quot;signal.name&quot;, &quot;on&quot;: '
        "&quot;change&quot;, &quot;form&quot;: &quot;form_data&quot;, &quot;opts&quot;: "
        '{&quot;id&quot;: 42}}]">'
    )


def test_js_call_escapes_hostile_values():
    html = render(
        '<input {% js_call "s" value="title" label=x %}>', x='"><script>alert(1)</script>'
    )
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_js_calls_renders_several_bindings():
    bindings = [{"name": "a", "on": "click"}, {"name": "b", "value": "v", "opts": {"n": 1}}]
    html = render("{% js_calls bindings %}", bindings=bindings)
    assert html.count("&quot;name&quot;") == 2 and "&quot;n&quot;: 1" in html
