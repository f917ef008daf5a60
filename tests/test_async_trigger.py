"""``atrigger_signal`` from async code: a window's socket and a real worker receive it."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from dfws_celery import SERVER, WINDOW, WindowInfo, atrigger_signal
from tests.conftest import wait_for_records
from tests.layer import window_joined
from tests.wsclient import connect_window, open_page, receive_json, window_key

pytestmark = pytest.mark.django_db(transaction=True)  # the worker stores its results


def test_atrigger_signal_reaches_the_window_and_the_server(server, worker, sink):
    cookies = open_page(server)
    key = window_key(cookies)
    info = WindowInfo.from_dict({"window_key": key})

    async def from_async_code() -> None:
        await atrigger_signal(info, "tests.ping", to=[SERVER, WINDOW], kwargs={"value": 41})

    with connect_window(server, cookies) as ws:
        window_joined(ws, key)
        asyncio.run(from_async_code())
        frame = receive_json(ws)
    assert (frame["signal"], frame["opts"]) == ("tests.ping", {"value": 41})
    record = wait_for_records(sink, "ping")[0]
    assert (record["value"], record["window_key"]) == (41, key)
    assert record["pid"] != os.getpid()  # in the worker


def test_atrigger_signal_with_countdown_delays_the_frame(server, worker):
    cookies = open_page(server)
    key = window_key(cookies)
    info = WindowInfo.from_dict({"window_key": key})
    with connect_window(server, cookies) as ws:
        window_joined(ws, key)
        sent = time.monotonic()
        asyncio.run(atrigger_signal(info, "demo.later", to=WINDOW, countdown=1.5))
        frame = receive_json(ws)
        delay = time.monotonic() - sent
    assert frame["signal"] == "demo.later"
    assert 1.5 <= delay < 5, f"the frame arrived {delay:.2f} s after the trigger, not ~1.5 s"
