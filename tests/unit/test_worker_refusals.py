"""Refusals are not failures (issue 13): a browser call the worker refuses (permission,
arguments) ends its task successfully with a ``{"refused": ...}`` result, and the window
still gets the error frame; a handler that raises still fails its task."""

from __future__ import annotations

import itertools

from dfws_celery import everyone, signal
from dfws_celery.relay import Refusal
from tests.celery_app import app

TASK_NUMBERS = itertools.count()
WINDOW = {"window_key": "w1"}
BROWSER = {"from_client": True, "call_id": "c1"}


def declare(function, **options):
    name = f"unit.refusals.{function.__name__}.{next(TASK_NUMBERS)}"
    options.setdefault("is_allowed_to", everyone)
    signal("unit.refusals", name=name, **options)(function)
    return app.tasks[name]


def test_a_permission_refusal_succeeds_with_an_error_result(declared, group_frames):
    def private(window_info):
        return "ran"

    task = declare(private, is_allowed_to=lambda connection, info, kwargs: False)
    result = task.apply((WINDOW, "{}"), BROWSER)
    assert result.state == "SUCCESS"
    assert isinstance(result.result, Refusal)
    assert result.result["refused"]["type"] == "permission_denied"
    assert "permission denied (" in result.result["refused"]["message"]  # the detail
    (frame,) = [frame for _, frame in group_frames]
    assert frame["error"] == {"type": "permission_denied", "message": "permission denied"}
    assert frame["call_id"] == "c1" and frame["handler"] == task.name


def test_an_argument_refusal_succeeds_and_names_the_argument(declared, group_frames):
    def handler(window_info, n: int):
        return n

    task = declare(handler)
    result = task.apply((WINDOW, '{"n": "x"}'), BROWSER)
    assert result.state == "SUCCESS"
    assert result.result["refused"]["type"] == "invalid_argument"
    assert result.result["refused"]["argument"] == "n"
    assert group_frames[0][1]["error"]["type"] == "invalid_argument"
    result = task.apply((WINDOW, "{}"), BROWSER)
    assert result.state == "SUCCESS"
    assert group_frames[1][1]["error"]["type"] == "missing_argument"


def test_a_fire_and_forget_browser_call_refused_succeeds_too(declared, group_frames):
    def handler(window_info, n: int):
        return n

    task = declare(handler)
    assert task.apply((WINDOW, '{"n": "x"}'), {"from_client": True}).state == "SUCCESS"
    assert group_frames == []  # no call id: nobody to answer


def test_bad_arguments_of_a_server_trigger_still_fail(declared, group_frames):
    """No browser decided them: the code that triggered is broken."""

    def handler(window_info, n: int):
        return n

    assert declare(handler).apply((WINDOW, '{"n": "x"}')).state == "FAILURE"


def test_a_handler_exception_still_fails(declared, group_frames):
    def handler(window_info):
        raise KeyError("bug")

    result = declare(handler).apply((WINDOW, "{}"), BROWSER)
    assert result.state == "FAILURE"
    assert group_frames[0][1]["error"]["type"] == "handler_exception"
