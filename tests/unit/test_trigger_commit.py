"""Trigger after commit (issue 13): inside ``transaction.atomic()`` nothing leaves before the
commit, nothing at all on rollback; ``on_commit=False`` and ``WEBSOCKET_TRIGGER_ON_COMMIT``
opt out.  And an unreachable broker or layer: ``PublishError``, or ``fail_silently``."""

from __future__ import annotations

import asyncio
import importlib
import itertools
import logging

import kombu.exceptions
import pytest
import redis
from django.db import transaction

from dfws_celery import (
    SERVER,
    SYNC,
    PublishError,
    WindowInfo,
    atrigger,
    everyone,
    signal,
    trigger,
    trigger_signal,
)
from dfws_celery.testing import SignalQueue

pytestmark = pytest.mark.django_db(transaction=True)  # no test-case transaction around
# dfws_celery.trigger, the module (the package's attribute of that name is the function)
trigger_module = importlib.import_module("dfws_celery.trigger")
TASK_NUMBERS = itertools.count()  # Celery keeps the task of a forgotten declaration


@pytest.fixture
def job(declared):
    ran = []

    @signal(
        path="unit.commit.job", is_allowed_to=everyone, name=f"unit.commit.job.{next(TASK_NUMBERS)}"
    )
    def handler(window_info, n: int = 0):
        ran.append(n)

    return ran


@pytest.fixture(autouse=True)
def fresh_outages():
    trigger_module.outages.reset()
    yield
    trigger_module.outages.reset()


def window():
    return WindowInfo.from_dict({"window_key": "w1"})


def test_inside_atomic_nothing_is_sent_before_the_commit(job):
    with SignalQueue() as queue:
        with transaction.atomic():
            trigger(window(), "unit.commit.job", to=[SERVER, "room"], n=1)
            assert dict(queue.python_signals) == {} and dict(queue.ws_signals) == {}
        assert len(queue.python_signals["celery"]) == 1
        assert queue.ws_signals["room"] == [("unit.commit.job", {"n": 1})]


def test_a_rollback_drops_the_signal(job):
    with SignalQueue() as queue:
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            trigger(window(), "unit.commit.job", to=[SERVER, "room"], n=1)
            raise ZeroDivisionError
        with transaction.atomic():
            with transaction.atomic():  # a savepoint rolled back drops its triggers too
                trigger(window(), "unit.commit.job", to="room", n=2)
                transaction.set_rollback(True)
            trigger(window(), "unit.commit.job", to="room", n=3)
    assert dict(queue.python_signals) == {}
    assert queue.ws_signals == {"room": [("unit.commit.job", {"n": 3})]}


def test_on_commit_false_sends_at_once(job):
    with SignalQueue() as queue, transaction.atomic():
        trigger(window(), "unit.commit.job", to="room", on_commit=False, n=1)
        trigger_signal(window(), "unit.commit.job", to=SERVER, kwargs={"n": 2}, on_commit=False)
        assert queue.ws_signals["room"] == [("unit.commit.job", {"n": 1})]
        assert len(queue.python_signals["celery"]) == 1


def test_the_setting_opts_out(job, settings):
    settings.WEBSOCKET_TRIGGER_ON_COMMIT = False
    with SignalQueue() as queue, transaction.atomic():
        trigger(window(), "unit.commit.job", to="room", n=1)
        assert queue.ws_signals["room"] == [("unit.commit.job", {"n": 1})]
        # and an explicit on_commit=True wins over the setting
        trigger(window(), "unit.commit.job", to="later", on_commit=True, n=2)
        assert "later" not in queue.ws_signals
    assert queue.ws_signals["later"] == [("unit.commit.job", {"n": 2})]


def test_sync_handlers_run_at_once_and_bad_arguments_raise_at_the_call(job):
    with SignalQueue(), transaction.atomic():
        trigger(window(), "unit.commit.job", to=SYNC, n=4)
        assert job == [4]
        with pytest.raises(TypeError, match="cannot be encoded"):
            trigger(window(), "unit.commit.job", to="room", n=object())


def test_outside_atomic_the_signal_goes_at_once(job):
    with SignalQueue() as queue:
        trigger(window(), "unit.commit.job", to="room", n=1)
        assert queue.ws_signals["room"] == [("unit.commit.job", {"n": 1})]


def test_a_test_case_transaction_defers_like_any_other(job, django_capture_on_commit_callbacks):
    """In a TestCase (or pytest-django's ``db``), capture the callbacks to run them."""
    with SignalQueue() as queue, transaction.atomic():
        with django_capture_on_commit_callbacks(execute=True):
            trigger(window(), "unit.commit.job", to="room", n=1)
        assert queue.ws_signals["room"] == [("unit.commit.job", {"n": 1})]


# ---- an unreachable broker or channel layer ----


class Broken(SignalQueue):
    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc

    def publish(self, publication):
        raise self.exc

    async def apublish(self, publication):
        raise self.exc

    def enqueue(self, *args, **kwargs):
        raise self.exc


@pytest.mark.parametrize(
    "cause",
    [
        redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:1"),
        kombu.exceptions.OperationalError("[Errno 111] Connection refused"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
)
def test_an_outage_raises_publish_error_with_the_cause(cause):
    with Broken(cause), pytest.raises(PublishError) as raised:
        trigger(window(), "unit.commit.x", to="room")
    assert raised.value.__cause__ is cause
    assert "dfws signal 'unit.commit.x' could not be sent" in str(raised.value)


def test_fail_silently_logs_once_then_counts(caplog, job):
    caplog.set_level(logging.INFO, "dfws.signals")
    with Broken(redis.exceptions.ConnectionError("down")):
        for _ in range(50):
            trigger(window(), "unit.commit.job", to=[SERVER, "room"], fail_silently=True)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "'unit.commit.job' was not sent" in errors[0].getMessage()
    assert "ConnectionError: down" in errors[0].getMessage()
    with SignalQueue():
        trigger(window(), "unit.commit.job", to="room")
    assert "publish works again (49 unlogged failure(s))" in caplog.text


def test_other_errors_are_not_outages():
    with Broken(ValueError("a bug")), pytest.raises(ValueError):
        trigger(window(), "unit.commit.x", to="room", fail_silently=True)


def test_a_send_at_commit_never_raises(caplog):
    caplog.set_level(logging.ERROR, "dfws.signals")
    with Broken(redis.exceptions.ConnectionError("down")), transaction.atomic():
        trigger(window(), "unit.commit.x", to="room")
    assert "'unit.commit.x' was not sent" in caplog.text


def test_atrigger_raises_publish_error_or_logs():
    cause = redis.exceptions.ConnectionError("down")
    with Broken(cause):
        with pytest.raises(PublishError) as raised:
            asyncio.run(atrigger(window(), "unit.commit.x", to="room"))
        assert raised.value.__cause__ is cause
        asyncio.run(atrigger(window(), "unit.commit.x", to="room", fail_silently=True))
