"""Running one handler: the body shared by every worker mode.

Permission (for browser calls) and arguments are checked here, in the
worker, never in the websocket consumer.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import translation

from dfws_celery.conf import dfws_settings
from dfws_celery.errors import PermissionDenied, SignalError
from dfws_celery.registry import SignalConnection
from dfws_celery.relay import REFUSALS, Refusal, send_error, send_result
from dfws_celery.validators import check_arguments
from dfws_celery.window_info import WindowInfo
from dfws_celery.wire import WindowInfoValues

logger = logging.getLogger("dfws.signals")


def decode_kwargs(kwargs: dict[str, Any] | str | bytes | None) -> dict[str, Any]:
    """Task messages carry the arguments as the trigger encoded them (a JSON text)."""
    if kwargs is None:
        return {}
    if isinstance(kwargs, str | bytes):
        kwargs = dfws_settings.decode(kwargs)
    if not isinstance(kwargs, dict):
        raise TypeError(f"dfws signal arguments must be a JSON object, got {kwargs!r}")
    return kwargs


def denied(connection: SignalConnection) -> PermissionDenied:
    """The refusal of a browser call to ``connection``'s handler, wherever it is decided.

    The browser reads "permission denied"; the handler and the permission are
    in the detail (the log line; the browser too with ``DEBUG`` on).
    """
    return PermissionDenied(
        "permission denied",
        detail=f"dfws signal {connection.path!r}, handler {connection.handler_name}: "
        f"permission denied ({connection.permission_name})",
    )


def run_handler(
    connection: SignalConnection,
    window_info: WindowInfo,
    kwargs: dict[str, Any],
    from_client: bool = False,
) -> Any:
    """Check and call ``connection``'s handler; ``SignalError`` when it may not run."""
    window_info.handler = connection.task_name
    try:
        if from_client and not connection.is_allowed_to(connection, window_info, kwargs):
            raise denied(connection)
        arguments = check_arguments(connection, kwargs)
    except SignalError as exc:
        logger.warning("%s (%r)", exc, window_info)
        raise
    with translation.override(window_info.language_code):
        return connection.function(window_info, **arguments)


def run_from_message(
    connection: SignalConnection,
    window_info: WindowInfoValues | None,
    kwargs: dict[str, Any] | str | None,
    from_client: bool = False,
    call_id: str | None = None,
) -> Any:
    """Run a handler from the plain values a task message carries."""
    info = WindowInfo.from_dict(window_info)
    info.call_id = call_id
    return run_handler(connection, info, decode_kwargs(kwargs), from_client)


def run_and_answer(
    connection: SignalConnection,
    window_info: WindowInfoValues | None,
    kwargs: dict[str, Any] | str | None,
    from_client: bool,
    call_id: str,
) -> Any:
    """Run a handler outside Celery and answer the calling window (thread/process/channels).

    A refusal of a browser call is answered and returned (a :class:`Refusal`),
    not raised: it is no failure of the code.
    """
    try:
        result = run_from_message(connection, window_info, kwargs, from_client, call_id)
    except REFUSALS as exc:
        send_error(window_info, call_id, connection.task_name, exc)
        if not from_client:
            raise
        return Refusal(exc)
    except Exception as exc:
        send_error(window_info, call_id, connection.task_name, exc)
        raise
    send_result(window_info, call_id, connection.task_name, result)
    return result
