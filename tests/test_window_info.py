from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.utils import translation

from dfws_celery import SYNC, WindowInfo, everyone, has_perm, signal, trigger
from dfws_celery.executor import run_handler
from dfws_celery.registry import REGISTRY

pytestmark = pytest.mark.django_db


def request_for(user=None, **meta):
    request = RequestFactory().get("/", **meta)
    request.user = user or AnonymousUser()
    request.window_key = "wk"
    request.LANGUAGE_CODE = "fr"
    return request


def test_from_request_round_trips_through_a_dict():
    user = User.objects.create_user("ann", is_staff=True)
    info = WindowInfo.from_request(request_for(user, HTTP_USER_AGENT="Firefox"))
    copy = WindowInfo.from_dict(info.to_dict())
    assert (copy.window_key, copy.user_pk, copy.username) == ("wk", user.pk, "ann")
    assert copy.is_authenticated and copy.is_staff and not copy.is_superuser
    assert (copy.language_code, copy.user_agent) == ("fr", "Firefox")


def test_session_key_never_leaves_the_web_process():
    request = request_for()
    request.session = type("S", (), {"session_key": "secret-session-key"})()
    values = WindowInfo.from_request(request).to_dict()
    assert "secret-session-key" not in str(values)
    assert values["session_hash"]


def test_anonymous_window_has_no_user():
    info = WindowInfo.from_dict(WindowInfo.from_request(request_for()).to_dict())
    assert info.user_pk is None and not info.is_authenticated
    assert isinstance(info.user, AnonymousUser)


def test_user_is_loaded_lazily_and_perms_once(django_assert_num_queries):
    user = User.objects.create_user("bob")
    user.user_permissions.add(Permission.objects.get(codename="add_group"))
    info = WindowInfo.from_dict({"user_pk": user.pk, "is_authenticated": True, "is_active": True})
    with django_assert_num_queries(3):  # user, user perms, group perms
        assert info.has_perm("auth.add_group")
        assert not info.has_perm("auth.delete_group")
    assert info.user.username == "bob"


def test_has_perm_permission_helper():
    @signal("wi.perm", is_allowed_to=has_perm("auth.add_group"))
    def handler(window_info):
        return "ran"

    try:
        connection = REGISTRY.get("wi.perm")[0]
        user = User.objects.create_user("carl")
        info = WindowInfo.from_dict(
            {"user_pk": user.pk, "is_authenticated": True, "is_active": True}
        )
        assert not connection.is_allowed_to(connection, info, {})
        user.user_permissions.add(Permission.objects.get(codename="add_group"))
        info = WindowInfo.from_dict(info.to_dict())
        assert connection.is_allowed_to(connection, info, {})
        assert run_handler(connection, info, {}, from_client=True) == "ran"
    finally:
        REGISTRY.remove(connection)


def test_has_perm_needs_app_label_and_codename():
    with pytest.raises(ImproperlyConfigured, match=r"expected 'app_label\.codename'"):
        has_perm("add_group")


def test_handlers_run_with_the_window_language():
    seen = []

    @signal("wi.lang", is_allowed_to=everyone)
    def handler(window_info):
        seen.append(translation.get_language())

    try:
        trigger(WindowInfo.from_dict({"language_code": "de"}), "wi.lang", to=SYNC)
        assert seen == ["de"]
    finally:
        REGISTRY.remove(REGISTRY.get("wi.lang")[0])


def test_render_to_string_uses_the_window_user_and_language(tmp_path, settings):
    (tmp_path / "hello.txt").write_text(
        "{% load i18n %}{{ user.username }} {% get_current_language as l %}{{ l }} {{ x }}"
    )
    settings.TEMPLATES = [
        {"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [tmp_path]}
    ]
    user = User.objects.create_user("dora")
    info = WindowInfo.from_dict(
        {"user_pk": user.pk, "is_authenticated": True, "language_code": "fr"}
    )
    assert info.render_to_string("hello.txt", {"x": 1}) == "dora fr 1"


def test_trigger_rejects_other_sources():
    with pytest.raises(TypeError, match="Expected a WindowInfo, an HttpRequest or None"):
        trigger("not a window", "x.y", to=SYNC)
