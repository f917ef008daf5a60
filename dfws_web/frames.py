"""Shapes of the frames exchanged with the browser (the wire format, named once)."""

from __future__ import annotations

import json
from typing import Any, NotRequired, TypedDict

HEARTBEAT = "--heartbeat--"


class ClientFrame(TypedDict):
    """Browser -> server."""

    signal: str
    opts: dict[str, Any]
    call_id: NotRequired[str]


class ErrorBody(TypedDict):
    type: str
    message: str
    argument: NotRequired[str]


class FrameError(Exception):
    """A browser frame we refuse; ``type`` goes to the browser as the error type."""

    def __init__(self, type_: str, message: str, call_id: str | None = None) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message
        self.call_id = call_id

    def frame(self) -> str:
        body: dict[str, Any] = {"error": {"type": self.type, "message": self.message}}
        if self.call_id is not None:
            body = {"call_id": self.call_id, "ack": {"handlers": []}, **body}
        return json.dumps(body)


def parse_client_frame(text: str, max_size: int) -> ClientFrame:
    """Decode and check a browser frame, or raise ``FrameError`` naming the problem."""
    if len(text) > max_size:
        raise FrameError("too_large", f"frame of {len(text)} bytes exceeds {max_size} bytes")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FrameError("bad_frame", f"frame is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise FrameError("bad_frame", "frame must be a JSON object")
    call_id = data.get("call_id")
    if call_id is not None and (not isinstance(call_id, str) or len(call_id) > 100):
        raise FrameError("bad_frame", "'call_id' must be a string of at most 100 characters")
    signal = data.get("signal")
    if not isinstance(signal, str) or not signal:
        raise FrameError("bad_frame", "'signal' must be a non-empty string", call_id)
    opts = data.get("opts", {})
    if not isinstance(opts, dict):
        raise FrameError("bad_frame", "'opts' must be a JSON object", call_id)
    extra = set(data) - {"signal", "opts", "call_id"}
    if extra:
        raise FrameError("bad_frame", f"unexpected keys {sorted(extra)}", call_id)
    frame: ClientFrame = {"signal": signal, "opts": opts}
    if call_id is not None:
        frame["call_id"] = call_id
    return frame


def ack_frame(call_id: str, handlers: list[str], timeout: float) -> str:
    return json.dumps({"call_id": call_id, "ack": {"handlers": handlers, "timeout": timeout}})
