"""Every error a dfws call can end with: one enumeration of types, one exception family.

The ``ErrorType`` values are part of the wire format: the browser receives
them as ``{"error": {"type", "message", "argument"?}}`` and the TypeScript
client's union of error types is generated from this enumeration
(``frontend/src/wire.generated.ts``).  A refusal at the websocket edge and a
refusal in the worker are the same kind of thing, a :class:`SignalError`;
only where it is raised differs.

An error has two texts: ``message``, what any browser may read, and
``detail``, what the operator reads (``str(error)``, hence every log line),
which may name handler modules, patterns, choices and permissions.  With
``DEBUG`` on the browser gets the detail too.  An error raised with one text
uses it for both.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NotRequired, TypedDict

from django.conf import settings


class ErrorType(StrEnum):
    """The ``type`` of every error frame, grouped by who decides it."""

    # the websocket edge refuses a frame before anything is queued
    BAD_FRAME = "bad_frame"
    TOO_LARGE = "too_large"
    UNKNOWN_SIGNAL = "unknown_signal"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    TOO_MANY_CALLS = "too_many_calls"
    UNAVAILABLE = "unavailable"
    NO_CONSUMER = "no_consumer"
    # the worker refuses the call before the handler runs
    PERMISSION_DENIED = "permission_denied"
    MISSING_ARGUMENT = "missing_argument"
    UNEXPECTED_ARGUMENT = "unexpected_argument"
    INVALID_ARGUMENT = "invalid_argument"
    # the handler ran and did not give a result the browser can use
    HANDLER_EXCEPTION = "handler_exception"
    TIME_LIMIT = "time_limit"
    RETRIES_EXHAUSTED = "retries_exhausted"
    RESULT_NOT_SERIALIZABLE = "result_not_serializable"
    # a SignalError raised without a more precise type
    SIGNAL_ERROR = "signal_error"


class ErrorBody(TypedDict):
    """The ``error`` member of a frame."""

    type: str
    message: str
    argument: NotRequired[str]
    exception: NotRequired[str]


class SignalError(Exception):
    """A dfws signal call that did not reach (or did not finish in) its handler.

    ``message`` is shown to the browser; ``detail`` (default: ``message``) is
    ``str(error)`` for logs, and shown to the browser only with ``DEBUG`` on.
    ``call_id`` is set when the refused frame was a call the browser waits for.
    """

    type: ErrorType = ErrorType.SIGNAL_ERROR

    def __init__(
        self,
        message: str,
        argument: str | None = None,
        call_id: str | None = None,
        *,
        detail: str | None = None,
    ) -> None:
        self.detail = message if detail is None else detail
        super().__init__(self.detail)
        self.message = message
        self.argument = argument
        self.call_id = call_id

    def body(self) -> ErrorBody:
        """The ``error`` member of the frame: the detail only with ``DEBUG`` on."""
        message = self.detail if settings.DEBUG else self.message
        error: ErrorBody = {"type": self.type, "message": message}
        if self.argument is not None:
            error["argument"] = self.argument
        return error


class BadFrame(SignalError):
    type = ErrorType.BAD_FRAME


class FrameTooLarge(SignalError):
    type = ErrorType.TOO_LARGE


class UnknownSignal(SignalError):
    type = ErrorType.UNKNOWN_SIGNAL


class Forbidden(SignalError):
    type = ErrorType.FORBIDDEN


class RateLimited(SignalError):
    type = ErrorType.RATE_LIMITED


class TooManyCalls(SignalError):
    type = ErrorType.TOO_MANY_CALLS


class Unavailable(SignalError):
    type = ErrorType.UNAVAILABLE


class NoConsumer(SignalError):
    """No worker consumes the queue of a handler (``queue_watch``): said at once, not
    after the call's timeout.  ``queue`` names it; the message says how to start one."""

    type = ErrorType.NO_CONSUMER

    def __init__(self, message: str, *, queue: str, call_id: str | None = None) -> None:
        super().__init__(message, call_id=call_id)
        self.queue = queue


class PermissionDenied(SignalError):
    type = ErrorType.PERMISSION_DENIED


class MissingArgument(SignalError):
    type = ErrorType.MISSING_ARGUMENT


class UnexpectedArgument(SignalError):
    type = ErrorType.UNEXPECTED_ARGUMENT


class InvalidArgument(SignalError):
    type = ErrorType.INVALID_ARGUMENT


class ResultNotSerializable(SignalError):
    type = ErrorType.RESULT_NOT_SERIALIZABLE


class PublishError(Exception):
    """``trigger()`` could not hand its signal to the broker or the channel layer.

    Raised by ``trigger()``/``trigger_signal()`` and their async versions when
    Redis or the broker is unreachable; the library's exception (redis-py's,
    kombu's, a socket's) is the ``__cause__``.  With several targets the
    signal may have reached some of them.  ``fail_silently=True`` logs instead.
    """

    def __init__(self, path: str, cause: BaseException) -> None:
        super().__init__(f"dfws signal {path!r} could not be sent: {type(cause).__name__}: {cause}")
        self.path = path
