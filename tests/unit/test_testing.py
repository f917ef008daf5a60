"""``SignalQueue``: unit tests of a project capture signals instead of sending them."""

from __future__ import annotations

import datetime
import itertools

import pytest

from dfws_celery import (
    BROADCAST,
    SERVER,
    WindowInfo,
    backends,
    everyone,
    signal,
    trigger,
    trigger_signal,
)
from dfws_celery.testing import SignalQueue

TASK_NUMBERS = itertools.count()


@pytest.fixture
def ran(declared):
    """Two handlers of ``unit.testing.job`` on two queues, and one on ``unit.testing.chain``."""
    calls = []

    def job(window_info, n: int = 0):
        calls.append(("job", n))

    def slow_job(window_info, n: int = 0):
        calls.append(("slow_job", n))

    def chain(window_info, n: int = 0):
        calls.append(("chain", n))
        trigger(window_info, "unit.testing.job", to=SERVER, n=n + 1)

    for path, function, queue in [
        ("unit.testing.job", job, None),
        ("unit.testing.job", slow_job, "slow"),
        ("unit.testing.chain", chain, None),
    ]:
        # a fresh task name each time: Celery keeps the task of a forgotten declaration
        signal(path, queue=queue, is_allowed_to=everyone, name=f"{path}.{next(TASK_NUMBERS)}")(
            function
        )
    return calls


def window():
    return WindowInfo.from_dict({"window_key": "w1", "session_hash": "s1"})


def test_frames_and_task_messages_are_recorded_not_sent(ran):
    info = window()
    with SignalQueue() as queue:
        trigger(info, "unit.testing.job", to=[SERVER, "room", BROADCAST], n=1)
    assert queue.ws_signals == {
        "room": [("unit.testing.job", {"n": 1})],
        "-broadcast": [("unit.testing.job", {"n": 1})],
    }
    assert queue.python_signals["celery"] == [
        ["unit.testing.job", info.to_dict(), {"n": 1}, False, None, True, "celery"]
    ]
    assert [entry[0] for entry in queue.python_signals["slow"]] == ["unit.testing.job"]
    assert ran == []


def test_the_queue_is_the_backend_only_inside_the_block(ran):
    queue = SignalQueue()
    with queue:
        assert backends.current() is queue
    assert backends.current() is not queue


def test_recorded_values_are_what_json_makes_of_them(ran):
    with SignalQueue() as queue:
        trigger(
            None,
            "unit.testing.job",
            to=["room", SERVER],
            n=2,
            day=datetime.date(2030, 1, 2),
            items=(1, 2),
        )
    assert queue.ws_signals["room"] == [
        ("unit.testing.job", {"n": 2, "day": "2030-01-02", "items": [1, 2]})
    ]
    assert queue.python_signals["celery"][0][2] == {"n": 2, "day": "2030-01-02", "items": [1, 2]}


def test_a_value_json_cannot_carry_is_refused_as_in_production():
    with SignalQueue(), pytest.raises(TypeError, match=r"argument 'thing' = <object"):
        trigger(None, "unit.testing.job", to="room", thing=object())


def test_a_record_that_cannot_round_trip_names_the_signal(ran, settings):
    settings.WINDOW_INFO_MIDDLEWARES = [f"{__name__}.SetMiddleware"]
    with (
        SignalQueue(),
        pytest.raises(
            TypeError,
            match=r"dfws signal 'unit.testing.job': captured value is not JSON-serializable",
        ),
    ):
        trigger(WindowInfo(), "unit.testing.job", to=SERVER)


class SetMiddleware:
    """Writes a value the JSON encoder refuses into the window dict."""

    def new_window_info(self, window_info):
        pass

    def to_dict(self, window_info, values):
        values["tags"] = {"a"}


def test_delayed_signals_run_by_queue_until_none_is_left(ran):
    with SignalQueue() as queue:
        trigger(window(), "unit.testing.job", to=SERVER, n=1)
        queue.execute_delayed_signals(queues=["slow"])
        assert ran == [("slow_job", 1)] and queue.python_signals["celery"]
        trigger(window(), "unit.testing.chain", to=SERVER, n=10)
        queue.execute_delayed_signals()  # a handler that triggers more: those run too
    assert sorted(ran) == sorted(
        [("slow_job", 1), ("job", 1), ("chain", 10), ("job", 11), ("slow_job", 11)]
    )
    assert not any(queue.python_signals.values())


def test_an_entry_appended_by_hand_runs_the_first_handler_of_its_path(ran):
    with SignalQueue() as queue:
        queue.python_signals["celery"].append(
            ["unit.testing.job", {}, {"n": 5}, False, None, True, "celery"]
        )
        queue.execute_delayed_signals()
    assert ran == [("job", 5)]


def test_immediate_mode_runs_handlers_at_trigger_time(ran):
    with SignalQueue(immediate=True) as queue:
        trigger(window(), "unit.testing.job", to=SERVER, n=3)
        assert sorted(ran) == [("job", 3), ("slow_job", 3)]
    assert dict(queue.python_signals) == {}


def test_countdown_frames_are_recorded_at_once(ran):
    with SignalQueue() as queue:
        trigger_signal(None, "unit.testing.job", to=["room", SERVER], kwargs={"n": 1}, countdown=60)
    assert queue.ws_signals["room"] == [("unit.testing.job", {"n": 1})]
    assert len(queue.python_signals["celery"]) == 1
