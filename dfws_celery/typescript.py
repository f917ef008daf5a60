"""TypeScript declarations of the browser-callable signals (``manage.py dfws_typescript``).

``render()`` writes a global ``.d.ts`` for pages that include
``df_websockets.min.js`` with a ``<script>`` tag: the client's public API
(``declare var DFSignals: DFSignalsApi``) and the interface
``DFSignalsSignals``, one entry per signal a browser may call (its
permission is not ``server_side``), with the arguments its handlers accept
and the results they return, read from their annotations:

* ``int``/``float`` → ``number``, ``str`` → ``string``, ``bool`` → ``boolean``,
  ``None`` → ``null``, ``list[X]``/``tuple``/``set`` → ``X[]``, ``dict[str, X]``
  → ``Record<string, X>``, unions, ``Optional``, ``Literal``, ``TypedDict``
  (and dataclasses, for results); a ``NewType`` or ``type`` alias → what it
  stands for; ``datetime``, ``Decimal``, ``UUID`` results → ``string`` (as
  ``DjangoJSONEncoder`` writes them);
* ``RE`` → ``string``, ``Choice`` → the union of its values (as strings, and
  as numbers for integers: the check compares ``str(value)``),
  ``SerializedForm(F)`` → the ``{name, value}`` entries the client sends,
  names restricted to the fields of ``F``;
* a function used as an annotation (a caster) → the annotation of its first
  parameter: what it accepts is what the browser may send;
* anything else, or no annotation → ``unknown``. An argument with a default
  is optional; ``**kwargs`` lets other keys through.

A signal with several handlers takes the arguments all of them accept (an
intersection) and resolves with the union of their results. The output is
sorted and depends only on the declarations.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import inspect
import json
import re
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from dfws_celery.registry import LazyAnnotation, SignalConnection
from dfws_celery.typescript_api import CLIENT_API, HEADER
from dfws_celery.validators import RE, Choice, SerializedForm

Role = Literal["argument", "result"]

UNKNOWN = "unknown"
MAX_DEPTH = 8


def render(connections: Iterable[SignalConnection]) -> str:
    """The whole ``.d.ts``: header, the signals' interface, the client's API."""
    by_path: dict[str, list[SignalConnection]] = {}
    for connection in connections:
        if connection.browser_callable:
            by_path.setdefault(connection.path, []).append(connection)
    lines = [HEADER, "interface DFSignalsSignals {"]
    for path in sorted(by_path):
        handlers = sorted(by_path[path], key=lambda c: c.task_name)
        lines.extend(_doc(handlers))
        lines.append(f"  {json.dumps(path)}: {{")
        lines.append(f"    args: {signal_arguments(handlers)};")
        lines.append(f"    result: {signal_result(handlers)};")
        lines.append("  };")
    lines.append("}")
    lines.append("")
    return "\n".join(lines) + "\n" + CLIENT_API


def _doc(handlers: Sequence[SignalConnection]) -> list[str]:
    """A JSDoc comment: each handler, with the first line of its docstring."""
    lines = []
    for connection in handlers:
        summary = (inspect.getdoc(connection.function) or "").strip().split("\n", 1)[0]
        text = f"{connection.handler_name}: {summary}" if summary else connection.handler_name
        lines.append(text.replace("*/", "* /"))
    if len(lines) == 1:
        return [f"  /** {lines[0]} */"]
    return ["  /**", *(f"   * {line}" for line in lines), "   */"]


def signal_arguments(handlers: Sequence[SignalConnection]) -> str:
    """What the browser sends: the arguments every handler accepts."""
    types_ = _unique(arguments_type(connection) for connection in handlers)
    return " & ".join(types_)


def signal_result(handlers: Sequence[SignalConnection]) -> str:
    """One element of the call's results: any handler's result."""
    return _union(result_type(connection.function) for connection in handlers)


def arguments_type(connection: SignalConnection) -> str:
    """The ``opts`` object of one handler: an object type, ``{}``-free."""
    members = []
    for name, param in connection.parameters.items():
        optional = "?" if param.default is not inspect.Parameter.empty else ""
        members.append(f"{_key(name)}{optional}: {ts_type(param.annotation, 'argument')}")
    if connection.accepts_kwargs:
        members.append("[key: string]: unknown")
    if not members:
        return "Record<string, never>"
    return "{ " + "; ".join(members) + " }"


def result_type(function: Callable[..., Any]) -> str:
    """The return annotation of a handler as a TypeScript type (``unknown`` without one)."""
    try:
        annotation = inspect.signature(function, eval_str=True).return_annotation
    except Exception:  # a name the module does not define, a syntax error in a string
        return UNKNOWN
    return ts_type(annotation, "result")


def ts_type(annotation: Any, role: Role, depth: int = 0) -> str:
    """``annotation`` as a TypeScript type, for an argument (the JSON sent) or a result."""
    if depth > MAX_DEPTH:
        return UNKNOWN
    down = depth + 1
    if annotation is inspect.Parameter.empty or annotation is Any:
        return UNKNOWN
    if isinstance(annotation, LazyAnnotation):
        try:
            annotation = eval(annotation.text, annotation.namespace)
        except Exception:
            return UNKNOWN
    alias = _TYPE_ALIAS is not None and isinstance(annotation, _TYPE_ALIAS)
    if alias or isinstance(annotation, typing.NewType):  # `type X = ...` (3.12), NewType
        value = annotation.__value__ if alias else annotation.__supertype__
        return ts_type(value, role, down)
    if annotation is None or annotation is type(None):
        return "null"
    if isinstance(annotation, RE):
        return "string"
    if isinstance(annotation, Choice):
        return _choice(annotation) if role == "argument" else "string"
    if isinstance(annotation, SerializedForm):
        return _form_type(annotation)
    simple = _SIMPLE.get(annotation) if isinstance(annotation, type) else None
    if simple is not None:
        return simple
    if role == "result" and annotation in _ENCODED_AS_STRING:
        return "string"
    if role == "argument" and annotation is decimal.Decimal:
        return "number | string"
    if role == "argument" and annotation is uuid.UUID:
        return "string"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return _union(ts_type(arg, role, down) for arg in args)
    if origin is Literal:
        return _union(_literal(value) for value in args)
    if origin in (typing.Annotated, typing.Required, typing.NotRequired):
        return ts_type(args[0], role, down)
    if annotation in (list, tuple, set, frozenset):
        return "unknown[]"
    if annotation is dict:
        return "Record<string, unknown>"
    if origin is tuple and args and args[-1] is not Ellipsis:
        return "[" + ", ".join(ts_type(arg, role, down) for arg in args) + "]"
    if isinstance(origin, type) and issubclass(origin, Mapping):
        value = ts_type(args[1], role, down) if len(args) == 2 else UNKNOWN
        return f"Record<string, {value}>"
    if isinstance(origin, type) and issubclass(origin, Iterable) and origin is not str:
        return _array(ts_type(args[0], role, down) if args else UNKNOWN)
    if typing.is_typeddict(annotation):
        return _typeddict(annotation, role, down)
    if role == "result" and dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return _dataclass(annotation, down)
    if role == "argument" and inspect.isfunction(annotation):
        return _caster_input(annotation, down)
    return UNKNOWN


_PLAIN = re.compile(r"[A-Za-z_]\w*(\[\])*")
_TYPE_ALIAS: Any = getattr(typing, "TypeAliasType", None)
_INTEGER = re.compile(r"0|-?[1-9][0-9]*")
_SIMPLE: dict[Any, str] = {bool: "boolean", int: "number", float: "number", str: "string"}
_ENCODED_AS_STRING = (  # what DjangoJSONEncoder writes as a string
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    decimal.Decimal,
    uuid.UUID,
)


def _caster_input(function: Callable[..., Any], depth: int) -> str:
    try:
        params = list(inspect.signature(function, eval_str=True).parameters.values())
    except Exception:
        return UNKNOWN
    if not params:
        return UNKNOWN
    return ts_type(params[0].annotation, "argument", depth)


def _choice(annotation: Choice) -> str:
    """Its values as string literals, and as numbers too where one reads the same (``str(3)``)."""
    values = sorted(annotation.values)
    numbers = sorted(int(v) for v in values if _INTEGER.fullmatch(v))
    return _union([*(json.dumps(v) for v in values), *map(str, numbers)]) or "never"


def _form_type(annotation: SerializedForm) -> str:
    form_class = annotation.form_class
    prefix = getattr(form_class, "prefix", None)
    names = sorted(
        f"{prefix}-{name}" if prefix else name for name in getattr(form_class, "base_fields", {})
    )
    entry = f"DFSignalsFormEntry<{_union(json.dumps(n) for n in names) or 'never'}>"
    return f"{entry}[] | null"


def _typeddict(annotation: Any, role: Role, depth: int) -> str:
    try:
        hints = typing.get_type_hints(annotation, include_extras=True)
    except Exception:
        return UNKNOWN
    members = []
    for name, hint in hints.items():
        # ``__required_keys__`` misses ``NotRequired`` written as a string (Python < 3.13)
        required = name in getattr(annotation, "__required_keys__", hints)
        if typing.get_origin(hint) is typing.NotRequired:
            required = False
        elif typing.get_origin(hint) is typing.Required:
            required = True
        members.append(f"{_key(name)}{'' if required else '?'}: {ts_type(hint, role, depth)}")
    return "{ " + "; ".join(members) + " }" if members else "Record<string, never>"


def _dataclass(annotation: type, depth: int) -> str:
    try:
        hints = typing.get_type_hints(annotation)
    except Exception:
        return UNKNOWN
    members = [
        f"{_key(field.name)}: {ts_type(hints.get(field.name, Any), 'result', depth)}"
        for field in dataclasses.fields(annotation)
    ]
    return "{ " + "; ".join(members) + " }" if members else "Record<string, never>"


def _literal(value: Any) -> str:
    if isinstance(value, bool | int | float | str) or value is None:
        return json.dumps(value)
    return UNKNOWN  # an enum member: its JSON form depends on the encoder


def _array(item: str) -> str:
    return f"{item}[]" if _PLAIN.fullmatch(item) else f"Array<{item}>"


def _key(name: str) -> str:
    return name if name.isidentifier() else json.dumps(name)


def _union(members: Iterable[str]) -> str:
    """``A | B``; ``unknown`` absorbs every other member."""
    unique = _unique(members)
    if UNKNOWN in unique:
        return UNKNOWN
    return " | ".join(unique)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
