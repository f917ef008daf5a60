"""``dfws_web.asgi``: the application is built on first use, once; no server is started."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from urllib.parse import quote

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.testing import WebsocketCommunicator
from django.core.cache import caches

from dfws_celery import publisher, signal
from dfws_celery.registry import REGISTRY
from dfws_celery.routing import declared_queues
from dfws_web import asgi
from dfws_web import consumer as consumer_module
from dfws_web.window_cache import cache_key
from dfws_web.windows import sign

TASK_NUMBERS = itertools.count()
SAME_ORIGIN = [(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")]


@pytest.fixture(autouse=True)
def fresh_warm_loop(monkeypatch):
    """A connected consumer adopts its loop for publishing: keep that out of other tests."""
    warm = publisher.WarmLoop()
    monkeypatch.setattr(publisher, "warm_loop", warm)
    monkeypatch.setattr(consumer_module, "warm_loop", warm)


def test_the_application_is_built_once_on_first_use(monkeypatch):
    built = []
    received = []

    async def inner(scope, receive, send):
        received.append(scope["type"])

    def build():
        time.sleep(0.05)  # slow enough for the threads below to race
        built.append(1)
        return inner

    monkeypatch.setattr(asgi, "build_application", build)
    application = asgi.LazyApplication()
    assert built == []  # importing and creating it builds nothing
    threads = [threading.Thread(target=application.get) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert built == [1] and application.get() is inner
    asyncio.run(application({"type": "http"}, None, None))
    asyncio.run(application({"type": "websocket"}, None, None))
    assert received == ["http", "websocket"] and built == [1]


def test_the_application_routes_each_protocol():
    app = asgi.build_application()
    assert set(app.application_mapping) == {"http", "websocket", "channel"}
    queues = declared_queues(REGISTRY.all())
    assert set(app.application_mapping["channel"].application_mapping) == set(queues)
    assert {"celery", "slow", "idle"} <= set(queues)  # the test project's handlers


def open_window(key):
    caches["default"].set(
        cache_key(key), {"topics": [f"-window.{key}"], "window_info": {"window_key": key}}
    )


async def handshake(app, path, headers):
    ws = WebsocketCommunicator(app, path, headers=headers)
    connected, _ = await ws.connect()
    if connected:
        await ws.send_to(text_data="--heartbeat--")
        connected = await ws.receive_from() == "--heartbeat--"
        await ws.disconnect()
    return connected


def test_the_websocket_is_served_at_websocket_url_from_the_sites_own_origin(settings):
    settings.WEBSOCKET_URL = "/sockets/live/"
    open_window("wk-asgi")
    path = f"/sockets/live/?dfwskey={quote(sign('wk-asgi'))}"
    app = asgi.build_application()
    foreign = [(b"host", b"127.0.0.1"), (b"origin", b"http://evil.example")]

    async def scenario():
        return [await handshake(app, path, SAME_ORIGIN), await handshake(app, path, foreign)]

    assert asyncio.run(scenario()) == [True, False]


def test_a_runworker_channel_runs_the_handler_of_its_queue(declared):
    ran = threading.Event()

    def handler(window_info, n: int = 0):
        if n == 3:
            ran.set()

    name = f"unit.asgi.job.{next(TASK_NUMBERS)}"  # Celery keeps a forgotten declaration's task
    signal("unit.asgi.job", name=name, queue="unit-asgi")(handler)
    app = asgi.build_application()  # the channel routes are the queues declared by then
    message = {
        "type": "dfws.execute",
        "task_name": name,
        "window_info": {},
        "kwargs": '{"n": 3}',
        "from_client": False,
        "call_id": None,
    }

    async def scenario():
        worker = ApplicationCommunicator(app, {"type": "channel", "channel": "unit-asgi"})
        await worker.send_input(message)
        done = await asyncio.to_thread(ran.wait, 5)
        worker.stop()
        await worker.wait()
        return done

    assert asyncio.run(scenario())


def test_servers_see_the_application_as_asgi_3():
    """``application.__call__`` is a plain function returning the routing's coroutine (no
    coroutine of its own per socket): daphne (asgiref) and uvicorn's auto-detection must
    still see a single-callable ASGI 3 application."""
    import asyncio

    from asgiref.compatibility import is_double_callable
    from uvicorn.config import Config

    from dfws_web.asgi import application

    assert not is_double_callable(application)
    assert asyncio.iscoroutinefunction(application.__call__)
    config = Config(application)
    config.load()
    assert config.interface == "asgi3"
