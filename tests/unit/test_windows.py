"""Window identity on local memory: the signed key, the session check, the cache entry."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core import signing
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from dfws_celery.window_info_middlewares import hash_session_key
from dfws_web import set_websocket_topics
from dfws_web.window_cache import AsyncWindowReader, aload_window, cache_key, load_window
from dfws_web.windows import SALT, new_window_key, same_session, sign, unsign

ENTRY = {"topics": ["-window.wk", "-broadcast"], "window_info": {"window_key": "wk"}}


def page_request(user=None, session_key=None, window_key="wk-page"):
    """A request as it reaches a view behind the dfws middleware."""
    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    request.window_key = window_key
    request.dfws_middleware = True
    if session_key:
        request.session = type("Session", (), {"session_key": session_key})()
    return request


def store(key, value):
    caches["default"].set(cache_key(key), value, 60)


def read_both(key):
    return load_window(key), asyncio.run(aload_window(key))


def test_keys_are_new_unguessable_and_url_safe():
    keys = {new_window_key() for _ in range(50)}
    assert len(keys) == 50 and all(
        len(k) == 24 and k.replace("-", "").replace("_", "").isalnum() for k in keys
    )


def test_a_signed_key_unsigns_and_a_forged_one_does_not():
    signed = sign("wk-1")
    assert signed != "wk-1" and unsign(signed) == "wk-1"
    assert unsign(signed[:-1] + ("A" if signed[-1] != "A" else "B")) is None
    assert unsign("wk-1:forged") is None
    assert unsign(signed.replace("wk-1", "wk-2")) is None
    assert unsign(None) is None and unsign("") is None


def test_a_signature_made_for_another_purpose_is_refused(settings):
    assert unsign(signing.Signer().sign("wk-1")) is None  # Django's default salt
    assert unsign(signing.Signer(salt=SALT).sign("wk-1")) == "wk-1"
    signed = sign("wk-1")
    settings.SECRET_KEY = "another-secret"
    assert unsign(signed) is None


def test_the_cache_key_uses_the_prefix_setting(settings):
    assert cache_key("wk") == "dfws:window:wk"
    settings.WEBSOCKET_CACHE_PREFIX = "shop"
    assert cache_key("wk") == "shop:window:wk"


def test_same_session_compares_the_hash_the_page_carries():
    page = {"session_hash": hash_session_key("sess-1")}
    assert same_session("sess-1", page)
    assert not same_session("sess-2", page)
    assert not same_session(None, page) and not same_session("", page)
    assert same_session(None, {}) and same_session(
        "anything", {"session_hash": None}
    )  # no session on the page


def test_topics_are_stored_with_the_window_for_the_cache_lifetime(settings, monkeypatch):
    clock = SimpleNamespace(time=lambda: 1000.0)
    monkeypatch.setattr("django.core.cache.backends.base.time", clock)  # when it expires
    monkeypatch.setattr("django.core.cache.backends.locmem.time", clock)  # whether it has
    settings.WEBSOCKET_CACHE_EXPIRE = 120
    request = page_request(session_key="sess-1")
    set_websocket_topics(request, ["news", "sports"], {"news"}, "extra")
    entry = load_window("wk-page")
    assert entry["topics"] == [
        "-window.wk-page",
        "-broadcast",
        "-session." + hash_session_key("sess-1"),
        "news",
        "sports",
        "extra",
    ]
    assert request.dfws_topics == entry["topics"]
    assert entry["window_info"]["window_key"] == "wk-page"
    assert entry["window_info"]["session_hash"] == hash_session_key("sess-1")
    assert "sess-1" not in str(entry)
    clock.time = lambda: 1119.0
    assert load_window("wk-page") == entry
    clock.time = lambda: 1121.0
    assert load_window("wk-page") is None


def test_a_logged_in_window_gets_its_user_topic():
    set_websocket_topics(page_request(User(pk=8, username="u")))
    assert load_window("wk-page")["topics"] == ["-window.wk-page", "-broadcast", "-user.8"]


def test_set_websocket_topics_needs_the_middleware():
    request = RequestFactory().get("/")
    with pytest.raises(
        ImproperlyConfigured, match=r'add "dfws_web\.middleware\.WebsocketMiddleware" to MIDDLEWARE'
    ):
        set_websocket_topics(request)


def test_entries_are_read_in_a_thread_and_on_the_loop():
    store("wk-both", ENTRY)
    assert read_both("wk-both") == (ENTRY, ENTRY)
    assert read_both("wk-nobody") == (None, None)
    assert not AsyncWindowReader.usable(caches["default"])  # local memory: read through its API


@pytest.mark.parametrize(
    "value",
    [
        7,
        "text",
        ["-broadcast"],
        {"topics": "-broadcast", "window_info": {}},
        {"topics": [], "window_info": None},
        {"topics": []},
    ],
)
def test_a_value_that_is_not_a_window_entry_reads_as_unknown(value):
    store("wk-odd", value)
    assert read_both("wk-odd") == (None, None)


def test_extra_keys_of_an_entry_are_dropped():
    store("wk-extra", {**ENTRY, "secret": 1})
    assert read_both("wk-extra") == (ENTRY, ENTRY)


def test_changing_the_cache_settings_makes_readers_follow(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "first"}
    }
    store("wk-moved", ENTRY)
    assert load_window("wk-moved") == ENTRY
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "second",
        }
    }
    assert load_window("wk-moved") is None  # a reader of the first cache would still find it
    settings.WEBSOCKET_CACHE_BACKEND = "windows"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "second",
        },
        "windows": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "first",
        },
    }
    assert read_both("wk-moved") == (ENTRY, ENTRY)
