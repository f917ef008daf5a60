"""The socket follows the session and the user's rights (real daphne, Redis, worker).

Each test logs a user in through the test project's views, opens the page's
socket like a browser, then changes the session or the user as an attacker
or an administrator would, and watches what the socket can still do.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar

import pytest
from django.contrib.auth.models import Permission, User
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from dfws_celery.window_info_middlewares import hash_session_key
from dfws_web.sessions import session_group, user_group
from tests.layer import wait_subscribed
from tests.wsclient import connect_window, open_page

pytestmark = pytest.mark.django_db(transaction=True)
SESSION_ENDED = 4001


def logged_in(server: str, username: str) -> tuple[CookieJar, dict[str, str]]:
    jar = CookieJar()
    cookies = open_page(server, f"/login/{username}/?next=/", jar=jar)
    assert "sessionid" in cookies
    return jar, cookies


@contextmanager
def connected(server: str, cookies: dict[str, str], user: User) -> Iterator[ClientConnection]:
    """A socket whose consumer has joined its session and user groups."""
    with connect_window(server, cookies) as ws:
        ws.send("--heartbeat--")
        assert ws.recv(timeout=5) == "--heartbeat--"
        wait_subscribed([session_group(cookies["sessionid"]), user_group(user.pk)])
        yield ws


def closed_within(ws, seconds: float) -> int:
    """The close code the server sent, failing if the socket stays open ``seconds``."""
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as info:
        while time.monotonic() - started < seconds:
            ws.recv(timeout=seconds)
    assert time.monotonic() - started < seconds
    return info.value.rcvd.code


def call(ws, signal: str, call_id: str) -> dict:
    """The result or error of one call to a single handler."""
    ws.send(json.dumps({"signal": signal, "opts": {}, "call_id": call_id}))
    while True:
        frame = json.loads(ws.recv(timeout=15))
        if frame.get("call_id") == call_id and ("result" in frame or "error" in frame):
            return frame


def test_logout_closes_the_sessions_socket_within_a_second(server):
    jar, cookies = logged_in(server, "leaving")
    user = User.objects.get(username="leaving")
    with connected(server, cookies, user) as ws:
        open_page(server, "/logout/", jar=jar)
        assert closed_within(ws, 1.0) == SESSION_ENDED


def test_the_cookies_of_an_ended_session_open_no_socket(server):
    jar, cookies = logged_in(server, "replayer")
    open_page(server, "/logout/", jar=jar)
    # the page's cookies, replayed after the logout deleted the session
    with connect_window(server, cookies) as ws:
        assert closed_within(ws, 5.0) == SESSION_ENDED


def test_a_password_change_closes_the_users_sockets(server):
    _, cookies = logged_in(server, "rotating")
    user = User.objects.get(username="rotating")
    with connected(server, cookies, user) as ws:
        user.set_password("a new secret")
        user.save()
        assert closed_within(ws, 1.0) == SESSION_ENDED
    with connect_window(server, cookies) as ws:  # and the old session stays out
        assert closed_within(ws, 5.0) == SESSION_ENDED


def test_deactivating_a_user_closes_their_sockets(server):
    _, cookies = logged_in(server, "banned")
    user = User.objects.get(username="banned")
    with connected(server, cookies, user) as ws:
        user.is_active = False
        user.save()
        assert closed_within(ws, 1.0) == SESSION_ENDED


def test_a_saved_user_keeps_a_valid_socket_open(server):
    _, cookies = logged_in(server, "editor")
    user = User.objects.get(username="editor")
    with connected(server, cookies, user) as ws:
        user.first_name = "Ed"
        user.save()
        time.sleep(0.5)  # the revalidation has run (it takes milliseconds)
        ws.send("--heartbeat--")
        assert ws.recv(timeout=5) == "--heartbeat--"


def test_a_staff_flag_removed_is_refused_on_the_open_socket(server, worker, sink):
    User.objects.create(username="demoted", is_staff=True)
    _, cookies = logged_in(server, "demoted")
    user = User.objects.get(username="demoted")
    with connected(server, cookies, user) as ws:
        assert call(ws, "tests.staff_only", "s1")["result"] == "staff"
        user.is_staff = False
        user.save()
        deadline = time.monotonic() + 2
        answer = call(ws, "tests.staff_only", "s2")
        while "result" in answer and time.monotonic() < deadline:
            answer = call(ws, "tests.staff_only", f"s{time.monotonic()}")
        assert answer["error"]["type"] == "permission_denied"


def test_a_permission_removed_is_refused_by_the_worker(server, worker):
    user = User.objects.create(username="reader")
    permission = Permission.objects.get(codename="view_article")
    user.user_permissions.add(permission)
    _, cookies = logged_in(server, "reader")
    with connected(server, cookies, user) as ws:
        assert call(ws, "tests.perm_only", "p1")["result"] == "perm"
        user.user_permissions.remove(permission)  # no save: only the database knows
        assert call(ws, "tests.perm_only", "p2")["error"]["type"] == "permission_denied"


def test_session_groups_are_named_by_the_session_hash():
    assert session_group("abc") == f"dfws.-session.{hash_session_key('abc')}"
    assert user_group(7) == "dfws.-user.7"


def test_an_anonymous_window_is_bound_to_its_browser_not_to_its_key(server):
    jar = CookieJar()
    cookies = open_page(server, jar=jar)
    browser_cookie = next(c for c in jar if c.name == "dfwsid")
    assert browser_cookie.has_nonstandard_attr("HttpOnly")  # page scripts cannot read it
    leaked = {k: v for k, v in cookies.items() if k != "dfwsid"}  # the key, from a log or URL
    with connect_window(server, leaked) as ws:
        assert closed_within(ws, 5.0) == 4003
    with connect_window(server, cookies) as ws:
        ws.send("--heartbeat--")
        assert ws.recv(timeout=5) == "--heartbeat--"


def test_session_reaches_every_tab_of_an_anonymous_browser_and_no_other(server):
    from dfws_celery import SESSION, WindowInfo, trigger
    from dfws_celery.window_info_middlewares import hash_browser_id

    jar = CookieJar()
    tab_one, tab_two = open_page(server, jar=jar), open_page(server, jar=jar)
    assert tab_one["dfwsid"] == tab_two["dfwsid"]  # one browser, two windows
    other_browser = open_page(server)
    with (
        connect_window(server, tab_one) as one,
        connect_window(server, tab_two) as two,
        connect_window(server, other_browser) as other,
    ):
        for ws in (one, two, other):
            ws.send("--heartbeat--")
            assert ws.recv(timeout=5) == "--heartbeat--"
        sender = WindowInfo(init=False)
        sender.browser_hash = hash_browser_id(tab_one["dfwsid"])
        wait_subscribed([f"dfws.-session.{sender.browser_hash}"])
        trigger(sender, "html.text", to=SESSION, selector="#s", content="both tabs")
        for ws in (one, two):
            assert json.loads(ws.recv(timeout=5))["opts"]["content"] == "both tabs"
        with pytest.raises(TimeoutError):
            other.recv(timeout=1)


# ---- a recent check is trusted for WEBSOCKET_SESSION_RECHECK seconds ----


class Checks:
    """Counts the full checks (session and user read in a thread) ``acheck_window`` makes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from dfws_web import sessions

        self.count = 0
        real = sessions.check_window

        def counted(*args):
            self.count += 1
            return real(*args)

        monkeypatch.setattr(sessions, "check_window", counted)


def page_window(client) -> tuple[str, dict]:
    """The session key and cache entry of a page ``client`` loads in this process."""
    from dfws_web.window_cache import load_window
    from dfws_web.windows import unsign

    client.get("/")
    key = unsign(client.cookies["dfwskey"].value)
    entry = load_window(key)
    assert entry is not None
    return client.cookies["sessionid"].value, entry


def check(session_key: str, entry: dict):
    import asyncio

    from dfws_web.sessions import acheck_window

    return asyncio.run(acheck_window(session_key, entry))


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Checks:
    return Checks(monkeypatch)


@pytest.fixture
def visitor(client):
    user = User.objects.create(username=f"visitor-{time.monotonic_ns()}", is_staff=True)
    client.force_login(user)
    return client, user


def test_a_connect_right_after_the_page_reads_no_session(visitor, checks):
    client, user = visitor
    session_key, entry = page_window(client)
    assert entry["verified_at"] == pytest.approx(time.time(), abs=5)
    assert check(session_key, entry)["user_pk"] == user.pk
    assert checks.count == 0


def test_a_logout_ends_the_interval_at_once(visitor, checks):
    client, _ = visitor
    session_key, entry = page_window(client)
    client.get("/logout/")
    assert check(session_key, entry) is None
    assert checks.count == 1


def test_a_saved_user_is_checked_again_and_their_new_flags_win(visitor, checks):
    client, user = visitor
    session_key, entry = page_window(client)
    assert entry["window_info"]["is_staff"] is True
    user.is_staff = False
    user.save()
    values = check(session_key, entry)
    assert checks.count == 1
    assert values["is_staff"] is False


def test_an_old_page_is_checked_and_the_check_serves_the_sessions_next_connects(visitor, checks):
    from django.contrib.sessions.models import Session

    client, _ = visitor
    session_key, entry = page_window(client)
    entry["verified_at"] -= 61  # the page was loaded more than WEBSOCKET_SESSION_RECHECK ago
    assert check(session_key, entry) is not None
    assert checks.count == 1
    _, other = page_window(client)  # another old window of the same session
    other["verified_at"] -= 61
    assert check(session_key, other) is not None
    assert checks.count == 1  # the first connect's check was remembered
    Session.objects.filter(session_key=session_key).delete()  # no logout: not seen for now
    assert check(session_key, other) is not None


def test_a_session_removed_without_logout_is_refused_once_its_check_is_old(visitor, checks):
    from django.contrib.sessions.models import Session

    client, _ = visitor
    session_key, entry = page_window(client)
    Session.objects.filter(session_key=session_key).delete()
    entry["verified_at"] -= 61
    assert check(session_key, entry) is None
    assert checks.count == 1


def test_a_check_remembered_for_another_user_is_ignored(visitor, checks, settings):
    from django.core.cache import caches

    from dfws_web.sessions import CHECKED, _record_key

    client, user = visitor
    session_key, entry = page_window(client)
    entry["verified_at"] -= 61
    forged = {"at": time.time(), "window_info": {**entry["window_info"], "user_pk": user.pk + 1}}
    session_hash = entry["window_info"]["session_hash"]
    caches["default"].set(_record_key(CHECKED, session_hash), forged, 60)
    assert check(session_key, entry)["user_pk"] == user.pk
    assert checks.count == 1


def test_a_recheck_of_zero_checks_every_connect(visitor, checks, settings):
    settings.WEBSOCKET_SESSION_RECHECK = 0
    client, _ = visitor
    session_key, entry = page_window(client)
    check(session_key, entry)
    check(session_key, entry)
    assert checks.count == 2


def test_a_window_of_another_session_is_refused_without_a_check(visitor, checks):
    client, _ = visitor
    _, entry = page_window(client)
    assert check("not-the-session", entry) is None
    assert checks.count == 0


def test_a_deleted_session_opens_no_socket_once_the_interval_has_passed(log_dir):
    """End to end, with a private daphne whose interval is one second."""
    from django.conf import settings as django_settings
    from django.contrib.sessions.models import Session

    from tests import services

    env = services.test_env(DFWS_TEST_SESSION_RECHECK="1")
    process = services.daphne(None, env, log_dir, name="daphne-recheck")
    base = process.url
    try:
        _, cookies = logged_in(base, "expired")
        Session.objects.filter(session_key=cookies["sessionid"]).delete()  # clearsessions
        time.sleep(1.2)
        with connect_window(base, cookies) as ws:
            assert closed_within(ws, 5.0) == SESSION_ENDED
        _, cookies = logged_in(base, "expired")  # a live session still connects after it
        time.sleep(1.2)
        with connect_window(base, cookies) as ws:
            ws.send("--heartbeat--")
            assert ws.recv(timeout=5) == "--heartbeat--"
    finally:
        process.stop()
    assert django_settings.WEBSOCKET_SESSION_RECHECK == 60  # the shared server's default
