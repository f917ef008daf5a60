"""The consumer's read of the window entry, through each kind of cache backend."""

from __future__ import annotations

import asyncio
import threading

from django.core.cache import caches

from dfws_celery.conf import dfws_settings
from dfws_web.window_cache import AsyncWindowReader, aload_window, cache_key, load_window

ENTRY = {"topics": ["-window.wk-store", "-broadcast"], "window_info": {"window_key": "wk-store"}}
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def store(key: str, entry: object) -> None:
    caches[dfws_settings.cache_backend].set(cache_key(key), entry, 60)


def read_both(key: str) -> tuple[object, object]:
    return load_window(key), asyncio.run(aload_window(key))


def test_redis_cache_entries_read_on_the_loop_and_in_threads():
    assert AsyncWindowReader.usable(caches["default"])
    store("wk-store", ENTRY)
    assert read_both("wk-store") == (ENTRY, ENTRY)
    assert read_both("wk-unknown") == (None, None)


def test_a_value_that_is_not_a_window_entry_reads_as_an_unknown_window():
    # Django stores integers unpickled: both readers decode them, then refuse the shape
    store("wk-int", 7)
    assert read_both("wk-int") == (None, None)
    store("wk-shape", {"topics": "-broadcast", "window_info": {}})
    assert read_both("wk-shape") == (None, None)


def test_other_backends_are_read_through_their_own_api(settings):
    settings.CACHES = LOCMEM
    assert not AsyncWindowReader.usable(caches["default"])
    store("wk-local", ENTRY)
    # a local-memory cache is per process: the thread reading must see this one
    assert read_both("wk-local") == (ENTRY, ENTRY)


def test_redis_cache_with_a_custom_pool_class_is_read_in_a_thread(settings):
    default = settings.CACHES["default"]
    settings.CACHES = {
        "default": {**default, "OPTIONS": {"pool_class": "redis.BlockingConnectionPool"}}
    }
    assert not AsyncWindowReader.usable(caches["default"])
    store("wk-pool", ENTRY)
    assert read_both("wk-pool") == (ENTRY, ENTRY)


def test_page_views_under_asgi_share_the_cache_connections(monkeypatch, db):
    """Each ASGI request runs in a thread and context of its own (Django's
    ``ThreadSensitiveContext``): writing the window entry through ``caches[alias]``
    opened a new Redis connection for every page view."""
    from http.cookies import SimpleCookie

    from asgiref.testing import ApplicationCommunicator
    from django.core.asgi import get_asgi_application
    from redis.connection import Connection

    from tests.settings import PREFIX

    handshakes: list[str | None] = []  # a new TCP connection to Redis, and its name
    real_connect = Connection._connect

    def counted(connection: Connection) -> object:
        handshakes.append(connection.client_name)
        return real_connect(connection)

    monkeypatch.setattr(Connection, "_connect", counted)

    application = get_asgi_application()

    async def view() -> str:  # a request as daphne makes it: a task of its own
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 80),
        }  # fmt: skip
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(10)
        await communicator.receive_output(10)  # the body
        await communicator.send_input({"type": "http.disconnect"})
        await communicator.wait(10)
        cookies = SimpleCookie()
        for name, value in start["headers"]:
            if name == b"Set-Cookie":
                cookies.load(value.decode())
        return cookies["dfwskey"].value

    async def views() -> list[str]:
        return [await view() for _ in range(12)]

    # in a thread of its own, as daphne's loop: no context of the test leaks into the requests
    keys: list[str] = []
    server = threading.Thread(target=lambda: keys.extend(asyncio.run(views())))
    server.start()
    server.join(60)
    assert len(set(keys)) == 12  # twelve windows, each stored in the cache
    assert all(load_window(k.split(":")[0]) is not None for k in keys)
    assert handshakes.count(f"{PREFIX}-cache") <= 1
