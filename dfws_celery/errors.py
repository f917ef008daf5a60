"""Errors raised before or around a handler, each with a stable ``type``.

The ``type`` strings are part of the wire format: the result relay sends
them to the browser as ``{"error": {"type", "message", "argument"?}}``.
"""

from __future__ import annotations

from typing import Any


class SignalError(Exception):
    """A dfws signal call that did not reach (or did not finish in) its handler."""

    type = "signal_error"

    def __init__(self, message: str, argument: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.argument = argument

    def as_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.argument is not None:
            error["argument"] = self.argument
        return error


class PermissionDenied(SignalError):
    type = "permission_denied"


class MissingArgument(SignalError):
    type = "missing_argument"


class UnexpectedArgument(SignalError):
    type = "unexpected_argument"


class InvalidArgument(SignalError):
    type = "invalid_argument"
