"""Who is on a topic: presence across two daphne processes (real Redis, real sockets).

The test project keeps presence for topics ``room-*`` (tests/settings.py);
``/room/<name>/`` binds its page to ``room-<name>``.  One window connects to
the run's shared daphne, the others to a private daphne this test owns and
kills with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from contextlib import ExitStack
from http.cookiejar import CookieJar

import pytest

from dfws_celery import apresence, presence
from dfws_celery.topics import group_name
from tests import services
from tests.layer import wait_subscribed
from tests.wsclient import connect_window, open_page

pytestmark = pytest.mark.django_db(transaction=True)


def joined_socket(sockets: ExitStack, base: str, cookies: dict[str, str], room: str):
    ws = sockets.enter_context(connect_window(base, cookies))
    ws.send("--heartbeat--")
    assert ws.recv(timeout=5) == "--heartbeat--"
    wait_subscribed([group_name(f"room-{room}")])
    return ws


def presence_frames(ws, until: float) -> list[dict]:
    found = []
    while time.monotonic() < until:
        try:
            text = ws.recv(timeout=max(0.05, until - time.monotonic()))
        except TimeoutError:
            break
        frame = json.loads(text) if text != "--heartbeat--" else {}
        if frame.get("signal") == "dfws.presence":
            found.append(frame["opts"])
    return found


def usernames(room: str) -> list[str | None]:
    return [m.username for m in presence(f"room-{room}")]


def test_presence_across_two_processes_with_join_leave_and_a_killed_process(server, log_dir):
    room = uuid.uuid4().hex[:8]
    env = services.test_env(DFWS_TEST_PRESENCE_PROCESS_TTL="3")
    other = services.daphne(None, env, log_dir, name="daphne-presence")
    try:
        with ExitStack() as sockets:
            watcher_cookies = open_page(server, f"/room/{room}/")
            watcher = joined_socket(sockets, server, watcher_cookies, room)
            assert usernames(room) == [None]  # an anonymous visitor

            jar = CookieJar()
            open_page(other.url, f"/login/ann-{room}/?next=/room/{room}/", jar=jar)
            ann_cookies = {c.name: c.value for c in jar}
            ann = joined_socket(sockets, other.url, ann_cookies, room)
            assert usernames(room) == [None, f"ann-{room}"]
            frames = presence_frames(watcher, time.monotonic() + 3)
            # the watcher's own arrival, then ann's (told by her process)
            joined = [m["username"] for f in frames for m in f["joined"]]
            assert sorted(joined, key=str) == sorted([None, f"ann-{room}"], key=str)
            [told] = [f for f in frames if f"ann-{room}" in json.dumps(f)]
            assert told["topic"] == f"room-{room}" and told["left"] == []
            assert "window" in told["joined"][0] and ann_cookies["dfwskey"] not in json.dumps(told)

            ann.close()
            deadline = time.monotonic() + 3
            while usernames(room) != [None] and time.monotonic() < deadline:
                time.sleep(0.05)
            assert usernames(room) == [None]
            [told] = presence_frames(watcher, time.monotonic() + 3)
            assert [m["username"] for m in told["left"]] == [f"ann-{room}"]

            # a window on a process killed without a goodbye is gone within process_ttl
            bob_cookies = open_page(other.url, f"/room/{room}/")
            bob = joined_socket(sockets, other.url, bob_cookies, room)
            assert len(presence(f"room-{room}")) == 2
            os.kill(other.popen.pid, signal.SIGKILL)
            other.popen.wait(5)
            killed_at = time.monotonic()
            while len(presence(f"room-{room}")) != 1 and time.monotonic() - killed_at < 10:
                time.sleep(0.2)
            assert time.monotonic() - killed_at < 3 + 1.5  # process_ttl, and a little slack
            import asyncio

            assert [m.username for m in asyncio.run(apresence(f"room-{room}"))] == [None]
            assert bob is not None and watcher is not None
    finally:
        other.stop()
