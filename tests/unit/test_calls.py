"""Forwarding a browser call: which handlers it may reach, on which queues."""

from __future__ import annotations

import itertools

import pytest

from dfws_celery import DynamicQueue, everyone, is_anonymous, is_authenticated, is_staff, signal
from dfws_celery.errors import Forbidden, UnknownSignal
from dfws_celery.testing import SignalQueue
from dfws_web.calls import callable_handlers, forward

TASK_NUMBERS = itertools.count()
BY_SIZE = DynamicQueue(
    lambda wi, kw: "big" if kw.get("size", 0) > 10 else "celery", ["celery", "big"]
)
CALLER = {"window_key": "w1", "session_hash": "s1"}


class Recorder(SignalQueue):
    """A SignalQueue that also notes which task each message is for, and the call id."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def enqueue(self, connection, queue, info, kwargs, **options):
        self.calls.append((connection.task_name, queue, options.get("call_id")))
        super().enqueue(connection, queue, info, kwargs, **options)


def declare(path, **options):
    def handler(window_info, size: int = 0):
        pass

    # a fresh task name each time: Celery keeps the task of a forgotten declaration
    name = f"{path}.{next(TASK_NUMBERS)}"
    signal(path, name=name, **options)(handler)
    return name


def test_an_unknown_signal_is_refused_with_the_call_id():
    with pytest.raises(
        UnknownSignal, match=r"no server handler for dfws signal 'unit\.calls\.nobody'"
    ) as info:
        callable_handlers("unit.calls.nobody", "c1")
    assert info.value.call_id == "c1"


def test_a_server_side_signal_is_forbidden_to_browsers(declared):
    declare("unit.calls.private")
    with (
        SignalQueue() as queue,
        pytest.raises(
            Forbidden, match=r"'unit\.calls\.private' cannot be called from a browser"
        ) as info,
    ):
        forward("unit.calls.private", {}, "c2", CALLER)
    assert info.value.call_id == "c2"
    assert dict(queue.python_signals) == {}


def test_only_the_browser_callable_handlers_are_reached(declared):
    declare("unit.calls.mixed")
    open_name = declare("unit.calls.mixed", is_allowed_to=is_authenticated)
    # only server-side handlers are left out here: the permission itself is checked later
    assert [c.task_name for c in callable_handlers("unit.calls.mixed", None)] == [open_name]


def test_a_call_is_enqueued_per_handler_as_from_a_browser(declared):
    first = declare("unit.calls.multi", is_allowed_to=everyone)
    second = declare("unit.calls.multi", is_allowed_to=everyone, queue="slow")
    with Recorder() as queue:
        forward("unit.calls.multi", {"size": 1}, "c3", CALLER)
    assert queue.calls == [(first, "celery", "c3"), (second, "slow", "c3")]
    assert queue.python_signals["celery"] == [
        ["unit.calls.multi", CALLER, {"size": 1}, True, None, True, "celery"]
    ]
    assert queue.python_signals["slow"][0][3] is True


def test_a_dynamic_queue_chooses_from_the_arguments(declared):
    declare("unit.calls.dynamic", is_allowed_to=everyone, queue=BY_SIZE)
    with SignalQueue() as queue:
        forward("unit.calls.dynamic", {"size": 50}, None, CALLER)
        forward("unit.calls.dynamic", {"size": 5}, None, CALLER)
    assert [e[2] for e in queue.python_signals["big"]] == [{"size": 50}]
    assert [e[2] for e in queue.python_signals["celery"]] == [{"size": 5}]


def custom_permission(connection, window_info, kwargs):
    return False


@pytest.mark.parametrize(
    ("permission", "window", "allowed"),
    [
        (is_authenticated, CALLER, False),
        (is_authenticated, {**CALLER, "user_pk": 3, "is_authenticated": True}, True),
        (is_staff, {**CALLER, "user_pk": 3, "is_authenticated": True}, False),
        (is_staff, {**CALLER, "user_pk": 3, "is_authenticated": True, "is_staff": True}, False),
        (
            is_staff,
            {**CALLER, "user_pk": 3, "is_authenticated": True, "is_staff": True, "is_active": True},
            True,
        ),
        (is_anonymous, {**CALLER, "is_anonymous": True}, True),
    ],
)
def test_built_in_permissions_are_decided_before_anything_is_queued(
    declared, permission, window, allowed
):
    name = declare("unit.calls.edge", is_allowed_to=permission)
    with Recorder() as queue:
        outcome = forward("unit.calls.edge", {}, "c4", window)
    assert outcome.handlers == [name]
    assert [n for n, _, _ in queue.calls] == ([name] if allowed else [])
    assert [(n, e.type) for n, e in outcome.refused] == (
        [] if allowed else [(name, "permission_denied")]
    )


def test_a_projects_own_permission_is_left_to_the_worker(declared):
    name = declare("unit.calls.custom", is_allowed_to=custom_permission)
    with Recorder() as queue:
        outcome = forward("unit.calls.custom", {}, "c5", CALLER)
    assert [n for n, _, _ in queue.calls] == [name] and outcome.refused == []
