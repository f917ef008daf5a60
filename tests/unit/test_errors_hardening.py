"""Issue 11, leaks in error texts: with DEBUG off the browser reads no internals.

A refusal names the handler's module, the permission, the pattern or the
choices in its *detail* (``str(error)``, every log line); the browser reads
only the public message ("permission denied", "invalid argument 'code'"),
with the error type and the ``argument``.  With ``DEBUG`` on it reads the
detail, as before.
"""

from __future__ import annotations

import itertools
import logging
import pickle

import pytest

from dfws_celery import RE, Choice, WindowInfo, everyone, is_staff, signal
from dfws_celery.errors import InvalidArgument, PermissionDenied, SignalError
from dfws_celery.executor import denied, run_and_answer
from dfws_celery.registry import REGISTRY
from dfws_celery.relay import describe_error, send_result
from dfws_celery.testing import SignalQueue
from dfws_celery.validators import check_arguments
from dfws_web.calls import forward

TASK_NUMBERS = itertools.count()
INTERNALS = ("tests.unit", "[a-z]{3}", "blue", "red", "is_staff", "server_side", "handler ")


def declare(function, **options):
    name = f"unit.hardening.err.{next(TASK_NUMBERS)}"  # Celery keeps forgotten declarations
    signal("unit.hardening.err", name=name, **options)(function)
    return REGISTRY.by_task_name[name]


@pytest.fixture
def cast(declared):
    def handler(window_info, code: RE(r"[a-z]{3}"), color: Choice(["red", "blue"]) = "red"):
        return code

    return declare(handler, is_allowed_to=everyone)


def refusal(connection, kwargs):
    with pytest.raises(SignalError) as info:
        check_arguments(connection, kwargs)
    return info.value


CASES = [
    ({"code": "abcd"}, "invalid_argument", "code", "invalid argument 'code'"),
    ({"code": "abc", "color": "green"}, "invalid_argument", "color", "invalid argument 'color'"),
    ({}, "missing_argument", "code", "missing argument 'code'"),
    ({"code": "abc", "size": 1}, "unexpected_argument", "size", "unexpected argument 'size'"),
]


@pytest.mark.parametrize(("kwargs", "kind", "argument", "message"), CASES)
def test_argument_refusals_tell_the_browser_only_the_argument(
    cast, kwargs, kind, argument, message
):
    error = refusal(cast, kwargs)
    assert describe_error(error) == {"type": kind, "message": message, "argument": argument}
    assert not any(internal in describe_error(error)["message"] for internal in INTERNALS)
    # the detail is the exception's text: what every log line shows
    assert str(error).startswith(f"dfws signal 'unit.hardening.err', handler {cast.handler_name}")


@pytest.mark.parametrize(("kwargs", "kind", "argument", "message"), CASES)
def test_with_debug_the_browser_reads_the_detail(cast, settings, kwargs, kind, argument, message):
    settings.DEBUG = True
    error = refusal(cast, kwargs)
    body = describe_error(error)
    assert body == {"type": kind, "message": str(error), "argument": argument}
    assert cast.handler_name in body["message"] and message in body["message"]


def test_patterns_and_choices_are_in_the_detail_only(cast, settings):
    pattern, choice = refusal(cast, {"code": "abcd"}), refusal(cast, {"code": "abc", "color": "x"})
    assert "does not match '[a-z]{3}'" in str(pattern)
    assert "is not one of blue, red" in str(choice)
    settings.DEBUG = True
    assert "does not match '[a-z]{3}'" in pattern.body()["message"]
    assert "is not one of blue, red" in choice.body()["message"]


def test_a_permission_refusal_names_no_handler_nor_permission(declared, settings):
    def staff(window_info):
        pass

    error = denied(declare(staff, is_allowed_to=is_staff))
    assert isinstance(error, PermissionDenied)
    assert error.body() == {"type": "permission_denied", "message": "permission denied"}
    assert "handler " in str(error) and "(is_staff)" in str(error)
    settings.DEBUG = True
    assert error.body()["message"] == str(error)


def test_a_worker_refusal_reaches_the_window_short_and_the_log_in_full(cast, frames, caplog):
    caplog.set_level(logging.WARNING, "dfws.signals")
    # a refusal is answered and returned, not raised: it is no failure of the code
    refusal = run_and_answer(cast, {"window_key": "w"}, '{"code": "abcd"}', True, "c1")
    assert isinstance(refusal.error, InvalidArgument)
    assert frames == [
        {
            "call_id": "c1",
            "handler": cast.task_name,
            "error": {
                "type": "invalid_argument",
                "message": "invalid argument 'code'",
                "argument": "code",
            },
        }
    ]
    [record] = [r for r in caplog.records if r.name == "dfws.signals"]
    assert record.levelno == logging.WARNING
    assert cast.handler_name in record.getMessage()
    assert "'abcd' does not match '[a-z]{3}'" in record.getMessage()


def test_an_edge_refusal_tells_the_browser_only_permission_denied(declared):
    def staff(window_info):
        pass

    connection = declare(staff, is_allowed_to=is_staff)
    with SignalQueue() as queue:
        outcome = forward("unit.hardening.err", {}, "c1", {"window_key": "w", "user_pk": 1})
    assert not any(queue.python_signals.values())  # refused before anything is queued
    [(handler, error)] = outcome.refused
    assert handler == connection.task_name
    assert error.body() == {"type": "permission_denied", "message": "permission denied"}
    assert "(is_staff)" in str(error)  # what the consumer logs


def test_an_unencodable_result_does_not_describe_the_handler(frames, settings):
    send_result(WindowInfo.from_dict({"window_key": "w"}), "c1", "mod.h", {1, 2})
    assert frames[-1]["error"] == {
        "type": "result_not_serializable",
        "message": "the result cannot be encoded",
    }
    settings.DEBUG = True
    send_result(WindowInfo.from_dict({"window_key": "w"}), "c2", "mod.h", {1, 2})
    assert frames[-1]["error"]["message"].startswith(
        "the result of mod.h cannot be encoded by WEBSOCKET_SIGNAL_ENCODER"
    )


def test_both_texts_survive_pickling(cast):
    """The process backend returns errors from its children pickled."""
    error = refusal(cast, {"code": "abcd"})
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.detail, copy.argument) == (
        error.message,
        error.detail,
        error.argument,
    )
    assert str(copy) == str(error) and copy.body() == error.body()


def test_an_error_with_one_text_shows_it_everywhere(settings):
    error = InvalidArgument("bad count", "count")
    assert str(error) == error.detail == "bad count"
    assert error.body()["message"] == "bad count"
    settings.DEBUG = True
    assert error.body()["message"] == "bad count"
