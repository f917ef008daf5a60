"""A project's own versions of the pluggable dfws settings (tests/test_setting_overrides.py).

A private daphne names them through ``DFWS_TEST_SETTINGS``; each changes something a
test can see from outside: complex numbers travel both ways, string topics get a
prefix, and a window carries the ``team`` of the page's query string.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from dfws_celery.topics import serialize_topic
from dfws_celery.window_info_middlewares import WindowInfoMiddleware

COMPLEX = "__complex__"


class ComplexEncoder(DjangoJSONEncoder):
    """``WEBSOCKET_SIGNAL_ENCODER``: a complex number becomes ``{"__complex__": [re, im]}``."""

    def default(self, o: Any) -> Any:
        if isinstance(o, complex):
            return {COMPLEX: [o.real, o.imag]}
        return super().default(o)


class ComplexDecoder(json.JSONDecoder):
    """``WEBSOCKET_SIGNAL_DECODER``: ``{"__complex__": [re, im]}`` becomes a complex number."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["object_hook"] = self.revive
        super().__init__(*args, **kwargs)

    @staticmethod
    def revive(value: dict[str, Any]) -> Any:
        if set(value) == {COMPLEX}:
            real, imag = value[COMPLEX]
            return complex(real, imag)
        return value


def prefixed_topics(window_info: Any, obj: Any) -> str | None:
    """``WEBSOCKET_TOPIC_SERIALIZER``: a plain string topic ``x`` is named ``custom.x``."""
    if isinstance(obj, str) and not obj.startswith("-"):
        return f"custom.{obj}"
    return serialize_topic(window_info, obj)


class TeamMiddleware(WindowInfoMiddleware):
    """A ``WINDOW_INFO_MIDDLEWARES`` entry: the ``?team=`` of the page travels with the window."""

    def from_request(self, request: Any, window_info: Any) -> None:
        window_info.team = request.GET.get("team")

    def to_dict(self, window_info: Any, values: dict[str, Any]) -> None:
        values["team"] = getattr(window_info, "team", None)

    def from_dict(self, window_info: Any, values: dict[str, Any]) -> None:
        window_info.team = values.get("team")
