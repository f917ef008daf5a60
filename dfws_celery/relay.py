"""The result relay: each handler's outcome goes back to the browser window that called it.

Chosen hook: the task class's ``on_success``/``on_failure`` (``SignalTask``
in ``compiler``), not Celery's global ``task_success``/``task_failure``
signals, so that only dfws tasks pay for it and the project's own signal
receivers are untouched.  One exception: a handler's result is sent by the
task body itself as soon as the handler returns, before Celery stores the
result and runs its hooks, so the reply waits for neither (``on_success``
sends it only if that send failed).  Celery also calls ``on_failure`` (in the
parent process) when a hard time limit kills a task, so timeouts are answered
too.  Non-Celery backends answer through ``executor.run_and_answer``.  Calls
that did not come from a browser (no ``call_id``) are never answered.

A browser call refused in the worker (permission, arguments) is not a
failure of the code: its task ends successfully with a :class:`Refusal` as
its result, and ``on_success`` answers the window with the same error frame
a failure would (Flower's failure count then means broken code).
"""

from __future__ import annotations

import logging
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings

from dfws_celery.conf import dfws_settings
from dfws_celery.errors import (
    ErrorBody,
    ErrorType,
    InvalidArgument,
    MissingArgument,
    PermissionDenied,
    ResultNotSerializable,
    SignalError,
    UnexpectedArgument,
)
from dfws_celery.publisher import publish
from dfws_celery.targets import WINDOW
from dfws_celery.topics import group_name
from dfws_celery.window_info import WindowInfo
from dfws_celery.wire import WindowInfoValues, error_frame, progress_frame, result_frame

logger = logging.getLogger("dfws.signals")


# what the worker decides before a handler runs, on a browser's behalf
REFUSALS = (PermissionDenied, MissingArgument, UnexpectedArgument, InvalidArgument)


class Refusal(dict[str, Any]):
    """The result of a task that refused a browser call: ``{"refused": {type, message,
    argument?}}`` as stored (the detail, for operators), the error kept for the answer."""

    def __init__(self, error: SignalError) -> None:
        refused: dict[str, str] = {"type": str(error.type), "message": error.detail}
        if error.argument is not None:
            refused["argument"] = error.argument
        super().__init__(refused=refused)
        self.error = error


def window_group(window_info: WindowInfo | WindowInfoValues | None) -> str | None:
    if not isinstance(window_info, WindowInfo):
        window_info = WindowInfo.from_dict(window_info)
    topic = dfws_settings.topic_serializer(window_info, WINDOW)
    return None if topic is None else group_name(topic)


def encode_result(handler: str, value: Any) -> str:
    """The handler's return value as JSON text, or ``ResultNotSerializable``."""
    try:
        return dfws_settings.encode(value)
    except (TypeError, ValueError) as exc:
        raise ResultNotSerializable(
            "the result cannot be encoded",
            detail=f"the result of {handler} cannot be encoded by WEBSOCKET_SIGNAL_ENCODER: {exc}",
        ) from exc


def send_result(window_info: Any, call_id: str, handler: str, value: Any) -> None:
    try:
        encoded = encode_result(handler, value)
    except ResultNotSerializable as exc:
        logger.warning("%s", exc)
        send_error(window_info, call_id, handler, exc)
        return
    _send(window_info, result_frame(call_id, handler, encoded))


def send_encoded_result(window_info: Any, call_id: str, handler: str, encoded: str) -> None:
    """:func:`send_result` of a value already encoded (``encode_result``)."""
    _send(window_info, result_frame(call_id, handler, encoded))


def send_error(
    window_info: Any, call_id: str, handler: str, exc: BaseException, retries: int = 0
) -> None:
    _send(window_info, error_frame(call_id, handler, describe_error(exc, retries)))


def send_progress(window_info: WindowInfo, fraction: float | None, message: str = "") -> None:
    if window_info.call_id is None or window_info.handler is None:
        return
    _send(window_info, progress_frame(window_info.call_id, window_info.handler, fraction, message))


def describe_error(exc: BaseException, retries: int = 0) -> ErrorBody:
    """The ``{"type", "message", "argument"?}`` the browser gets for ``exc``.

    Internals (a ``SignalError``'s detail, an exception's text) only with ``DEBUG`` on.
    """
    if isinstance(exc, SignalError):
        return exc.body()
    if isinstance(exc, TimeLimitExceeded | SoftTimeLimitExceeded):
        return {"type": ErrorType.TIME_LIMIT, "message": f"time limit exceeded ({exc})"}
    name = type(exc).__name__
    detail = f": {exc}" if settings.DEBUG else ""
    if retries:
        return {
            "type": ErrorType.RETRIES_EXHAUSTED,
            "message": f"failed after {retries} retries with {name}{detail}",
            "exception": name,
        }
    return {"type": ErrorType.HANDLER_EXCEPTION, "message": f"{name}{detail}", "exception": name}


def _send(window_info: Any, frame: str) -> None:
    group = window_group(window_info)
    if group is not None:
        publish([group], frame)


def report_progress(window_info: WindowInfo, fraction: float | None, message: str = "") -> None:
    """Tell the calling window how far the current handler is (0.0 to 1.0).

    Does nothing when the handler was not called from a browser.
    """
    send_progress(window_info, fraction, message)
