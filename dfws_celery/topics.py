"""Topics: Python objects naming a set of windows, and their channel-layer groups.

A topic is serialized to a string that is stable across processes (it is
computed in web servers and in workers and must agree), then mapped to a
valid channel-layer group name.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from django.db.models import Model

from dfws_celery.targets import BROADCAST, SESSION, USER, WINDOW, Target

if TYPE_CHECKING:
    from dfws_celery.window_info import WindowInfo

_GROUP_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,90}$")
_HASHED = "h."  # dfws.h.<digest>: the groups of hashed topics, and only those
_BUILTIN_SCALARS = (int, float, bool, bytes, tuple, frozenset, type(None))


def serialize_topic(window_info: WindowInfo | None, obj: Any) -> str | None:
    """Default ``WEBSOCKET_TOPIC_SERIALIZER``.

    Returns ``None`` when the topic names no window (``WINDOW`` without a
    window key).  Special targets and non-string objects are prefixed with
    ``-`` so that they never collide with a plain string topic.
    """
    if isinstance(obj, Target):
        return _special(window_info, obj)
    if isinstance(obj, str):
        return f"-str.{obj}" if obj.startswith("-") else obj
    if isinstance(obj, Model):
        meta = obj._meta
        return f"-{meta.app_label}.{meta.model_name}.{obj.pk}"
    if isinstance(obj, type):
        if issubclass(obj, Model):
            return f"-{obj._meta.app_label}.{obj._meta.model_name}"
        return f"-cls.{obj.__module__}.{obj.__qualname__}"
    if isinstance(obj, _BUILTIN_SCALARS):
        return f"-{type(obj).__name__}.{obj!r}"
    if type(obj).__repr__ is not object.__repr__:  # type: ignore[comparison-overlap]
        return f"-{type(obj).__module__}.{type(obj).__qualname__}.{obj!r}"
    raise TypeError(
        f"Cannot use {obj!r} as a dfws topic: its repr() changes between processes. "
        "Pass a string, a model instance or an object with a stable __repr__, "
        "or set WEBSOCKET_TOPIC_SERIALIZER."
    )


def _special(window_info: WindowInfo | None, target: Target) -> str | None:
    if target is BROADCAST:
        return "-broadcast"
    if window_info is None:
        return None
    if target is USER and window_info.user_pk is not None:
        return f"-user.{window_info.user_pk}"
    # a visitor without a Django session: their browser (the dfwsid cookie) is the session
    session = window_info.session_hash or window_info.browser_hash
    if target in (USER, SESSION) and session:
        return f"-session.{session}"
    if target in (USER, SESSION, WINDOW) and window_info.window_key:
        return f"-window.{window_info.window_key}"
    if target in (USER, SESSION, WINDOW):
        return None
    raise ValueError(f"{target!r} is not a browser target")


# the prefixes of serialize_topic's special and scalar topics, and the kind each names
_KINDS = {
    "-broadcast": "broadcast",
    "-window.": "window",
    "-session.": "session",
    "-user.": "user",
    "-str.": "string",
    "-cls.": "class",
    **{f"-{kind.__name__}.": "value" for kind in _BUILTIN_SCALARS},
}


def topic_kind(serialized_topic: str) -> str:
    """What kind of topic the default serializer made: ``window``, ``session``, ``user``,
    ``broadcast``, ``object`` (a model instance, an object with a stable ``repr``),
    ``model``, ``class``, ``value`` (a number, a tuple...) or ``string``.

    A few names whatever the topics (a metric's label, never the topic itself).
    A custom ``WEBSOCKET_TOPIC_SERIALIZER``'s strings read as ``string`` unless
    they start with ``-`` as the default's do.
    """
    if not serialized_topic.startswith("-"):
        return "string"
    for prefix, kind in _KINDS.items():
        if serialized_topic.startswith(prefix):
            return kind
    return "model" if serialized_topic.count(".") == 1 else "object"


def group_name(serialized_topic: str) -> str:
    """The channel-layer group of a serialized topic (valid for every layer).

    A group-safe topic keeps a readable name, ``dfws.<topic>``; any other
    topic is hashed into ``dfws.h.<digest>``.  That namespace belongs to
    hashes alone: a safe topic starting with ``h.`` is hashed too, so the
    string topic ``"h.<digest>"`` cannot share the group of the topic that
    hashes to ``<digest>``.
    """
    if _GROUP_SAFE.match(serialized_topic) and not serialized_topic.startswith(_HASHED):
        return f"dfws.{serialized_topic}"
    digest = hashlib.blake2b(serialized_topic.encode(), digest_size=20).hexdigest()
    return f"dfws.{_HASHED}{digest}"
