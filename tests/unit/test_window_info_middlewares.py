"""The default WINDOW_INFO_MIDDLEWARES, and a project's own."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.test import RequestFactory

from dfws_celery import WindowInfo
from dfws_celery.conf import DEFAULT_WINDOW_INFO_MIDDLEWARES
from dfws_celery.window_info_middlewares import (
    BrowserMiddleware,
    DjangoAuthMiddleware,
    Djangoi18nMiddleware,
    WindowInfoMiddleware,
    WindowKeyMiddleware,
    hash_session_key,
)


class TenantMiddleware(WindowInfoMiddleware):
    """A project's middleware carrying one more value."""

    def from_request(self, request, window_info):
        window_info.tenant = request.META.get("HTTP_X_TENANT")

    def to_dict(self, window_info, values):
        values["tenant"] = window_info.tenant

    def from_dict(self, window_info, values):
        window_info.tenant = values.get("tenant")


def blank():
    return WindowInfo(init=False)


def test_the_session_key_travels_only_as_a_hash():
    request = RequestFactory().get("/")
    request.window_key = "wk"
    request.session = type("Session", (), {"session_key": "secret-key"})()
    info = blank()
    WindowKeyMiddleware().from_request(request, info)
    values = {}
    WindowKeyMiddleware().to_dict(info, values)
    assert values == {"window_key": "wk", "session_hash": hash_session_key("secret-key")}
    assert "secret-key" not in str(values) and len(values["session_hash"]) == 32
    assert hash_session_key("other") != values["session_hash"]


def test_no_session_and_no_key_give_none():
    info = blank()
    WindowKeyMiddleware().from_request(RequestFactory().get("/"), info)
    assert (info.window_key, info.session_hash) == (None, None)


def test_the_call_id_travels_only_when_set():
    info = blank()
    values = {}
    WindowKeyMiddleware().to_dict(info, values)
    assert "call_id" not in values
    info.call_id = "c1"
    WindowKeyMiddleware().to_dict(info, values)
    copy = blank()
    WindowKeyMiddleware().from_dict(copy, values)
    assert copy.call_id == "c1"


def test_an_anonymous_user_adds_nothing():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    info = blank()
    DjangoAuthMiddleware().from_request(request, info)
    values = {}
    DjangoAuthMiddleware().to_dict(info, values)
    assert values == {} and info.user_pk is None and info.is_anonymous


def test_a_user_travels_as_its_pk_name_and_flags():
    request = RequestFactory().get("/")
    request.user = User(pk=3, username="eve", is_superuser=True, is_active=True)
    info = blank()
    DjangoAuthMiddleware().from_request(request, info)
    values = {}
    DjangoAuthMiddleware().to_dict(info, values)
    assert values == {
        "user_pk": 3, "username": "eve", "is_authenticated": True, "is_anonymous": False,
        "is_staff": False, "is_superuser": True, "is_active": True,
    }  # fmt: skip


def test_language_comes_from_the_request_and_user_agent_from_its_header():
    request = RequestFactory().get("/", HTTP_USER_AGENT="Lynx")
    request.LANGUAGE_CODE = "it"
    info = blank()
    Djangoi18nMiddleware().from_request(request, info)
    BrowserMiddleware().from_request(request, info)
    assert (info.language_code, info.user_agent) == ("it", "Lynx")
    copy = blank()
    Djangoi18nMiddleware().from_dict(copy, {})
    BrowserMiddleware().from_dict(copy, {})
    assert (copy.language_code, copy.user_agent) == (None, "")


def test_a_projects_middleware_carries_its_value_to_the_worker(settings):
    settings.WINDOW_INFO_MIDDLEWARES = [
        *DEFAULT_WINDOW_INFO_MIDDLEWARES,
        f"{__name__}.TenantMiddleware",
    ]
    request = RequestFactory().get("/", HTTP_X_TENANT="acme")
    request.window_key = "wk"
    values = WindowInfo.from_request(request).to_dict()
    assert values["tenant"] == "acme"
    assert WindowInfo.from_dict(values).tenant == "acme"


def test_without_middlewares_a_window_carries_nothing(settings):
    settings.WINDOW_INFO_MIDDLEWARES = []
    request = RequestFactory().get("/")
    request.window_key = "wk"
    assert WindowInfo.from_request(request).to_dict() == {}
