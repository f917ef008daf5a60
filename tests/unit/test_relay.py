"""The result relay: what the calling window is told about its handler's outcome.

``dfws_celery.relay.publish`` is replaced by a recorder: the group_frames are
checked as the browser would decode them.
"""

from __future__ import annotations

import pytest
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

from dfws_celery import WindowInfo, report_progress
from dfws_celery.errors import (
    BadFrame,
    InvalidArgument,
    MissingArgument,
    PermissionDenied,
    ResultNotSerializable,
    SignalError,
)
from dfws_celery.relay import (
    describe_error,
    encode_result,
    send_error,
    send_progress,
    send_result,
    window_group,
)

CALLER = {"window_key": "w1"}


def test_the_window_group_is_the_window_topics_group():
    assert window_group(CALLER) == "dfws.-window.w1"
    assert window_group(WindowInfo.from_dict(CALLER)) == "dfws.-window.w1"
    assert window_group({"session_hash": "s"}) is None  # no window: nobody to answer
    assert window_group(None) is None


def test_the_window_group_follows_the_topic_serializer(settings):
    settings.WEBSOCKET_TOPIC_SERIALIZER = f"{__name__}.shouting_serializer"
    assert window_group(CALLER) == "dfws.WINDOW-W1"


def shouting_serializer(window_info, target):
    return f"{target!r}-{window_info.window_key}".upper()


@pytest.mark.parametrize(
    "error",
    [
        InvalidArgument("bad n", "n"),
        MissingArgument("no n", "n"),
        PermissionDenied("no"),
        ResultNotSerializable("object"),
        BadFrame("x"),
        SignalError("generic"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_signal_errors_describe_themselves(error):
    assert describe_error(error) == error.body()


@pytest.mark.parametrize("error", [TimeLimitExceeded(5), SoftTimeLimitExceeded("soft")])
def test_time_limits(error):
    assert describe_error(error) == {
        "type": "time_limit",
        "message": f"time limit exceeded ({error})",
    }


def test_handler_exceptions_hide_their_message_unless_debug(settings):
    settings.DEBUG = False
    assert describe_error(KeyError("secret")) == {
        "type": "handler_exception", "message": "KeyError", "exception": "KeyError",
    }  # fmt: skip
    settings.DEBUG = True
    assert describe_error(ValueError("detail")) == {
        "type": "handler_exception", "message": "ValueError: detail", "exception": "ValueError",
    }  # fmt: skip


def test_exhausted_retries_say_how_many(settings):
    settings.DEBUG = False
    assert describe_error(KeyError("k"), retries=3) == {
        "type": "retries_exhausted", "message": "failed after 3 retries with KeyError", "exception": "KeyError",
    }  # fmt: skip
    settings.DEBUG = True
    assert (
        describe_error(OSError("down"), retries=1)["message"]
        == "failed after 1 retries with OSError: down"
    )
    assert describe_error(InvalidArgument("bad", "n"), retries=2)["type"] == "invalid_argument"


def test_a_result_goes_to_the_calling_window(group_frames):
    send_result(CALLER, "c1", "h", {"n": [1, 2]})
    assert group_frames == [
        (["dfws.-window.w1"], {"call_id": "c1", "handler": "h", "result": {"n": [1, 2]}})
    ]


def test_a_result_the_encoder_refuses_becomes_an_error(group_frames, settings):
    settings.DEBUG = True  # the reason is the point here; without DEBUG it is only logged
    send_result(CALLER, "c1", "h", {1, 2})
    [(_, frame)] = group_frames
    assert frame["error"]["type"] == "result_not_serializable"
    assert "cannot be encoded" in frame["error"]["message"]
    with pytest.raises(ResultNotSerializable):
        encode_result("h", object())
    assert encode_result("h", None) == "null"


def test_an_error_goes_to_the_calling_window(group_frames):
    send_error(CALLER, "c1", "h", MissingArgument("no n", "n"))
    assert group_frames == [
        (
            ["dfws.-window.w1"],
            {
                "call_id": "c1",
                "handler": "h",
                "error": {"type": "missing_argument", "message": "no n", "argument": "n"},
            },
        )
    ]


def test_nothing_is_sent_without_a_window(group_frames):
    send_result({}, "c1", "h", 1)
    send_error(None, "c1", "h", KeyError())
    assert group_frames == []


def test_progress_reaches_only_a_window_waiting_for_a_call(group_frames):
    info = WindowInfo.from_dict(CALLER)
    report_progress(info, 0.5, "half")  # a server-side run: no call to report on
    info.call_id = "c1"
    send_progress(info, 0.5)  # no handler running yet
    info.handler = "h"
    report_progress(info, 0.25, "a quarter")
    send_progress(info, None)
    assert [f for _, f in group_frames] == [
        {"call_id": "c1", "handler": "h", "progress": {"fraction": 0.25, "message": "a quarter"}},
        {"call_id": "c1", "handler": "h", "progress": {"fraction": None, "message": ""}},
    ]
