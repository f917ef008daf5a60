"""Running one handler: the body every worker mode shares."""

from __future__ import annotations

import itertools
import logging

import pytest
from django.utils import translation

from dfws_celery import WindowInfo, everyone, signal
from dfws_celery.errors import InvalidArgument, PermissionDenied
from dfws_celery.executor import decode_kwargs, run_and_answer, run_from_message, run_handler
from dfws_celery.registry import REGISTRY

TASK_NUMBERS = itertools.count()


@pytest.fixture
def seen():
    return []


@pytest.fixture
def open_handler(declared, seen):
    def handler(window_info, n: int = 0):
        seen.append((window_info.handler, window_info.call_id, translation.get_language(), n))
        if n < 0:
            raise ValueError("negative")
        return n + 1

    return declare(handler, is_allowed_to=everyone)


def declare(function, **options):
    name = f"unit.executor.{next(TASK_NUMBERS)}"  # Celery keeps a forgotten declaration's task
    signal("unit.executor", name=name, **options)(function)
    return REGISTRY.by_task_name[name]


def test_arguments_arrive_as_json_text_or_as_a_dict():
    assert decode_kwargs(None) == {}
    assert decode_kwargs('{"a": 1}') == {"a": 1}
    assert decode_kwargs(b'{"a": 1}') == {"a": 1}
    assert decode_kwargs({"a": 1}) == {"a": 1}
    with pytest.raises(TypeError, match=r"must be a JSON object, got \[1\]"):
        decode_kwargs("[1]")


def test_a_handler_runs_with_its_window_language_and_name(open_handler, seen):
    info = WindowInfo.from_dict({"language_code": "nl"})
    assert run_handler(open_handler, info, {"n": "4"}) == 5
    assert seen == [(open_handler.task_name, None, "nl", 4)]
    assert info.handler == open_handler.task_name  # what report_progress() needs


def test_server_code_may_run_a_handler_browsers_may_not(declared):
    def private(window_info):
        return "ran"

    connection = declare(private)
    assert run_handler(connection, WindowInfo(), {}) == "ran"
    with pytest.raises(
        PermissionDenied,
        match=r"dfws signal 'unit.executor', handler .*private: permission denied \(server_side\)",
    ):
        run_handler(connection, WindowInfo(), {}, from_client=True)


def test_the_permission_sees_the_window_and_the_arguments(declared):
    asked = []

    def only_small(connection, window_info, kwargs):
        asked.append((connection.path, window_info.window_key, kwargs))
        return kwargs.get("n", 0) < 10

    def handler(window_info, n: int = 0):
        return n

    connection = declare(handler, is_allowed_to=only_small)
    info = WindowInfo.from_dict({"window_key": "w"})
    assert run_handler(connection, info, {"n": 3}, from_client=True) == 3
    with pytest.raises(PermissionDenied):
        run_handler(connection, info, {"n": 30}, from_client=True)
    assert asked == [("unit.executor", "w", {"n": 3}), ("unit.executor", "w", {"n": 30})]


def test_refusals_are_logged_with_the_window(open_handler, caplog):
    caplog.set_level(logging.WARNING, "dfws.signals")
    with pytest.raises(InvalidArgument):
        run_handler(open_handler, WindowInfo.from_dict({"window_key": "w7"}), {"n": "x"})
    assert "invalid argument 'n'" in caplog.text and "<WindowInfo window='w7'" in caplog.text


def test_run_from_message_rebuilds_the_window_and_its_call(open_handler, seen):
    assert (
        run_from_message(
            open_handler, {"window_key": "w", "language_code": "fr"}, '{"n": 1}', True, "c1"
        )
        == 2
    )
    assert seen == [(open_handler.task_name, "c1", "fr", 1)]
    assert run_from_message(open_handler, None, None) == 1


def test_run_and_answer_tells_the_window(open_handler, frames):
    assert run_and_answer(open_handler, {"window_key": "w"}, '{"n": 1}', True, "c1") == 2
    with pytest.raises(ValueError, match="negative"):
        run_and_answer(open_handler, {"window_key": "w"}, '{"n": -1}', True, "c2")
    assert frames == [
        {"call_id": "c1", "handler": open_handler.task_name, "result": 2},
        {
            "call_id": "c2",
            "handler": open_handler.task_name,
            "error": {
                "type": "handler_exception",
                "message": "ValueError",
                "exception": "ValueError",
            },
        },
    ]
