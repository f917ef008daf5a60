"""The one exception family: what each error says to the browser."""

from __future__ import annotations

import pytest

from dfws_celery.errors import (
    BadFrame,
    ErrorType,
    Forbidden,
    FrameTooLarge,
    InvalidArgument,
    MissingArgument,
    PermissionDenied,
    RateLimited,
    ResultNotSerializable,
    SignalError,
    Unavailable,
    UnexpectedArgument,
    UnknownSignal,
)


@pytest.mark.parametrize(
    ("cls", "kind"),
    [
        (SignalError, "signal_error"),
        (BadFrame, "bad_frame"),
        (FrameTooLarge, "too_large"),
        (UnknownSignal, "unknown_signal"),
        (Forbidden, "forbidden"),
        (RateLimited, "rate_limited"),
        (Unavailable, "unavailable"),
        (PermissionDenied, "permission_denied"),
        (MissingArgument, "missing_argument"),
        (UnexpectedArgument, "unexpected_argument"),
        (InvalidArgument, "invalid_argument"),
        (ResultNotSerializable, "result_not_serializable"),
    ],
)
def test_each_error_names_its_wire_type(cls, kind):
    error = cls("went wrong")
    assert error.body() == {"type": kind, "message": "went wrong"}
    assert isinstance(error, SignalError) and str(error) == "went wrong"


def test_the_argument_is_named_only_when_known():
    error = InvalidArgument("bad count", "count", call_id="c9")
    assert error.body() == {"type": "invalid_argument", "message": "bad count", "argument": "count"}
    assert (error.message, error.argument, error.call_id) == ("bad count", "count", "c9")
    assert "argument" not in MissingArgument("m").body()


def test_error_types_are_plain_strings_on_the_wire():
    assert ErrorType.TIME_LIMIT == "time_limit"
    assert f"{ErrorType.RETRIES_EXHAUSTED}" == "retries_exhausted"
