"""Issue 11, the SESSION group hash: keyed with ``SECRET_KEY``.

The session hash names the ``SESSION`` group (``dfws.-session.<hash>``) and
travels in task messages.  Computable from the session key alone, anyone
who learns a session key (or guesses how it is hashed) could name the
group; keyed with the project's secret, only the project can.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from dfws_celery import SESSION, WindowInfo
from dfws_celery.topics import group_name, serialize_topic
from dfws_celery.window_info_middlewares import WindowKeyMiddleware, hash_session_key
from dfws_web.windows import same_session

ROOT = Path(__file__).resolve().parents[2]


def test_the_hash_depends_on_the_secret_key(settings):
    settings.SECRET_KEY = "first secret"
    first = hash_session_key("sess-1")
    settings.SECRET_KEY = "second secret"
    second = hash_session_key("sess-1")
    assert first != second


def test_the_hash_is_not_an_unkeyed_digest_of_the_session_key():
    key = "sess-1"
    unkeyed = {
        hashlib.blake2b(key.encode(), digest_size=16).hexdigest(),
        hashlib.sha256(key.encode()).hexdigest()[:32],
        hashlib.md5(key.encode()).hexdigest(),
    }
    assert hash_session_key(key) not in unkeyed


def test_the_hash_is_32_hex_characters_and_tells_sessions_apart():
    first, second = hash_session_key("sess-1"), hash_session_key("sess-2")
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second and hash_session_key("sess-1") == first


def test_the_hash_is_the_same_in_another_process(settings):
    settings.SECRET_KEY = "shared secret"
    code = (
        "from django.conf import settings; settings.configure(SECRET_KEY='shared secret');"
        "from dfws_celery.window_info_middlewares import hash_session_key;"
        "print(hash_session_key('sess-1'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    other = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == hash_session_key("sess-1")


def test_the_page_and_the_socket_still_agree(settings):
    """The page's ``WindowInfo`` and the consumer's check use the same keyed hash."""
    request = SimpleNamespace(window_key="wk", session=SimpleNamespace(session_key="sess-1"))
    info = WindowInfo()
    WindowKeyMiddleware().from_request(request, info)  # type: ignore[arg-type]
    assert info.session_hash == hash_session_key("sess-1")
    page = {"session_hash": info.session_hash}
    assert same_session("sess-1", page)
    assert not same_session("sess-2", page)
    assert group_name(serialize_topic(info, SESSION)) == f"dfws.-session.{info.session_hash}"
    settings.SECRET_KEY = "rotated"  # a hash made with another secret names no session
    assert not same_session("sess-1", page)
