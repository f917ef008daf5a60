"""WindowInfo: built from a request, a dict or nothing; the user loaded only when asked."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.test import RequestFactory
from django.utils import translation

from dfws_celery import WindowInfo


def request_for(user=None, **meta):
    request = RequestFactory().get("/", **meta)
    request.user = user or AnonymousUser()
    request.window_key = "wk"
    return request


def test_a_blank_window_knows_the_active_language_only():
    with translation.override("de"):
        info = WindowInfo()
    assert info.language_code == "de"
    assert (info.window_key, info.user_pk, info.is_authenticated, info.is_anonymous) == (
        None,
        None,
        False,
        True,
    )
    assert repr(info) == "<WindowInfo window=None user=None>"


def test_new_coerces_what_trigger_accepts():
    info = WindowInfo.from_dict({"window_key": "w"})
    assert WindowInfo.new(info) is info
    assert WindowInfo.new(None).window_key is None
    request = request_for()
    first = WindowInfo.new(request)
    assert first.window_key == "wk" and WindowInfo.new(request) is first  # built once per request
    with pytest.raises(
        TypeError, match="Expected a WindowInfo, an HttpRequest or None as first argument, got 'w'"
    ):
        WindowInfo.new("w")


def test_a_window_survives_the_trip_through_a_task_message():
    user = User(pk=5, username="ann", is_staff=True)
    info = WindowInfo.from_request(request_for(user, HTTP_USER_AGENT="Firefox"))
    info.call_id = "c1"
    copy = WindowInfo.from_dict(info.to_dict())
    assert (copy.window_key, copy.user_pk, copy.username, copy.call_id) == ("wk", 5, "ann", "c1")
    assert (
        copy.is_authenticated and copy.is_staff and not copy.is_superuser and not copy.is_anonymous
    )
    assert copy.user_agent == "Firefox"
    assert repr(copy) == "<WindowInfo window='wk' user='ann'>"


def test_from_dict_of_nothing_is_a_blank_window():
    info = WindowInfo.from_dict(None)
    assert (info.window_key, info.language_code, info.user_agent) == (None, None, "")


@pytest.mark.django_db
def test_the_user_is_loaded_lazily_once(django_assert_num_queries):
    user = User.objects.create_user("lazy")
    info = WindowInfo.from_dict({"user_pk": user.pk, "is_authenticated": True})
    with django_assert_num_queries(1):
        assert info.user == user
        assert info.user is info.user


@pytest.mark.django_db
def test_a_deleted_user_or_no_user_reads_as_anonymous():
    assert isinstance(WindowInfo.from_dict({"user_pk": 999_999}).user, AnonymousUser)
    assert isinstance(WindowInfo().user, AnonymousUser)


@pytest.mark.django_db
def test_permissions_are_loaded_once(django_assert_num_queries):
    user = User.objects.create_user("perms")
    user.user_permissions.add(Permission.objects.get(codename="add_group"))
    info = WindowInfo.from_dict({"user_pk": user.pk, "is_authenticated": True, "is_active": True})
    with django_assert_num_queries(3):  # the user, its permissions, its groups' permissions
        assert info.has_perm("auth.add_group")
        assert not info.has_perm("auth.delete_group")


def test_the_request_user_is_kept_so_views_do_not_reload_it():
    user = User(pk=6, username="kept")
    info = WindowInfo.from_request(request_for(user))
    assert info.user is user  # no django_db mark: a query would raise


@pytest.mark.django_db
def test_render_to_string_uses_the_window_user_and_language(tmp_path, settings):
    (tmp_path / "hello.txt").write_text(
        "{% load i18n %}{{ user.username }} {% get_current_language as l %}{{ l }} {{ window_key }} {{ x }}"
    )
    settings.TEMPLATES = [
        {"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [tmp_path]}
    ]
    user = User.objects.create_user("dora")
    info = WindowInfo.from_dict(
        {"window_key": "w9", "user_pk": user.pk, "is_authenticated": True, "language_code": "fr"}
    )
    assert info.render_to_string("hello.txt", {"x": 1}) == "dora fr w9 1"
