"""Who may call a signal from a browser."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ImproperlyConfigured

from dfws_celery import (
    WindowInfo,
    everyone,
    has_perm,
    is_anonymous,
    is_authenticated,
    is_staff,
    is_superuser,
    server_side,
)
from dfws_celery.permissions import describe

ANONYMOUS = WindowInfo.from_dict({"window_key": "w"})
STAFF = WindowInfo.from_dict(
    {
        "user_pk": 1,
        "is_authenticated": True,
        "is_anonymous": False,
        "is_staff": True,
        "is_active": True,
    }
)


def allowed(permission, info):
    return permission(None, info, {})


def test_the_simple_permissions_read_the_window():
    assert [allowed(p, ANONYMOUS) for p in (server_side, everyone, is_authenticated, is_anonymous, is_staff, is_superuser)] == [
        False, True, False, True, False, False,
    ]  # fmt: skip
    assert [allowed(p, STAFF) for p in (server_side, everyone, is_authenticated, is_anonymous, is_staff, is_superuser)] == [
        False, True, True, False, True, False,
    ]  # fmt: skip


def test_has_perm_needs_app_label_and_codename():
    with pytest.raises(
        ImproperlyConfigured, match=r"has_perm\('add_group'\): expected 'app_label\.codename'"
    ):
        has_perm("add_group")
    with pytest.raises(ImproperlyConfigured):
        has_perm("a.b.c")


def test_permissions_have_readable_names():
    assert describe(everyone) == "everyone"
    assert describe(has_perm("auth.add_group")) == "has_perm('auth.add_group')"
    assert describe(lambda c, w, k: True) == "<lambda>"


def test_has_perm_refuses_an_anonymous_window_without_a_query():
    assert not allowed(
        has_perm("auth.add_group"), ANONYMOUS
    )  # no django_db mark: a query would raise


@pytest.mark.django_db
def test_has_perm_checks_the_users_permissions():
    user = User.objects.create_user("perm-user")
    user.user_permissions.add(Permission.objects.get(codename="add_group"))
    info = WindowInfo.from_dict({"user_pk": user.pk, "is_authenticated": True, "is_active": True})
    assert allowed(has_perm("auth.add_group"), info)
    assert not allowed(has_perm("auth.delete_group"), info)


@pytest.mark.django_db
def test_a_superuser_holds_every_permission_and_an_inactive_user_none():
    root = User.objects.create_superuser("perm-root")
    idle = User.objects.create_superuser("perm-idle", is_active=False)
    as_root = WindowInfo.from_dict(
        {"user_pk": root.pk, "is_authenticated": True, "is_superuser": True, "is_active": True}
    )
    as_idle = WindowInfo.from_dict(
        {"user_pk": idle.pk, "is_authenticated": True, "is_superuser": True}
    )
    assert allowed(has_perm("any.thing"), as_root)
    assert not allowed(has_perm("any.thing"), as_idle)


def test_the_staff_and_superuser_flags_count_only_for_an_active_user():
    inactive = WindowInfo.from_dict(
        {"user_pk": 2, "is_authenticated": True, "is_anonymous": False, "is_staff": True,
         "is_superuser": True, "is_active": False}
    )  # fmt: skip
    assert [allowed(p, inactive) for p in (is_staff, is_superuser)] == [False, False]
    active = WindowInfo.from_dict({**inactive.to_dict(), "is_active": True})
    assert [allowed(p, active) for p in (is_staff, is_superuser)] == [True, True]
