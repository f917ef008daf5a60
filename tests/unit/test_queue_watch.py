"""Queues without consumers: what the watch knows, the refusal of a browser call, the warning."""

from __future__ import annotations

import itertools
import logging
from types import SimpleNamespace

import pytest

from dfws_celery import SERVER, everyone, signal, trigger
from dfws_celery.conf import QueueWatchSettings
from dfws_celery.errors import ErrorType, NoConsumer
from dfws_celery.queue_watch import QueueWatch, consumed_queues, watch, worker_command
from dfws_celery.testing import SignalQueue
from dfws_web.calls import forward

CONFIG = QueueWatchSettings(interval=5, timeout=1, grace=30, warn_interval=60)
NUMBERS = itertools.count()
CALLER = {"window_key": "w1"}


@pytest.fixture
def known(declared):
    """The process's watch, primed with an answer: only ``celery`` has a consumer."""
    watch.use(CONFIG)
    watch.record({"celery": ["w@host"]})
    yield watch
    watch.stop()


def declare(path, queue):
    name = f"{path}.{next(NUMBERS)}"  # Celery keeps the task of a forgotten declaration

    def handler(window_info, n: int = 0):
        pass

    signal(path, name=name, queue=queue, is_allowed_to=everyone)(handler)
    return name


def test_the_answer_of_the_workers_becomes_queue_to_workers():
    answer = {
        "a@h": [{"name": "celery", "exchange": {}}, {"name": "slow"}],
        "b@h": [{"name": "celery"}],
        "c@h": None,
    }
    assert consumed_queues(answer) == {"celery": ["a@h", "b@h"], "slow": ["a@h"]}
    assert consumed_queues(None) == {}


def test_unknown_until_the_first_answer_then_known_until_the_grace_runs_out():
    w = QueueWatch()
    assert w.consumed("celery") is None  # off or not started: never a refusal
    w.use(CONFIG)
    assert w.consumed("celery") is None  # started, nobody answered yet
    w.record({"celery": ["w@h"]}, now=100.0)
    assert w.consumed("celery", now=101.0) is True
    assert w.consumed("slow", now=101.0) is False
    w.record({}, now=110.0)  # the worker did not answer this time (busy solo pool?)
    assert w.consumed("celery", now=111.0) is True  # seen 11 s ago: within the grace
    w.record({}, now=135.0)
    assert w.consumed("celery", now=135.0) is False  # 35 s: gone
    # no answer at all for longer than the grace (the broker is down): unknown again
    assert w.consumed("celery", now=170.0) is None


def test_a_broker_that_cannot_be_asked_leaves_the_answer_as_it_was(monkeypatch):
    w = QueueWatch()
    w.use(CONFIG)
    w.record({"celery": ["w@h"]})

    def unreachable():
        raise ConnectionRefusedError(111, "refused")

    app = fake_app(inspect=lambda timeout: unreachable())
    monkeypatch.setattr("dfws_celery.queue_watch.get_celery_app", lambda: app)
    w.refresh()
    assert w.consumed("celery") is True


def fake_app(inspect, broker_url="redis://broker/0"):
    conf = SimpleNamespace(broker_url=broker_url, broker_transport_options={})
    return SimpleNamespace(control=SimpleNamespace(inspect=inspect), conf=conf)


def process(name):
    """A watch as another web process has it (its own name in the shared cache)."""
    w = QueueWatch()
    w.use(CONFIG)
    w.shared.me = name
    return w


def test_one_process_asks_the_workers_and_the_others_read_its_answer(monkeypatch):
    asked = []

    def inspect(timeout):
        asked.append(timeout)
        return SimpleNamespace(active_queues=lambda: {"w@h": [{"name": "celery"}]})

    app = fake_app(inspect, f"redis://shared-{next(NUMBERS)}/0")  # a broker no test asked yet
    monkeypatch.setattr("dfws_celery.queue_watch.get_celery_app", lambda: app)
    first, second = process(f"one-{next(NUMBERS)}"), process(f"two-{next(NUMBERS)}")
    for _ in range(3):  # three rounds of each
        first.refresh(CONFIG)
        second.refresh(CONFIG)
    assert len(asked) == 3 and first.asking and not second.asking
    assert second.consumed("celery") is True and second.consumed("slow") is False

    # the asking process stops (its key expires): another one asks from its next round
    from django.core.cache import cache

    cache.delete(second.shared._keys()[1])
    second.refresh(CONFIG)
    assert second.asking and len(asked) == 4
    first.refresh(CONFIG)
    assert not first.asking and len(asked) == 4


def test_processes_on_other_brokers_do_not_share_answers(monkeypatch):
    asked = []

    def inspect(timeout):
        asked.append(timeout)
        return SimpleNamespace(active_queues=lambda: {})

    n = next(NUMBERS)
    apps = iter([fake_app(inspect, f"redis://a/{n}"), fake_app(inspect, f"redis://b/{n}")])
    app = next(apps)
    monkeypatch.setattr("dfws_celery.queue_watch.get_celery_app", lambda: app)
    process(f"a-{next(NUMBERS)}").refresh(CONFIG)
    app = next(apps)
    process(f"b-{next(NUMBERS)}").refresh(CONFIG)
    assert len(asked) == 2  # each broker's processes have an asker of their own


def test_the_watch_starts_only_for_celery_workers_and_when_on(settings):
    w = QueueWatch()
    settings.WEBSOCKET_QUEUE_WATCH = None
    assert w.start() is False
    settings.WEBSOCKET_QUEUE_WATCH = {"interval": 5}
    settings.WEBSOCKET_WORKERS = "thread"
    assert w.start() is False


def test_the_command_names_the_project_app_and_the_queue(settings):
    settings.WEBSOCKET_CELERY_APP = "proj.celery.app"
    assert worker_command("slow") == "celery -A proj.celery worker -Q slow"


def test_a_call_to_a_queue_without_consumer_is_refused_and_nothing_is_sent(known, settings):
    settings.WEBSOCKET_CELERY_APP = "proj.celery.app"
    declare("unit.qw.mixed", "celery")
    declare("unit.qw.mixed", "lonely")
    with SignalQueue() as queue, pytest.raises(NoConsumer) as refused:
        forward("unit.qw.mixed", {}, "c1", CALLER)
    assert queue.python_signals == {}  # not even the handler whose queue has a consumer
    error = refused.value
    assert (error.type, error.queue, error.call_id) == (ErrorType.NO_CONSUMER, "lonely", "c1")
    assert error.body()["message"] == (
        "no worker consumes the queue 'lonely': start one with "
        "`celery -A proj.celery worker -Q lonely`"
    )


def test_a_call_to_a_consumed_queue_or_while_unknown_is_sent(known):
    declare("unit.qw.consumed", "celery")
    with SignalQueue() as queue:
        forward("unit.qw.consumed", {}, "c1", CALLER)
    assert list(queue.python_signals) == ["celery"]
    declare("unit.qw.unknown", "lonely")
    known.use(CONFIG)  # no answer yet (a process that just started)
    with SignalQueue() as queue:
        forward("unit.qw.unknown", {}, "c2", CALLER)
    assert list(queue.python_signals) == ["lonely"]


def test_a_server_trigger_to_a_queue_without_consumer_is_sent_and_warned_once(known, caplog):
    declare("unit.qw.server", "lonely")
    caplog.set_level(logging.WARNING, logger="dfws.queues")
    with SignalQueue() as queue:
        for n in range(3):
            trigger(None, "unit.qw.server", to=[SERVER], n=n)
    # the messages wait in the broker, as Celery's do
    assert len(queue.python_signals["lonely"]) == 3
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, warnings
    assert "'unit.qw.server'" in warnings[0] and "'lonely'" in warnings[0]
    assert "worker -Q lonely" in warnings[0]


def test_a_declared_queue_without_consumer_is_asked_again_sooner(declared):
    """Workers starting with the web process: the first answer must not refuse for 5 s."""
    declare("unit.watch.slow", "watch-slow")
    w = QueueWatch()
    w.use(CONFIG)
    assert w.next_round(CONFIG) == 5  # no answer yet: the usual interval
    w.record({})  # asked before the workers listened
    assert "watch-slow" in w.missing()
    assert [w.next_round(CONFIG) for _ in range(5)] == [1, 2, 4, 5, 5]
    w.record({q: ["w@h"] for q in w.missing()})  # every declared queue is consumed now
    assert w.missing() == []
    assert w.next_round(CONFIG) == 5
    w.record({})  # gone again: sooner again, from 1 s
    assert w.next_round(CONFIG) == 1
