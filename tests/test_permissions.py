"""The built-in permissions over a real socket: ``is_anonymous``, ``is_superuser``, ``has_perm``.

Users log in through the test project's view and call from the page's socket; the
shared daphne decides the built-ins at the edge and the run's worker runs what passes.
An inactive user cannot even connect with Django's default backend (tests/test_sessions.py);
a private daphne with ``AllowAllUsersModelBackend`` (a project that lets inactive users
log in) shows that ``has_perm`` still refuses one. ``is_staff`` and a project's own
callable are proven in tests/test_sessions.py and tests/test_hardening.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Permission, User

from tests import services
from tests.test_sessions import call, connected, logged_in
from tests.wsclient import connect_window, open_page

pytestmark = pytest.mark.django_db(transaction=True)


def anonymous_call(server: str, signal: str) -> dict:
    with connect_window(server, open_page(server)) as ws:
        return call(ws, signal, "a1")


def user_call(server: str, user: User, signal: str) -> dict:
    _, cookies = logged_in(server, user.username)
    with connected(server, cookies, user) as ws:
        return call(ws, signal, "u1")


def denied(answer: dict) -> bool:
    return answer.get("error", {}).get("type") == "permission_denied"


def test_is_anonymous_admits_visitors_and_refuses_users(server, worker):
    assert anonymous_call(server, "tests.anonymous_only")["result"] == "anonymous"
    member = User.objects.create(username="member-16")
    assert denied(user_call(server, member, "tests.anonymous_only"))


def test_is_superuser_admits_superusers_only(server, worker):
    root = User.objects.create(username="root-16", is_superuser=True)
    assert user_call(server, root, "tests.superuser_only")["result"] == "superuser"
    staff = User.objects.create(username="staff-16", is_staff=True)
    assert denied(user_call(server, staff, "tests.superuser_only"))
    assert denied(anonymous_call(server, "tests.superuser_only"))


def test_has_perm_admits_a_superuser_without_the_permission(server, worker):
    root = User.objects.create(username="root-perm-16", is_superuser=True)
    assert not root.user_permissions.exists()
    assert user_call(server, root, "tests.perm_only")["result"] == "perm"
    plain = User.objects.create(username="plain-16")
    assert denied(user_call(server, plain, "tests.perm_only"))


ALLOW_INACTIVE = {
    "AUTHENTICATION_BACKENDS": ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
}


@pytest.fixture(scope="module")
def lenient(log_dir, django_db_setup) -> Iterator[str]:
    """A daphne whose project lets inactive users log in."""
    env = services.test_env(DFWS_TEST_SETTINGS=json.dumps(ALLOW_INACTIVE))
    process = services.daphne(None, env, log_dir, name="daphne-inactive")
    yield process.url
    process.stop()


def test_an_inactive_superuser_and_staff_member_hold_no_rights(lenient, worker):
    """has_perm, is_superuser and is_staff all refuse an inactive user, as Django does
    (``User.has_perm``, the admin's ``has_permission``), though the project lets them in."""
    idle = User.objects.create(
        username="inactive-16", is_active=False, is_superuser=True, is_staff=True
    )
    idle.user_permissions.add(Permission.objects.get(codename="view_article"))
    _, cookies = logged_in(lenient, idle.username)
    with connected(lenient, cookies, idle) as ws:  # the project lets them connect
        assert call(ws, "tests.ping", "p1")["result"] == 1
        assert denied(call(ws, "tests.perm_only", "p2"))
        assert denied(call(ws, "tests.superuser_only", "p3"))
        assert denied(call(ws, "tests.staff_only", "p4"))
