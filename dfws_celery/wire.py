"""The wire format, named once: every frame in both directions, the messages behind them.

Browser -> server (text frames on the window's websocket):

* ``--heartbeat--``, echoed as is;
* a call ``{"signal", "opts", "call_id"?}`` (:class:`CallFrame`).

Server -> browser:

* a signal ``{"signal", "opts", "signal_id"}`` (:class:`SignalFrame`);
* an ack ``{"call_id", "ack": {"handlers", "timeout"}}``, or a refusal
  ``{"call_id", "ack": {"handlers": []}, "error"}`` / ``{"error"}`` when the
  frame had no call id;
* per handler, a result ``{"call_id", "handler", "result"}``, an error
  ``{"call_id", "handler", "error"}`` or a progress report
  ``{"call_id", "handler", "progress": {"fraction", "message"}}``.

Behind them: the channel-layer message that carries a frame to a group
(:class:`LayerFrame`), the task message of a handler (positional
``(window_info, kwargs_json)`` plus :class:`TaskKwargs`), the
``runworker`` message of the ``channels`` backend, and the window entry
that ``set_websocket_topics`` caches for the consumer (:class:`WindowEntry`).

Builders return the JSON text.  Those on the hot path splice already
encoded JSON (the signal's arguments, a handler's result) into the frame
instead of decoding and encoding it again.  ``frontend/src/wire.generated.ts``
is generated from this module and :mod:`dfws_celery.errors`
(``python -m scripts.wire_ts``); ``make test`` fails when it is stale.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any, Literal, NotRequired, TypedDict

from dfws_celery.errors import BadFrame, ErrorBody, FrameTooLarge

HEARTBEAT = "--heartbeat--"
CALL_ID_MAX = 100

WindowInfoValues = dict[str, Any]
"""A ``WindowInfo`` as plain JSON values (what ``WINDOW_INFO_MIDDLEWARES`` write)."""


class CloseCode(IntEnum):
    """Websocket close codes the server sends when it refuses a window.

    After 4001, 4003 or 4004 the client warns and stops (``state`` "closed", a
    ``close`` event with ``willRetry`` false): only a new page fixes them.  After
    4008 or 4029 it warns and waits the longest reconnect delay (``reconnectCapMs``,
    30 s) instead of retrying at once.
    """

    SESSION_ENDED = 4001
    """The page's session ended (logout, expiry) or its user may no longer use it
    (password changed elsewhere, deactivated)."""
    FORGED_KEY = 4003
    """No window key, a key not signed by this site, or one bound to another session."""
    UNKNOWN_WINDOW = 4004
    """The window's cache entry is gone (expired, evicted, never written)."""
    TOO_MANY_REFUSALS = 4008
    """The socket sent more refused frames in a minute than ``WEBSOCKET_MAX_REFUSALS``."""
    TOO_MANY_SOCKETS = 4029
    """The window, or the client's address, has as many sockets open as allowed."""


TRY_AGAIN_CLOSE = 4013
"""Close code of a socket the server could not admit for now (Redis unreachable, restarting).

Not a refusal of the window (not in :class:`CloseCode`): the client retries with its usual
backoff.  (RFC 6455's own 1013 is refused by autobahn, daphne's websocket library.)"""


# ---- browser -> server ----


class CallFrame(TypedDict):
    # the signal's dotted name, as declared by ``@signal(path=...)``
    signal: str
    # the handler's keyword arguments (JSON object)
    opts: dict[str, Any]
    # chosen by the page; with it the call is acknowledged and answered
    call_id: NotRequired[str]


# ---- server -> browser ----


class SignalFrame(TypedDict):
    # the name of the browser-side handlers to run
    signal: str
    # their argument (JSON object)
    opts: dict[str, Any]
    # unique per trigger: a window that gets the frame twice (two of its topics) runs it once
    signal_id: str


class AckQueue(TypedDict):
    """The queue of one handler of a call, for a timeout message the page can act on."""

    # the Celery queue the handler's task was sent to
    queue: str
    consumer: bool | None  # whether a worker was seen consuming it (None: not known)


class Ack(TypedDict):
    # the task names that will answer, one result or error each
    handlers: list[str]
    # seconds the page waits for them (``WEBSOCKET_CALL_TIMEOUT``) unless the call set its own
    timeout: NotRequired[float]
    queues: NotRequired[dict[str, AckQueue]]  # by handler, when its queue is fixed


class AckFrame(TypedDict):
    # the page's ``call_id``
    call_id: str
    # what the edge forwarded
    ack: Ack
    # set when nothing was forwarded (a refusal decided at the edge)
    error: NotRequired[ErrorBody]


class ResultFrame(TypedDict):
    # the call this answers
    call_id: str
    # the task name of the handler that returned
    handler: str
    # its return value, JSON-encoded with Django's encoder
    result: Any


class ErrorFrame(TypedDict):
    # absent for a refused frame that had none
    call_id: NotRequired[str]
    # the handler that refused or raised, when one did
    handler: NotRequired[str]
    # ``type`` (a stable code), ``message``, and ``details`` for some types
    error: ErrorBody


class Progress(TypedDict):
    # 0 to 1, or ``null`` when the handler does not know
    fraction: float | None
    # free text for the page
    message: str


class ProgressFrame(TypedDict):
    # the call still running
    call_id: str
    # the task name of the handler reporting
    handler: str
    # what ``report_progress`` was given
    progress: Progress


# Every frame a window gets through one of its groups ends with ``"o"``: for each
# of the window's topics that carried the frame (named by a tag, 12 hex digits, the same
# for every window of the topic), ``"<epoch>.<offset>"``, its position in its history.
# The client keeps the last position per topic and sends them back when it reconnects
# (``?dfwspos=``, the same map as JSON); the server replays what it missed, then says so:
Positions = dict[str, str]
POSITIONS_QUERY = "dfwspos"


class Recovered(TypedDict):
    frames: int  # frames replayed from the histories
    resync: list[str]  # topics whose missed frames are gone: the page should reload them


class RecoveredFrame(TypedDict):
    # sent once after the replay at connect, or after a hole
    recovered: Recovered


def with_positions(text: str, positions: Positions) -> str:
    """``text`` (a JSON object) with ``"o": positions`` as its last member."""
    return f'{text[:-1]},"o":{_dumps(positions)}}}'


def recovered_frame(frames: int, resync: list[str]) -> str:
    frame: RecoveredFrame = {"recovered": {"frames": frames, "resync": resync}}
    return _dumps(frame)


# ---- behind the frames ----


class LayerFrame(TypedDict):
    """The channel-layer message that makes each consumer of a group send ``text``."""

    # Channels' handler name: ``SignalConsumer.dfws_frame``
    type: Literal["dfws.frame"]
    # the frame as the browser gets it, encoded once by the publisher
    text: str
    # group -> (epoch, offset) in that group's history (``dfws_celery.history``)
    o: NotRequired[dict[str, Any]]


class LayerControl(TypedDict):
    """A message to the consumers of a group about their windows, not for the browser.

    ``dfws.revoke`` closes them (``CloseCode.SESSION_ENDED``); ``dfws.revalidate``
    makes each check its session and user again, closing the windows that fail.
    """

    # close the socket (logout) or check its session and user again
    type: Literal["dfws.revoke", "dfws.revalidate"]


class TaskKwargs(TypedDict, total=False):
    """Keyword arguments of a handler task message; empty unless a browser called."""

    # a browser call (``True``) or a server trigger
    from_client: bool
    # the page's ``call_id``, for the answer
    call_id: str | None


class ExecuteMessage(TypedDict):
    """What the ``channels`` backend sends to a queue's channel for ``runworker``."""

    # handled by ``runworker`` (the ``channels`` backend)
    type: Literal["dfws.execute"]
    # the handler to run
    task_name: str
    # the caller, as ``WindowInfo.to_dict()``
    window_info: WindowInfoValues
    # the encoded arguments
    kwargs: str
    # a browser call or a server trigger
    from_client: bool
    # the page's ``call_id``, for the answer
    call_id: str | None


class WindowEntry(TypedDict):
    """The cache entry of one window: its topics, who it is and when that was checked."""

    # the serialized topics the window joins at connect
    topics: list[str]
    # the page view's ``WindowInfo``
    window_info: WindowInfoValues
    # ``time.time()`` when the page's session and user were last checked (absent: never)
    verified_at: NotRequired[float]


# ---- builders ----


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def signal_frame(path: str, encoded_opts: str, signal_id: str) -> str:
    """A :class:`SignalFrame` around arguments already encoded by the signal encoder."""
    return f'{{"signal":{_dumps(path)},"opts":{encoded_opts},"signal_id":"{signal_id}"}}'


def ack_frame(
    call_id: str,
    handlers: list[str],
    timeout: float,
    queues: dict[str, AckQueue] | None = None,
) -> str:
    ack: Ack = {"handlers": handlers, "timeout": timeout}
    if queues:
        ack["queues"] = queues
    frame: AckFrame = {"call_id": call_id, "ack": ack}
    return _dumps(frame)


def refusal_frame(error: ErrorBody, call_id: str | None = None) -> str:
    """The edge refused a frame: a refused call is acked with no handler."""
    if call_id is None:
        return _dumps({"error": error})
    frame: AckFrame = {"call_id": call_id, "ack": {"handlers": []}, "error": error}
    return _dumps(frame)


def result_frame(call_id: str, handler: str, encoded_result: str) -> str:
    """A :class:`ResultFrame` around a result already encoded by the signal encoder."""
    return f'{{"call_id":{_dumps(call_id)},"handler":{_dumps(handler)},"result":{encoded_result}}}'


def error_frame(call_id: str, handler: str, error: ErrorBody) -> str:
    frame: ErrorFrame = {"call_id": call_id, "handler": handler, "error": error}
    return _dumps(frame)


def progress_frame(call_id: str, handler: str, fraction: float | None, message: str) -> str:
    progress: Progress = {"fraction": fraction, "message": message}
    frame: ProgressFrame = {"call_id": call_id, "handler": handler, "progress": progress}
    return _dumps(frame)


_ANSWER_PREFIX = '{"call_id":'
_decoder = json.JSONDecoder()


def answer_of(text: str) -> tuple[str, str] | None:
    """``(call_id, handler)`` of a result or error frame (as built here), else ``None``.

    Reads only the head of the frame: results may be large, and every frame a
    window receives passes here.
    """
    if not text.startswith(_ANSWER_PREFIX):
        return None
    try:
        call_id, end = _decoder.raw_decode(text, len(_ANSWER_PREFIX))
        if not text.startswith(',"handler":', end):
            return None
        handler, end = _decoder.raw_decode(text, end + len(',"handler":'))
    except ValueError:
        return None
    if not isinstance(call_id, str) or not isinstance(handler, str):
        return None
    if text.startswith(',"result":', end) or text.startswith(',"error":', end):
        return call_id, handler
    return None


def layer_frame(text: str) -> LayerFrame:
    return {"type": "dfws.frame", "text": text}


def revoke_message() -> LayerControl:
    return {"type": "dfws.revoke"}


def revalidate_message() -> LayerControl:
    return {"type": "dfws.revalidate"}


# ---- reading what the browser sent ----


def _refuse_constant(name: str) -> Any:
    """``NaN``, ``Infinity``, ``-Infinity``: Python reads them, JSON has no such numbers."""
    raise ValueError(f"{name} is not a JSON number")


CALL_KEYS = frozenset(CallFrame.__annotations__)


def parse_call_frame(text: str, max_size: int) -> CallFrame:
    """Decode and check a browser frame, or raise a ``SignalError`` naming the problem."""
    size = len(text) if text.isascii() else len(text.encode())
    if size > max_size:
        raise FrameTooLarge(f"frame of {size} bytes exceeds {max_size} bytes")
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise BadFrame("frame is nested too deeply") from exc
    except ValueError as exc:
        raise BadFrame(f"frame is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadFrame("frame must be a JSON object")
    call_id = data.get("call_id")
    if call_id is not None and (not isinstance(call_id, str) or len(call_id) > CALL_ID_MAX):
        raise BadFrame(f"'call_id' must be a string of at most {CALL_ID_MAX} characters")
    signal = data.get("signal")
    if not isinstance(signal, str) or not signal:
        raise BadFrame("'signal' must be a non-empty string", call_id=call_id)
    opts = data.get("opts", {})
    if not isinstance(opts, dict):
        raise BadFrame("'opts' must be a JSON object", call_id=call_id)
    extra = set(data) - CALL_KEYS
    if extra:
        raise BadFrame(f"unexpected keys {sorted(extra)}", call_id=call_id)
    frame: CallFrame = {"signal": signal, "opts": opts}
    if call_id is not None:
        frame["call_id"] = call_id
    return frame
