"""Each handler becomes its own Celery task, which answers the browser call it ran for.

Tasks run here with ``Task.apply()``: in this process, no broker.
"""

from __future__ import annotations

import itertools

import pytest
from celery.exceptions import TimeLimitExceeded

from dfws_celery import everyone, signal
from dfws_celery.compiler import SignalTask, compile_connection
from dfws_celery.errors import InvalidArgument
from dfws_celery.registry import REGISTRY
from tests.celery_app import app

TASK_NUMBERS = itertools.count()
WINDOW = {"window_key": "w1"}
BROWSER = {"from_client": True, "call_id": "c1"}


def declare(function, **options):
    # a fresh task name each time: Celery keeps the task of a forgotten declaration
    name = f"unit.compiler.{function.__name__}.{next(TASK_NUMBERS)}"
    signal("unit.compiler", name=name, is_allowed_to=everyone, **options)(function)
    connection = REGISTRY.by_task_name[name]
    return connection, app.tasks[name]


def test_a_declaration_becomes_a_named_task_with_its_options(declared):
    def handler(window_info, n: int):
        """Doubles n."""
        return n * 2

    connection, task = declare(handler, time_limit=9, max_retries=1, priority=4)
    assert isinstance(task, SignalTask) and connection.task.name == task.name
    assert (task.time_limit, task.max_retries, task.serializer) == (9, 1, "json")
    assert task.priority is None  # a message option, not a task attribute
    assert (task.__name__, task.__doc__) == ("handler", "Doubles n.")
    compile_connection(connection)  # idempotent
    assert connection.task.name == task.name


def test_a_task_decodes_its_json_arguments_and_validates_them(declared, group_frames):
    def double(window_info, n: int):
        return n * 2

    _, task = declare(double)
    assert task.apply((WINDOW, '{"n": "21"}')).get() == 42
    with pytest.raises(InvalidArgument, match="invalid argument 'n'"):
        task.apply((WINDOW, '{"n": "x"}')).get()
    assert group_frames == []  # not a browser call: nobody is answered


def test_a_browser_call_is_answered_with_its_result(declared, group_frames):
    def double(window_info, n: int):
        return {"n": n * 2, "call": window_info.call_id}

    _, task = declare(double)
    task.apply((WINDOW, '{"n": 2}'), BROWSER).get()
    assert group_frames == [
        (
            ["dfws.-window.w1"],
            {"call_id": "c1", "handler": task.name, "result": {"n": 4, "call": "c1"}},
        )
    ]


def test_the_result_is_sent_before_celery_records_the_success(declared, group_frames, monkeypatch):
    """The task body answers as soon as the handler returns: the reply does not wait for the
    result backend or Celery's success hooks (``on_success`` finds it sent, sends nothing)."""

    def double(window_info, n: int):
        return n * 2

    _, task = declare(double)
    seen_by_hook: list[int] = []
    real_on_success = SignalTask.on_success

    def on_success(self, *args):
        seen_by_hook.append(len(group_frames))
        real_on_success(self, *args)

    monkeypatch.setattr(SignalTask, "on_success", on_success)
    task.apply((WINDOW, '{"n": 2}'), BROWSER).get()
    assert seen_by_hook == [1]  # already sent when Celery's success hook ran
    assert [frame["result"] for _, frame in group_frames] == [4]  # and only once


def test_a_result_the_task_body_could_not_send_is_sent_by_on_success(
    declared, group_frames, monkeypatch
):
    from dfws_celery import compiler

    def double(window_info, n: int):
        return n * 2

    def unreachable(*args):
        raise ConnectionError("Redis is restarting")

    _, task = declare(double)
    monkeypatch.setattr(compiler, "send_encoded_result", unreachable)
    assert task.apply((WINDOW, '{"n": 2}'), BROWSER).get() == 4  # the task still succeeds
    assert [frame["result"] for _, frame in group_frames] == [4]  # answered by on_success


def test_a_failed_browser_call_is_answered_with_its_error(declared, group_frames):
    def fail(window_info):
        raise ZeroDivisionError("secret detail")

    _, task = declare(fail)
    result = task.apply((WINDOW, "{}"), BROWSER)
    assert isinstance(result.result, ZeroDivisionError)
    [(_, frame)] = group_frames
    assert frame["error"] == {
        "type": "handler_exception",
        "message": "ZeroDivisionError",
        "exception": "ZeroDivisionError",
    }


def test_a_result_the_browser_cannot_read_fails_the_task_and_says_why(
    declared, group_frames, settings
):
    settings.DEBUG = True  # the reason is the point here; without DEBUG it is only logged

    def unencodable(window_info):
        return object()

    _, task = declare(unencodable)
    assert task.apply((WINDOW, "{}"), BROWSER).state == "FAILURE"
    [(_, frame)] = group_frames
    assert frame["error"]["type"] == "result_not_serializable"
    assert "cannot be encoded" in frame["error"]["message"]
    # a server-side run of the same handler does not encode: it succeeds
    assert task.apply((WINDOW, "{}")).state == "SUCCESS"


def test_a_permission_refusal_is_answered(declared, group_frames):
    def private(window_info):
        return "ran"

    name = f"unit.compiler.private.{next(TASK_NUMBERS)}"
    signal("unit.compiler.private", name=name)(private)  # server_side
    app.tasks[name].apply((WINDOW, "{}"), BROWSER)
    assert group_frames[0][1]["error"]["type"] == "permission_denied"
    assert app.tasks[name].apply((WINDOW, "{}")).get() == "ran"


def test_retries_and_time_limits_are_told_apart(declared, group_frames):
    def handler(window_info):
        pass

    _, task = declare(handler)
    task.on_failure(KeyError("k"), "id", (WINDOW, "{}"), BROWSER, None)  # request.retries: 0
    task.push_request(retries=2)
    try:
        task.on_failure(KeyError("k"), "id", (WINDOW, "{}"), BROWSER, None)
    finally:
        task.pop_request()
    task.on_failure(TimeLimitExceeded(5), "id", (WINDOW, "{}"), BROWSER, None)
    assert [f["error"]["type"] for _, f in group_frames] == [
        "handler_exception",
        "retries_exhausted",
        "time_limit",
    ]
    assert group_frames[1][1]["error"]["message"] == "failed after 2 retries with KeyError"


def test_calls_without_a_call_id_or_not_from_a_browser_are_never_answered(declared, group_frames):
    def handler(window_info):
        pass

    _, task = declare(handler)
    for kwargs in (
        {},
        {"from_client": True},
        {"call_id": "c1"},
        {"from_client": True, "call_id": ""},
        None,
    ):
        task.on_success("r", "id", (WINDOW, "{}"), kwargs)
        task.on_failure(KeyError(), "id", (WINDOW, "{}"), kwargs, None)
    assert group_frames == []


def test_the_window_may_travel_as_a_keyword_argument(declared, group_frames):
    def handler(window_info):
        pass

    _, task = declare(handler)
    task.on_success(1, "id", (), {**BROWSER, "window_info": {"window_key": "w2"}})
    assert group_frames == [
        (["dfws.-window.w2"], {"call_id": "c1", "handler": task.name, "result": 1})
    ]


def test_later_declarations_are_compiled_at_once(declared):
    name = f"unit.compiler.late.{next(TASK_NUMBERS)}"

    def late(window_info):
        return "late"

    signal("unit.compiler.late", name=name)(late)
    assert REGISTRY.by_task_name[name].task is not None
    assert app.tasks[name].apply((None, None)).get() == "late"


def test_what_celery_stores_of_a_call_holds_no_window_key_but_the_handler_has_it(declared):
    from celery import current_task

    seen = []

    def peek(window_info):
        request = current_task.request  # what result backends store with result_extended
        seen.append((window_info.window_key, request.args, request.kwargs))
        return "ok"

    _, task = declare(peek)
    sent = {"window_key": "w-secret", "username": "ann"}
    assert task.apply((sent, "{}"), BROWSER).get() == "ok"
    key, stored_window, stored_kwargs = seen[0]
    assert key == "w-secret"
    assert stored_window == [{"username": "ann"}, "{}"] and stored_kwargs == BROWSER
    assert sent == {"window_key": "w-secret", "username": "ann"}  # the caller's dict is intact
    task.apply((), {"window_info": dict(sent), "kwargs": "{}", **BROWSER}).get()
    assert seen[1][0] == "w-secret" and seen[1][2]["window_info"] == {"username": "ann"}


def test_a_retried_call_still_knows_its_window(declared, group_frames):
    runs = []

    def flaky(window_info):
        runs.append(window_info.window_key)
        if len(runs) == 1:
            raise ConnectionError("try again")
        return "second time"

    _, task = declare(flaky, autoretry_for=(ConnectionError,), max_retries=1)
    assert task.apply((WINDOW, "{}"), BROWSER).get() == "second time"
    assert runs == ["w1", "w1"]
    assert group_frames[-1][0] == ["dfws.-window.w1"]
