"""``{% load websockets %}``: ``{% js_call %}`` and ``{% js_calls %}``.

``{% js_call "signal.name" on="change" form="form_data" value="title" prevent=True id=42 %}``
renders the ``data-df-signal`` attribute read by the browser client:
``on``, ``form``, ``value``, ``prevent`` and ``latest`` describe the binding,
every other keyword argument is merged into the signal's options.
``{% js_calls %}`` renders the attribute for several bindings given as dicts.
"""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html

register = template.Library()
BINDING_KEYS = ("on", "form", "value", "prevent", "latest")


def binding(signal: str, **kwargs: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": signal}
    opts = {}
    for key, value in kwargs.items():
        if key in BINDING_KEYS:
            entry[key] = value
        else:
            opts[key] = value
    if opts:
        entry["opts"] = opts
    return entry


def attribute(bindings: list[dict[str, Any]]) -> str:
    return format_html('data-df-signal="{}"', json.dumps(bindings, cls=DjangoJSONEncoder))


@register.simple_tag
def js_call(signal: str, **kwargs: Any) -> str:
    """The ``data-df-signal`` attribute for one binding."""
    return attribute([binding(signal, **kwargs)])


@register.simple_tag
def js_calls(*bindings: dict[str, Any] | list[dict[str, Any]]) -> str:
    """The ``data-df-signal`` attribute for several bindings.

    Each argument is a dict with a ``name`` key (and ``on``, ``form``,
    ``value``, ``prevent``, ``latest``, ``opts``) or a list of such dicts,
    typically built in the view: ``{% js_calls bindings %}``.
    """
    flat: list[Any] = []
    for item in bindings:
        flat.extend(item if isinstance(item, list | tuple) else [item])
    entries = []
    for entry in flat:
        if not isinstance(entry, dict) or "name" not in entry:
            raise template.TemplateSyntaxError(
                f"js_calls expects dicts with a 'name' key, got {entry!r}"
            )
        extra = {k: v for k, v in entry.items() if k not in ("name", "opts")}
        entries.append(binding(entry["name"], **extra, **entry.get("opts", {})))
    return attribute(entries)
