"""Where handlers run and how frames go out, one backend at a time, with no broker."""

from __future__ import annotations

import datetime
import itertools
import json
import logging
import threading
import time
from types import SimpleNamespace

import pytest
from django.core.exceptions import ImproperlyConfigured

from dfws_celery import backends, everyone, publisher, signal
from dfws_celery.backends import (
    NOW,
    CeleryBackend,
    ChannelsBackend,
    Delivery,
    PoolBackend,
    Publication,
    SignalWorkerConsumer,
    args_repr,
    run_by_name,
)
from dfws_celery.metrics import SENT_HEADER
from dfws_celery.registry import REGISTRY
from dfws_celery.testing import SignalQueue

TASK_NUMBERS = itertools.count()
LATER = Delivery(countdown=5)


class RecordingTask:
    def __init__(self):
        self.calls = []

    def apply_async(self, args, kwargs, **options):
        self.calls.append((args, kwargs, options))


def fake_connection(**task_options):
    return SimpleNamespace(
        task=RecordingTask(), task_options=task_options, path="unit.fake", task_name="unit.fake:t"
    )


@pytest.fixture
def ran(declared):
    """A browser-callable handler that records the thread it ran on."""
    calls = []

    def handler(window_info, n: int = 0):
        calls.append((threading.current_thread().name, n))
        if n < 0:
            raise ValueError("negative")
        return n * 10

    name = f"unit.backends.{next(TASK_NUMBERS)}"  # Celery keeps a forgotten declaration's task
    signal("unit.backends", name=name, is_allowed_to=everyone)(handler)
    return SimpleNamespace(connection=REGISTRY.by_task_name[name], calls=calls)


@pytest.fixture
def pool():
    backend = PoolBackend("thread")
    yield backend
    for (
        executor
    ) in backend._pools.values():  # no public shutdown: pools live as long as the process
        executor.shutdown(wait=True)


def test_delivery_options_are_those_given():
    eta = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    assert NOW.empty and not NOW.delayed and NOW.celery_options() == {}
    assert LATER.delayed and LATER.celery_options() == {"countdown": 5}
    expiring = Delivery(expires=60)
    assert (
        not expiring.delayed and not expiring.empty and expiring.celery_options() == {"expires": 60}
    )
    assert Delivery(eta=eta).celery_options() == {"eta": eta}


def test_each_publication_frame_gets_its_own_signal_id():
    publication = Publication("a.b", {"x": 1}, '{"x":1}')
    first, second = json.loads(publication.frame()), json.loads(publication.frame())
    assert first["signal"] == "a.b" and first["opts"] == {"x": 1}
    assert first["signal_id"] != second["signal_id"]


def test_task_arguments_are_shown_short_and_readable():
    assert args_repr({"username": "ann"}, '{"n":1}') == '(<window username=ann>, {"n":1})'
    assert args_repr({}, "{}") == "(<window>, {})"
    long = args_repr({}, '"' + "x" * 5000 + '"')
    assert len(long) == 1024 and long.endswith("...")


def test_celery_backend_sends_one_message_with_its_options(settings):
    settings.WEBSOCKET_METRICS = False  # on, the message also carries its send time
    connection = fake_connection(priority=7, time_limit=3)
    CeleryBackend().enqueue(connection, "slow", {"username": "ann"}, '{"n":1}', delivery=LATER)
    [(args, kwargs, options)] = connection.task.calls
    assert args == ({"username": "ann"}, '{"n":1}') and kwargs == {}
    assert options == {
        "queue": "slow", "argsrepr": '(<window username=ann>, {"n":1})', "kwargsrepr": "{}",
        "countdown": 5, "priority": 7,
    }  # fmt: skip


def test_with_metrics_on_a_handler_message_carries_its_send_time(settings):
    settings.WEBSOCKET_METRICS = True
    connection = fake_connection()
    before = time.time()
    CeleryBackend().enqueue(connection, "celery", {}, "{}")
    [(_, _, options)] = connection.task.calls
    assert before <= options["headers"][SENT_HEADER] <= time.time()


def test_celery_backend_marks_browser_calls():
    connection = fake_connection()
    CeleryBackend().enqueue(connection, "celery", {}, "{}", from_client=True, call_id="c1")
    [(_, kwargs, options)] = connection.task.calls
    assert kwargs == {"from_client": True, "call_id": "c1"}
    assert options["kwargsrepr"] == "{'from_client': True, 'call_id': 'c1'}"


def test_celery_backend_schedules_late_frames_as_a_publish_task(monkeypatch, settings):
    settings.WEBSOCKET_DEFAULT_QUEUE = "main"
    sent = []
    app = SimpleNamespace(
        send_task=lambda name, args, **options: sent.append((name, args, options))
    )
    monkeypatch.setattr(backends, "get_celery_app", lambda: app)
    publication = Publication("a.b", {}, "{}", topics=["room"], groups=["dfws.room"])
    CeleryBackend().publish_later(publication, LATER)
    [(name, (groups, frame), options)] = sent
    assert (name, groups, json.loads(frame)["signal"]) == ("dfws.publish", ["dfws.room"], "a.b")
    assert options == {"queue": "main", "serializer": "json", "countdown": 5}


@pytest.mark.parametrize(
    "backend", [PoolBackend("thread"), ChannelsBackend()], ids=["thread", "channels"]
)
def test_only_celery_can_delay(backend):
    publication = Publication("a.b", {}, "{}", groups=["dfws.room"])
    with pytest.raises(
        ImproperlyConfigured,
        match=f"to browsers need WEBSOCKET_WORKERS = 'celery' \\(currently '{backend.name}'\\)",
    ):
        backend.publish_later(publication, LATER)
    with pytest.raises(
        ImproperlyConfigured, match=r"countdown/eta/expires for dfws signal 'unit\.fake' need"
    ):
        backend.enqueue(fake_connection(), "celery", {}, "{}", delivery=Delivery(expires=3))


def test_thread_backend_runs_the_handler_in_a_pool_per_queue(ran, pool, settings):
    settings.WEBSOCKET_POOL_SIZES = {"solo": 1}
    for n in range(3):
        pool.enqueue(ran.connection, "solo", {}, json.dumps({"n": n}))
    pool.enqueue(ran.connection, "other", {}, '{"n": 9}')
    for executor in pool._pools.values():
        executor.shutdown(wait=True)
    by_queue = {(name.rsplit("_", 1)[0], n) for name, n in ran.calls}
    assert by_queue == {("dfws-solo", 0), ("dfws-solo", 1), ("dfws-solo", 2), ("dfws-other", 9)}
    assert {name for name, _ in ran.calls if name.startswith("dfws-solo")} == {
        "dfws-solo_0"
    }  # size 1


def test_thread_backend_answers_browser_calls_and_logs_failures(ran, pool, frames, caplog):
    caplog.set_level(logging.ERROR, "dfws.signals")
    pool.enqueue(
        ran.connection, "q", {"window_key": "w"}, '{"n": 2}', from_client=True, call_id="c1"
    )
    pool.enqueue(ran.connection, "q", {"window_key": "w"}, '{"n": -1}')
    pool._pools["q"].shutdown(wait=True)
    assert frames == [{"call_id": "c1", "handler": ran.connection.task_name, "result": 20}]
    assert "dfws handler failed: ValueError('negative')" in caplog.text


def test_channels_backend_sends_the_call_to_the_queues_channel(ran, monkeypatch):
    warm = publisher.WarmLoop()
    monkeypatch.setattr(backends, "warm_loop", warm)
    try:
        ChannelsBackend().enqueue(
            ran.connection, "slow", {"window_key": "w"}, '{"n":1}', from_client=True, call_id="c1"
        )
        message = warm.run(publisher.channel_layer().receive("slow"), timeout=1)
    finally:
        loop, thread = warm.loop(), warm._thread
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    assert message == {
        "type": "dfws.execute", "task_name": ran.connection.task_name, "window_info": {"window_key": "w"},
        "kwargs": '{"n":1}', "from_client": True, "call_id": "c1",
    }  # fmt: skip


def test_runworker_consumer_runs_the_call_and_survives_a_failure(ran, frames, caplog):
    consumer = SignalWorkerConsumer()
    message = {
        "type": "dfws.execute",
        "task_name": ran.connection.task_name,
        "window_info": {"window_key": "w"},
        "kwargs": '{"n": 1}',
    }
    consumer.dfws_execute(message)
    consumer.dfws_execute({**message, "kwargs": '{"n": -1}', "from_client": True, "call_id": "c2"})
    assert [n for _, n in ran.calls] == [1, -1]
    assert [f["call_id"] for f in frames] == ["c2"] and frames[0]["error"][
        "type"
    ] == "handler_exception"
    assert f"dfws handler {ran.connection.task_name} failed" in caplog.text


def test_run_by_name_answers_only_calls_with_an_id(ran, frames):
    assert run_by_name(ran.connection.task_name, {"window_key": "w"}, '{"n": 3}', False, None) == 30
    assert frames == []
    run_by_name(ran.connection.task_name, {"window_key": "w"}, '{"n": 4}', True, "c4")
    assert frames == [{"call_id": "c4", "handler": ran.connection.task_name, "result": 40}]


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("celery", CeleryBackend),
        ("thread", PoolBackend),
        ("process", PoolBackend),
        ("channels", ChannelsBackend),
    ],
)
def test_the_backend_follows_the_setting_and_is_built_once(settings, mode, kind):
    settings.WEBSOCKET_WORKERS = mode
    backend = backends.current()
    assert type(backend) is kind and backend.name == mode
    assert backends.current() is backend


def test_an_installed_recorder_wins_until_it_leaves(settings):
    settings.WEBSOCKET_WORKERS = "thread"
    configured = backends.current()
    with SignalQueue() as outer:
        assert backends.current() is outer
        with backends.use(SignalQueue()) as inner:
            assert backends.current() is inner
        assert backends.current() is outer
    assert backends.current() is configured
