"""Degrade, do not 500 (issue 13): with the window cache unreachable a page that binds
topics renders, the outage is logged once, and the window's entry travels signed in an
HttpOnly cookie that the consumer stores once the cache is back."""

from __future__ import annotations

import asyncio
import logging

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.core.cache import caches
from django.http import HttpResponse
from django.test import RequestFactory

from dfws_web import set_websocket_topics, windows
from dfws_web.middleware import WebsocketMiddleware
from dfws_web.window_cache import aload_window
from dfws_web.windows import arestore_window, entry_cookie, sign_entry, signed_entry

DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # a closed port
    }
}


@pytest.fixture(autouse=True)
def fresh_outages():
    windows.outages.reset()
    yield
    windows.outages.reset()


def page(request):
    set_websocket_topics(request, "room")
    return HttpResponse("page")


def render(path="/"):
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    return request, WebsocketMiddleware(page)(request)


def test_a_page_renders_and_carries_its_entry_signed_while_the_cache_is_down(settings, caplog):
    settings.CACHES = DOWN
    caplog.set_level(logging.INFO, "dfws.websocket")
    request, response = render()
    assert response.status_code == 200
    assert {"dfwskey", "dfwsurl"} <= set(response.cookies)
    cookie = response.cookies[entry_cookie(request.window_key)]
    assert cookie["httponly"] and cookie["max-age"] == 300
    entry = signed_entry(request.window_key, {cookie.key: cookie.value})
    assert entry is not None and "room" in entry["topics"]
    for _ in range(20):
        assert render()[1].status_code == 200
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "the window cache is unreachable" in errors[0].getMessage()


def test_with_the_cache_up_there_is_no_entry_cookie():
    request, response = render()
    assert entry_cookie(request.window_key) not in response.cookies
    assert caches["default"].get(windows.cache_key(request.window_key)) is not None


def test_a_signed_entry_is_refused_for_another_window_forged_or_expired(settings):
    entry = {"topics": ["-window.k1"], "window_info": {"window_key": "k1"}, "verified_at": 1.0}
    value = sign_entry("k1", entry)
    assert signed_entry("k1", {entry_cookie("k1"): value}) == {
        "topics": ["-window.k1"],
        "window_info": {"window_key": "k1"},
    }  # without verified_at: the session is checked in full
    assert signed_entry("k2", {entry_cookie("k2"): value}) is None
    assert signed_entry("k1", {entry_cookie("k1"): value + "x"}) is None
    other = signing.dumps({"k": "k1", "e": entry}, salt="another.purpose", compress=True)
    assert signed_entry("k1", {entry_cookie("k1"): other}) is None
    settings.WEBSOCKET_UNCONNECTED_EXPIRE = -1  # every signature is too old
    assert signed_entry("k1", {entry_cookie("k1"): value}) is None


def test_the_consumer_stores_the_signed_entry_once_the_cache_is_back():
    entry = {"topics": ["-window.k3", "room"], "window_info": {"window_key": "k3"}}
    cookies = {entry_cookie("k3"): sign_entry("k3", entry)}

    async def scenario():
        assert await aload_window("k3") is None
        assert await arestore_window("k3", cookies) == entry
        return await aload_window("k3")

    assert asyncio.run(scenario()) == entry
    assert asyncio.run(arestore_window("k4", cookies)) is None
