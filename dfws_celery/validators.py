"""Argument annotations of dfws signal handlers, and the check run before a handler.

Any callable works as an annotation (``int``, ``float``, a function): it
receives the raw JSON value and returns the value the handler gets, or
raises ``ValueError``/``TypeError``/``ArithmeticError``/``ValidationError``
(each answered ``invalid_argument``).  JSON ``true``/``false`` are refused
for ``int`` and ``float``.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict

from dfws_celery.errors import InvalidArgument, MissingArgument, UnexpectedArgument

if TYPE_CHECKING:
    from dfws_celery.registry import SignalConnection

Caster = Callable[[Any], Any]


class RE:
    """The value must be a string fully matching ``pattern``; ``caster`` converts it."""

    def __init__(self, pattern: str, caster: Caster | None = None, flags: int = 0) -> None:
        self.regexp = re.compile(pattern, flags)
        self.caster = caster

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or not self.regexp.fullmatch(value):
            raise ValueError(f"{value!r} does not match {self.regexp.pattern!r}")
        return self.caster(value) if self.caster else value

    def __repr__(self) -> str:
        return f"RE({self.regexp.pattern!r})"


class Choice:
    """The value (compared as a string) must be one of ``values``."""

    def __init__(self, values: Iterable[Any], caster: Caster | None = None) -> None:
        self.values = {str(v) for v in values}
        self.caster = caster

    def __call__(self, value: Any) -> Any:
        if str(value) not in self.values:
            raise ValueError(f"{value!r} is not one of {', '.join(sorted(self.values))}")
        return self.caster(value) if self.caster else value

    def __repr__(self) -> str:
        return f"Choice({sorted(self.values)!r})"


class SerializedForm:
    """A list of ``{"name", "value"}`` (as the browser serializes a form) -> a bound form.

    A value may also be ``{"filename", "content_type", "data"}`` with
    base64 data: it becomes an uploaded file in ``form.files``.
    """

    def __init__(self, form_class: type[forms.BaseForm]) -> None:
        self.form_class = form_class

    def __call__(self, value: Any, *args: Any, **kwargs: Any) -> forms.BaseForm:
        if value is None:
            return self.form_class(*args, **kwargs)
        if not isinstance(value, list):
            raise ValueError("expected a list of {name, value} objects")
        data: MultiValueDict[str, Any] = MultiValueDict()
        files: MultiValueDict[str, Any] = MultiValueDict()
        for item in value:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ValueError(f"expected {{name, value}} objects, got {item!r}")
            content = item.get("value")
            if isinstance(content, dict):
                files.appendlist(item["name"], _uploaded_file(content))
            else:
                data.appendlist(item["name"], "" if content is None else str(content))
        return self.form_class(data, files, *args, **kwargs)

    def __repr__(self) -> str:
        return f"SerializedForm({self.form_class.__name__})"


def _uploaded_file(content: dict[str, Any]) -> SimpleUploadedFile:
    try:
        raw = base64.b64decode(content.get("data", ""), validate=True)
    except (binascii.Error, TypeError) as exc:
        raise ValueError("file data is not valid base64") from exc
    return SimpleUploadedFile(
        str(content.get("filename") or "file"),
        raw,
        str(content.get("content_type") or "application/octet-stream"),
    )


# what an annotation may raise for a value it refuses (decimal's InvalidOperation and an
# OverflowError such as ``int(float("inf"))`` are ArithmeticErrors)
REFUSALS = (ValueError, TypeError, ArithmeticError, ValidationError)


def check_arguments(connection: SignalConnection, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Validate and cast ``kwargs`` for ``connection``'s handler, or raise a ``SignalError``.

    The browser reads only which argument failed; the detail (the handler,
    the value, the annotation's reason) goes to the log and, with ``DEBUG``
    on, to the browser too.
    """
    where = f"dfws signal {connection.path!r}, handler {connection.handler_name}"
    result: dict[str, Any] = {}
    params = connection.parameters
    for name, value in kwargs.items():
        param = params.get(name)
        if param is None:
            if not connection.accepts_kwargs:
                message = f"unexpected argument {name!r}"
                raise UnexpectedArgument(message, name, detail=f"{where}: {message}")
            result[name] = value
            continue
        annotation = param.annotation
        if annotation is inspect.Parameter.empty or not callable(annotation):
            result[name] = value
            continue
        message = f"invalid argument {name!r}"
        if isinstance(value, bool) and annotation in (int, float):
            # JSON true/false are not numbers, though Python's bool is an int
            detail = f"{where}: {message}: {value!r} is a boolean, not {annotation.__name__}"
            raise InvalidArgument(message, name, detail=detail)
        try:
            result[name] = annotation(value)
        except REFUSALS as exc:
            raise InvalidArgument(message, name, detail=f"{where}: {message}: {exc}") from exc
    for name, param in params.items():
        if name not in result and param.default is inspect.Parameter.empty:
            message = f"missing argument {name!r}"
            raise MissingArgument(message, name, detail=f"{where}: {message}")
    return result
