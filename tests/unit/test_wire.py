"""The wire format: every builder's text decodes to the documented shape."""

from __future__ import annotations

import json
import re

import pytest

from dfws_celery.errors import BadFrame, ErrorType, FrameTooLarge, SignalError
from dfws_celery.wire import (
    CALL_ID_MAX,
    CloseCode,
    ack_frame,
    error_frame,
    layer_frame,
    parse_call_frame,
    progress_frame,
    refusal_frame,
    result_frame,
    signal_frame,
)


def test_signal_frame_splices_the_encoded_arguments():
    text = signal_frame('a."b', '{"x":[1,2]}', "abc")
    assert json.loads(text) == {"signal": 'a."b', "opts": {"x": [1, 2]}, "signal_id": "abc"}


def test_result_frame_splices_the_encoded_result_and_escapes_names():
    text = result_frame('c"1', "h</script>", '{"ok":true}')
    assert json.loads(text) == {"call_id": 'c"1', "handler": "h</script>", "result": {"ok": True}}


def test_ack_and_refusals():
    assert json.loads(ack_frame("c", ["t1"], 30.0)) == {
        "call_id": "c",
        "ack": {"handlers": ["t1"], "timeout": 30.0},
    }
    body = BadFrame("nope").body()
    assert json.loads(refusal_frame(body)) == {"error": {"type": "bad_frame", "message": "nope"}}
    assert json.loads(refusal_frame(body, "c")) == {
        "call_id": "c",
        "ack": {"handlers": []},
        "error": {"type": "bad_frame", "message": "nope"},
    }


def test_error_and_progress_frames():
    error = {"type": ErrorType.INVALID_ARGUMENT, "message": "m", "argument": "n"}
    assert json.loads(error_frame("c", "h", error)) == {
        "call_id": "c",
        "handler": "h",
        "error": {"type": "invalid_argument", "message": "m", "argument": "n"},
    }
    assert json.loads(progress_frame("c", "h", 0.5, "half")) == {
        "call_id": "c",
        "handler": "h",
        "progress": {"fraction": 0.5, "message": "half"},
    }
    assert layer_frame("t") == {"type": "dfws.frame", "text": "t"}


def test_close_codes_are_private_use_codes():
    assert all(4000 <= code <= 4999 for code in CloseCode)


def test_every_error_class_names_a_distinct_type():
    classes = [SignalError, *SignalError.__subclasses__()]
    types = [cls.type for cls in classes]
    assert len(types) == len(set(types))
    assert set(types) <= set(ErrorType)


def test_a_valid_call_frame_is_returned_as_is():
    assert parse_call_frame('{"signal": "a.b", "opts": {"x": 1}, "call_id": "7"}', 1000) == {
        "signal": "a.b",
        "opts": {"x": 1},
        "call_id": "7",
    }
    assert parse_call_frame('{"signal": "a.b"}', 1000) == {"signal": "a.b", "opts": {}}


@pytest.mark.parametrize(
    ("text", "message", "call_id"),
    [
        ("{", "not valid JSON", None),
        ("[1]", "must be a JSON object", None),
        ('{"signal": "", "call_id": "k"}', "'signal' must be a non-empty string", "k"),
        ('{"signal": "a", "opts": 3, "call_id": "k"}', "'opts' must be a JSON object", "k"),
        ('{"signal": "a", "x": 1}', "unexpected keys ['x']", None),
        ('{"signal": "a", "call_id": 5}', "'call_id' must be a string", None),
        ('{"signal": "a", "call_id": "' + "k" * (CALL_ID_MAX + 1) + '"}', "at most", None),
        # deeper than any supported Python's JSON decoder goes (3.13's takes 4,000 levels)
        ("[" * 20_000 + "]" * 20_000, "nested too deeply", None),
        ('{"signal": "a", "opts": {"n": NaN}}', "NaN is not a JSON number", None),
        ('{"signal": "a", "opts": {"n": [Infinity]}}', "Infinity is not a JSON number", None),
    ],
)
def test_malformed_call_frames_are_refused_with_the_reason(text, message, call_id):
    with pytest.raises(BadFrame, match=re.escape(message)) as info:
        parse_call_frame(text, 65_536)  # WEBSOCKET_MAX_FRAME_SIZE's default
    assert info.value.call_id == call_id
    assert info.value.type == ErrorType.BAD_FRAME


def test_an_oversized_frame_is_refused_before_it_is_decoded():
    with pytest.raises(FrameTooLarge, match="frame of 12 bytes exceeds 10 bytes"):
        parse_call_frame("{" * 12, 10)
