from __future__ import annotations

import datetime
import logging

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from dfws_celery import BROADCAST, SERVER, SYNC, USER, WINDOW, WindowInfo, trigger, trigger_signal
from dfws_celery.testing import SignalQueue
from tests.layer import deliveries


def window(**values):
    return WindowInfo.from_dict({"window_key": "w1", "session_hash": "s1", **values})


def test_model_instance_topic_reaches_only_its_group():
    article = Group(pk=3)
    received = deliveries(
        ["-auth.group.3", "-auth.group.4"],
        lambda: trigger(window(), "html.text", to=[article], selector="#a", content="x"),
    )
    assert [f["opts"] for f in received["-auth.group.3"]] == [{"selector": "#a", "content": "x"}]
    assert received["-auth.group.4"] == []


def test_string_user_and_broadcast_topics_reach_their_groups():
    info = window(user_pk=5, is_authenticated=True)
    received = deliveries(
        ["news", "-user.5", "-user.6", "-broadcast", "-window.w1"],
        lambda: trigger(info, "demo.hello", to=["news", USER, BROADCAST], n=1),
    )
    assert len(received["news"]) == len(received["-user.5"]) == len(received["-broadcast"]) == 1
    assert received["-user.6"] == [] and received["-window.w1"] == []
    frame = received["news"][0]
    assert frame["signal"] == "demo.hello" and frame["opts"] == {"n": 1}
    assert frame["signal_id"] == received["-broadcast"][0]["signal_id"]


def test_default_target_is_user():
    received = deliveries(
        ["-user.9"], lambda: trigger(window(user_pk=9, is_authenticated=True), "demo.x")
    )
    assert len(received["-user.9"]) == 1


def test_request_as_source_targets_its_window():
    request = RequestFactory().get("/")
    request.window_key = "req-window"
    received = deliveries(["-window.req-window"], lambda: trigger(request, "demo.x", to=WINDOW))
    assert len(received["-window.req-window"]) == 1


def test_unencodable_argument_raises_naming_signal_and_key():
    with pytest.raises(TypeError, match=r"dfws signal 'demo.bad': argument 'thing' = <object"):
        trigger(window(), "demo.bad", to=BROADCAST, ok=1, thing=object())


def test_encoder_handles_dates_and_decimals():
    received = deliveries(
        ["-broadcast"],
        lambda: trigger(None, "demo.d", to=BROADCAST, day=datetime.date(2026, 11, 25)),
    )
    assert received["-broadcast"][0]["opts"] == {"day": "2026-11-25"}


def test_undeclared_signal_to_server_enqueues_nothing(caplog):
    caplog.set_level(logging.DEBUG, "dfws.signals")
    with SignalQueue() as queue:
        trigger(window(), "nobody.listens", to=SERVER)
    assert dict(queue.python_signals) == {}
    assert "'nobody.listens' has no Python handler" in caplog.text


def test_sync_target_runs_handlers_here(sink):
    trigger(window(), "tests.ping", to=SYNC, value=41)
    assert [r["value"] for r in sink.read()] == [41]


def test_signal_queue_keeps_the_documented_shapes():
    info = window()
    with SignalQueue() as queue:
        trigger(info, "tests.ping", to=[SERVER, 1], value=1)
        trigger(info, "tests.slow", to=[SERVER, "room"], value="v")
    assert queue.ws_signals == {
        "-int.1": [("tests.ping", {"value": 1})],
        "room": [("tests.slow", {"value": "v"})],
    }
    assert queue.python_signals["celery"] == [
        ["tests.ping", info.to_dict(), {"value": 1}, False, None, True, "celery"]
    ]
    assert queue.python_signals["slow"][0][0] == "tests.slow"


def test_signal_queue_executes_delayed_signals_by_queue(sink):
    with SignalQueue() as queue:
        trigger(window(), "tests.ping", to=SERVER, value=1)
        trigger(window(), "tests.slow", to=SERVER, value="s")
        queue.execute_delayed_signals(queues=["slow"])
        assert [r["name"] for r in sink.read()] == ["slow"]
        queue.execute_delayed_signals()
    assert [r["name"] for r in sink.read()] == ["slow", "ping"]


def test_signal_queue_immediate_mode_runs_handlers_at_trigger(sink):
    with SignalQueue(immediate=True) as queue:
        trigger(window(), "tests.ping", to=SERVER, value=2)
    assert [r["value"] for r in sink.read()] == [2]
    assert dict(queue.python_signals) == {}


def test_countdown_outside_celery_is_a_clear_error(settings):
    settings.WEBSOCKET_WORKERS = "thread"
    with pytest.raises(ImproperlyConfigured, match="need WEBSOCKET_WORKERS = 'celery'"):
        trigger_signal(window(), "tests.ping", to=SERVER, countdown=2)


def test_thread_workers_run_the_same_handler(settings, sink):
    from tests.conftest import wait_for_records

    settings.WEBSOCKET_WORKERS = "thread"
    trigger(window(), "tests.ping", to=SERVER, value=7)
    assert wait_for_records(sink, "ping")[0]["value"] == 7
