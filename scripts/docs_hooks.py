"""MkDocs hooks (mkdocs.yml ``hooks:``): the reference pages that are read from the code.

A page holds a marker such as ``<!-- generated: wire-frames -->`` on a line of its own;
``on_page_markdown`` replaces it with Markdown built, at each build, from the source of
record, so the site cannot drift from the code:

* ``wire-*``: the frames, close codes and error types of :mod:`dfws_celery.wire` and
  :mod:`dfws_celery.errors` (the same source ``scripts/wire_ts.py`` generates the
  client's TypeScript from);
* ``ts:<Name>``: an exported interface of ``frontend/src`` (the browser client's API), each
  member with its declaration and its doc comment;
* ``commands``: the options of the dfws management commands (their argparse parsers).

An unknown marker fails the build.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any, NotRequired, Required, get_args, get_origin

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend" / "src"
MARKER = re.compile(r"^<!-- generated: ([\w:-]+) -->$", re.MULTILINE)


def rst_to_md(text: str) -> str:
    """A docstring's reST-ish markup as Markdown: ``code`` and :role:`name` become `code`."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def cell(text: str) -> str:
    """Text safe in a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


# ---- the wire format (dfws_celery/wire.py, dfws_celery/errors.py) ----


def field_comments(cls: type) -> dict[str, str]:
    """The ``# comment`` after (or just above) each field in a class's source."""
    comments: dict[str, str] = {}
    above: list[str] = []
    for line in textwrap.dedent(inspect.getsource(cls)).splitlines()[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped.lstrip("# "))
            continue
        match = re.match(r"(\w+):[^#]*(?:#\s*(.*))?$", stripped)
        if match:
            text = " ".join([*above, match.group(2) or ""]).strip()
            if text:
                comments[match.group(1)] = rst_to_md(text)
        above = []
    return comments


def typed_dict_table(cls: type) -> str:
    from scripts.wire_ts import ts_type

    optional_keys: frozenset[str] = cls.__optional_keys__  # type: ignore[attr-defined]
    comments = field_comments(cls)
    rows = ["| key | type | required | meaning |", "| --- | --- | --- | --- |"]
    for name, hint in typing.get_type_hints(cls, include_extras=True).items():
        optional = name in optional_keys
        if get_origin(hint) in (NotRequired, Required):
            optional = get_origin(hint) is NotRequired
            (hint,) = get_args(hint)
        try:
            ts = ts_type(hint, f"{cls.__name__}.{name}")
        except TypeError:
            ts = getattr(hint, "__name__", repr(hint))
        required = "no" if optional else "yes"
        rows.append(f"| `{name}` | `{cell(ts)}` | {required} | {cell(comments.get(name, ''))} |")
    return "\n".join(rows)


def wire_shapes(names: list[str]) -> str:
    from dfws_celery import errors, wire

    out = []
    for name in names:
        cls = getattr(wire, name, None) or getattr(errors, name)
        doc = rst_to_md(inspect.cleandoc(cls.__doc__)) if cls.__doc__ else ""
        out += [f"### `{name}`", ""]
        if doc and not doc.startswith(f"{name}("):
            out += [doc, ""]
        out += [typed_dict_table(cls), ""]
    return "\n".join(out)


WIRE_FRAMES = [
    "CallFrame",
    "SignalFrame",
    "AckFrame",
    "Ack",
    "AckQueue",
    "ResultFrame",
    "ErrorFrame",
    "ErrorBody",
    "ProgressFrame",
    "Progress",
    "RecoveredFrame",
    "Recovered",
]
WIRE_BEHIND = ["LayerFrame", "LayerControl", "TaskKwargs", "ExecuteMessage", "WindowEntry"]


def wire_overview() -> str:
    from dfws_celery import wire

    doc = rst_to_md(inspect.cleandoc(wire.__doc__ or ""))
    constants = [
        "| constant | value |",
        "| --- | --- |",
        f"| `HEARTBEAT` | `{wire.HEARTBEAT}` |",
        f"| `POSITIONS_QUERY` (socket URL parameter) | `{wire.POSITIONS_QUERY}` |",
        f"| `CALL_ID_MAX` (characters of a `call_id`) | `{wire.CALL_ID_MAX}` |",
        f"| `TRY_AGAIN_CLOSE` (close code) | `{wire.TRY_AGAIN_CLOSE}` |",
    ]
    return doc + "\n\n" + "\n".join(constants)


def attribute_doc(module: types.ModuleType, name: str) -> str:
    """The string literal under a module-level assignment (Python keeps no such docstring)."""
    body = ast.parse(inspect.getsource(module)).body
    for stmt, after in itertools.pairwise(body):
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            return inspect.cleandoc(after.value.value)
    raise ValueError(f"docs: {module.__name__}.{name} has no docstring")


def wire_close_codes() -> str:
    from dfws_celery import wire
    from scripts.wire_ts import member_docs

    docs = member_docs(wire.CloseCode)
    rows = ["| code | name | meaning |", "| --- | --- | --- |"]
    for member in wire.CloseCode:
        text = cell(" ".join(inspect.cleandoc(docs.get(member.name, "")).split()))
        rows.append(f"| `{member.value}` | `{member.name}` | {rst_to_md(text)} |")
    retry = " ".join(attribute_doc(wire, "TRY_AGAIN_CLOSE").split())
    rows.append(f"| `{wire.TRY_AGAIN_CLOSE}` | `TRY_AGAIN_CLOSE` | {cell(rst_to_md(retry))} |")
    intro = rst_to_md(" ".join(inspect.cleandoc(wire.CloseCode.__doc__ or "").split()))
    return intro + "\n\n" + "\n".join(rows)


def wire_error_types() -> str:
    from dfws_celery import errors

    groups: dict[str, str] = {}
    group = ""
    for line in textwrap.dedent(inspect.getsource(errors.ErrorType)).splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            group = stripped.lstrip("# ")
        match = re.match(r"[A-Z_]+ = \"(\w+)\"", stripped)
        if match:
            groups[match.group(1)] = group
    family = [errors.SignalError]
    for cls in family:
        family += cls.__subclasses__()
    raised_as = {cls.type: cls.__name__ for cls in family}
    rows = ["| type | exception | decided where |", "| --- | --- | --- |"]
    for member in errors.ErrorType:
        exception = f"`{raised_as[member]}`" if member in raised_as else ""
        rows.append(f"| `{member.value}` | {exception} | {groups.get(member.value, '')} |")
    return "\n".join(rows)


# ---- the browser client's API (frontend/src/*.ts) ----


def ts_interface(name: str) -> str:
    """The members of ``export interface <name>``, each as a declaration and its doc comment."""
    for path in sorted(FRONTEND.glob("*.ts")):
        source = path.read_text(encoding="utf-8")
        match = re.search(
            rf"(/\*\*(?:(?!\*/).)*\*/\n)?export interface {name}\b[^{{]*\{{\n(.*?)\n\}}",
            source,
            re.DOTALL,
        )
        if match:
            break
    else:
        raise ValueError(f"docs: no 'export interface {name}' in {FRONTEND}")
    out = []
    if match.group(1):
        out += [jsdoc(match.group(1)), ""]
    out.append(f"Declared in `frontend/src/{path.name}`.")
    out.append("")
    for doc, decl in members(match.group(2)):
        out += ["```ts", decl, "```", ""]
        if doc:
            out += [doc, ""]
    return "\n".join(out)


def jsdoc(comment: str) -> str:
    lines = comment.strip().removeprefix("/**").removesuffix("*/").splitlines()
    return " ".join(line.strip().lstrip("*").strip() for line in lines).strip()


def members(body: str) -> list[tuple[str, str]]:
    """``(doc, declaration)`` for each member of an interface body (top level only)."""
    result: list[tuple[str, str]] = []
    doc = ""
    pending: list[str] = []
    in_doc: list[str] | None = None
    for raw in body.splitlines():
        line = raw.strip()
        if in_doc is not None:
            in_doc.append(line)
            if line.endswith("*/"):
                doc, in_doc = jsdoc("\n".join(in_doc)), None
            continue
        if line.startswith("/**"):
            if line.endswith("*/"):
                doc = jsdoc(line)
            else:
                in_doc = [line]
            continue
        if not line or line.startswith("//"):
            continue
        pending.append(line)
        if line.endswith(";"):
            result.append((doc, " ".join(pending)))
            doc, pending = "", []
    return result


def ts_defaults() -> str:
    """``DFSignals.options`` and their defaults, read from ``defaultOptions()``."""
    source = (FRONTEND / "options.ts").read_text(encoding="utf-8")
    body = re.search(r"defaultOptions\(\)[^{]*\{.*?Object\.seal\(\{(.*?)\}\)", source, re.DOTALL)
    if body is None:
        raise ValueError("docs: defaultOptions() not found in frontend/src/options.ts")
    rows = ["| option | default |", "| --- | --- |"]
    for key, value in re.findall(r"(\w+): ([^,\n]+),", body.group(1)):
        rows.append(f"| `{key}` | `{value}` |")
    return "\n".join(rows)


# ---- management commands ----

COMMANDS = ("dfws_signals", "dfws_queues", "dfws_doctor", "dfws_typescript")


def commands() -> str:
    from importlib import import_module

    out = []
    for name in COMMANDS:
        command = import_module(f"dfws_celery.management.commands.{name}").Command()
        parser = command.create_parser("manage.py", name)
        out += [f"## `{name}`", "", command.help.strip(), ""]
        rows = []
        for action in parser._actions:  # argparse keeps no public list of them
            if action.dest in BASE_OPTIONS or not action.option_strings:
                continue
            flag = ", ".join(action.option_strings)
            if action.metavar or action.nargs != 0:
                flag += f" {action.metavar or action.dest.upper()}"
            rows.append(f"| `{flag}` | {cell(action.help or '')} |")
        if rows:
            out += ["| option | meaning |", "| --- | --- |", *rows, ""]
        else:
            out += ["No option of its own (Django's common ones apply).", ""]
    return "\n".join(out)


# Django's options of every command (verbosity, settings, ...): not repeated per command
BASE_OPTIONS = {
    "help",
    "version",
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "skip_checks",
}


GENERATORS: dict[str, Any] = {
    "wire-overview": wire_overview,
    "wire-frames": lambda: wire_shapes(WIRE_FRAMES),
    "wire-behind": lambda: wire_shapes(WIRE_BEHIND),
    "wire-close-codes": wire_close_codes,
    "wire-error-types": wire_error_types,
    "ts-options": ts_defaults,
    "commands": commands,
}


def generate(marker: str) -> str:
    if marker.startswith("ts:"):
        return ts_interface(marker[3:])
    if marker not in GENERATORS:
        raise ValueError(f"docs: unknown marker 'generated: {marker}'")
    text: str = GENERATORS[marker]()
    return text


def on_config(config: Any, **kwargs: Any) -> Any:
    # mkdocs loads this file by its path: make ``scripts.wire_ts`` importable
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return config


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return MARKER.sub(lambda match: generate(match.group(1)), markdown)
