"""``trigger()``: handlers to run and topics to reach, under ``SignalQueue`` (nothing is sent)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from dfws_celery import (
    BROADCAST,
    SERVER,
    SESSION,
    SYNC,
    USER,
    WINDOW,
    WindowInfo,
    atrigger,
    atrigger_signal,
    signal,
    trigger,
    trigger_signal,
)
from dfws_celery import publisher as publisher_module
from dfws_celery.testing import SignalQueue

TASK_NUMBERS = itertools.count()


ran_event = threading.Event()


@pytest.fixture
def ran(declared):
    ran_event.clear()
    calls = []

    def handler(window_info, n: int = 0):
        calls.append((threading.current_thread().name, window_info.window_key, n))
        ran_event.set()

    # a fresh task name each time: Celery keeps the task of a forgotten declaration
    signal("unit.trigger.job", name=f"unit.trigger.job.{next(TASK_NUMBERS)}")(handler)
    return calls


def window(**values):
    return WindowInfo.from_dict({"window_key": "w1", "session_hash": "s1", **values})


def test_the_default_target_is_the_user():
    with SignalQueue() as queue:
        trigger(window(user_pk=4), "unit.trigger.x", n=1)
        trigger(window(), "unit.trigger.x", n=2)  # anonymous: the session
    assert queue.ws_signals == {
        "-user.4": [("unit.trigger.x", {"n": 1})],
        "-session.s1": [("unit.trigger.x", {"n": 2})],
    }


def test_topics_are_sent_once_each(ran):
    with SignalQueue() as queue:
        trigger(
            window(), "unit.trigger.job", to=[WINDOW, "room", "room", SESSION, USER, SERVER], n=1
        )
    # USER of an anonymous window is its session: one frame for both
    assert list(queue.ws_signals) == ["-window.w1", "room", "-session.s1"]
    assert all(len(frames) == 1 for frames in queue.ws_signals.values())
    assert len(queue.python_signals["celery"]) == 1


def test_a_single_target_need_not_be_a_list():
    with SignalQueue() as queue:
        trigger(None, "unit.trigger.x", to="room")
        trigger(None, "unit.trigger.x", to=BROADCAST)
        trigger(None, "unit.trigger.x", to=7)
    assert list(queue.ws_signals) == ["room", "-broadcast", "-int.7"]


def test_a_target_naming_no_window_sends_nothing():
    with SignalQueue() as queue:
        trigger(None, "unit.trigger.x", to=[WINDOW, USER])
    assert dict(queue.ws_signals) == {}


def test_a_request_is_a_source_too():
    request = RequestFactory().get("/")
    request.window_key = "req-w"
    with SignalQueue() as queue:
        trigger(request, "unit.trigger.x", to=WINDOW)
    assert list(queue.ws_signals) == ["-window.req-w"]


def test_sync_runs_the_handlers_here_and_now(ran):
    with SignalQueue() as queue:
        trigger(window(), "unit.trigger.job", to=SYNC, n=3)
    assert ran == [(threading.current_thread().name, "w1", 3)]
    assert dict(queue.python_signals) == {} and dict(queue.ws_signals) == {}


def test_sync_validates_arguments_as_a_worker_would(ran):
    from dfws_celery.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="invalid argument 'n'"):
        trigger(window(), "unit.trigger.job", to=SYNC, n="many")


def test_a_signal_without_handler_runs_nothing(caplog):
    caplog.set_level(logging.DEBUG, "dfws.signals")
    with SignalQueue() as queue:
        trigger(window(), "unit.trigger.nobody", to=[SERVER, SYNC])
    assert dict(queue.python_signals) == {}
    assert "'unit.trigger.nobody' has no Python handler" in caplog.text


def test_an_unencodable_argument_is_named():
    with pytest.raises(
        TypeError,
        match=r"dfws signal 'unit.trigger.bad': argument 'when' = <object object at .*> cannot be encoded by WEBSOCKET_SIGNAL_ENCODER",
    ):
        trigger(window(), "unit.trigger.bad", to="room", ok=1, when=object())


def test_countdown_needs_celery_workers(ran, settings):
    settings.WEBSOCKET_WORKERS = "thread"
    with pytest.raises(
        ImproperlyConfigured,
        match=r"countdown/eta/expires for dfws signal 'unit\.trigger\.job' need WEBSOCKET_WORKERS = 'celery' \(currently 'thread'\)",
    ):
        trigger_signal(window(), "unit.trigger.job", to=SERVER, countdown=2)
    with pytest.raises(
        ImproperlyConfigured, match=r"to browsers need WEBSOCKET_WORKERS = 'celery'"
    ):
        trigger_signal(window(), "unit.trigger.job", to="room", countdown=2)
    assert ran == []


def test_thread_workers_run_server_handlers_in_this_process(ran, settings):
    settings.WEBSOCKET_WORKERS = "thread"
    trigger(window(), "unit.trigger.job", to=SERVER, n=8)
    assert ran_event.wait(5)
    assert [(name.startswith("dfws-celery"), key, n) for name, key, n in ran] == [(True, "w1", 8)]


def test_atrigger_builds_the_same_plan(ran):
    with SignalQueue() as queue:
        asyncio.run(atrigger(window(), "unit.trigger.job", to=[SERVER, "room"], n=5))
        asyncio.run(
            atrigger_signal(
                window(), "unit.trigger.job", to="late-room", kwargs={"n": 6}, countdown=3
            )
        )
    assert queue.ws_signals == {
        "room": [("unit.trigger.job", {"n": 5})],
        "late-room": [("unit.trigger.job", {"n": 6})],
    }
    assert [entry[2] for entry in queue.python_signals["celery"]] == [{"n": 5}]


def test_atrigger_publishes_on_the_callers_loop(monkeypatch):
    monkeypatch.setattr(publisher_module, "warm_loop", publisher_module.WarmLoop())  # never started

    async def scenario():
        layer = publisher_module.channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("dfws.async-room", channel)
        await atrigger(None, "unit.trigger.async", to="async-room", n=1)
        return await asyncio.wait_for(layer.receive(channel), 1)

    message = asyncio.run(scenario())
    assert '"signal":"unit.trigger.async","opts":{"n":1}' in message["text"]
    assert publisher_module.warm_loop._loop is None
