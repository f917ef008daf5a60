"""TypeScript types of signal arguments and results (``manage.py dfws_typescript``, issue 15)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import io
import random
from typing import Any, Literal, NewType, NotRequired, Optional, TypedDict, Union

import pytest
from django import forms
from django.core.management import CommandError, call_command

from dfws_celery import RE, Choice, SerializedForm, everyone, server_side
from dfws_celery.registry import LazyAnnotation, _connection
from dfws_celery.typescript import render, ts_type


class Point(TypedDict):
    x: int
    label: NotRequired[str]


@dataclasses.dataclass
class Size:
    width: float
    tags: list[str]


class ProfileForm(forms.Form):
    name = forms.CharField()
    age = forms.IntegerField()


class PrefixedForm(ProfileForm):
    prefix = "p"


def caster(value: str) -> int:
    return int(value)


def loose_caster(value):  # type: ignore[no-untyped-def]
    return value


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (int, "number"),
        (float, "number"),
        (str, "string"),
        (bool, "boolean"),
        (None, "null"),
        (Any, "unknown"),
        (object, "unknown"),
        (list, "unknown[]"),
        (dict, "Record<string, unknown>"),
        (list[int], "number[]"),
        (tuple[int, ...], "number[]"),
        (tuple[int, str], "[number, string]"),
        (set[str], "string[]"),
        (list[int | None], "Array<number | null>"),
        (dict[str, bool], "Record<string, boolean>"),
        (dict[str, list[float]], "Record<string, number[]>"),
        (Optional[int], "number | null"),  # noqa: UP045 - the typing spelling is the point
        (Union[int, str], "number | string"),  # noqa: UP007
        (int | float, "number"),
        (str | Any, "unknown"),
        (Literal["a", 1, True, None], '"a" | 1 | true | null'),
        (Point, "{ x: number; label?: string }"),
        (RE(r"\d+", caster=int), "string"),
        (Choice(["b", "a", 3, "-1", "01"]), '"-1" | "01" | "3" | "a" | "b" | -1 | 3'),
        (SerializedForm(ProfileForm), 'DFSignalsFormEntry<"age" | "name">[] | null'),
        (SerializedForm(PrefixedForm), 'DFSignalsFormEntry<"p-age" | "p-name">[] | null'),
        (caster, "string"),
        (loose_caster, "unknown"),
        (decimal.Decimal, "number | string"),
        (LazyAnnotation("int", {}), "number"),
        (NewType("UserId", int), "number"),
        (LazyAnnotation("Nowhere", {}), "unknown"),
    ],
)
def test_argument_types(annotation: Any, expected: str) -> None:
    assert ts_type(annotation, "argument") == expected


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (Size, "{ width: number; tags: string[] }"),
        (datetime.datetime, "string"),
        (decimal.Decimal, "string"),
        (caster, "unknown"),  # a function is no return type
        (list[Point], "Array<{ x: number; label?: string }>"),
    ],
)
def test_result_types(annotation: Any, expected: str) -> None:
    assert ts_type(annotation, "result") == expected


def test_a_dataclass_is_no_argument_type() -> None:
    # an annotation is called with the JSON value: a dataclass would get the whole object as its
    # first field
    assert ts_type(Size, "argument") == "unknown"


def test_self_referencing_types_stop() -> None:
    nested: Any = int
    for _ in range(20):
        nested = list[nested]
    assert ts_type(nested, "argument").endswith("unknown" + "[]" * 9)


def connection(function: Any, path: str = "t.sig", allowed: Any = everyone) -> Any:
    return _connection(function, path, allowed, None, None, {})


def test_a_signal_entry_has_optional_defaults_kwargs_and_the_return_type() -> None:
    def handler(window_info, count: int, word: str = "", **extra) -> list[str]:  # type: ignore[no-untyped-def]
        return []

    output = render([connection(handler)])
    assert (
        '  "t.sig": {\n'
        "    args: { count: number; word?: string; [key: string]: unknown };\n"
        "    result: string[];\n"
        "  };\n"
    ) in output


def test_a_return_annotation_that_cannot_be_resolved_is_unknown() -> None:
    def handler(window_info, n: int) -> Nowhere:  # type: ignore[no-untyped-def]  # noqa: F821
        return n

    assert "args: { n: number };\n    result: unknown;" in render([connection(handler)])


def test_no_argument_means_none_and_no_annotation_means_unknown() -> None:
    def handler(window_info):  # type: ignore[no-untyped-def]
        return 1

    output = render([connection(handler)])
    assert "args: Record<string, never>;\n    result: unknown;" in output


def test_several_handlers_take_what_all_accept_and_answer_any_result() -> None:
    def first(window_info, a: int) -> int:  # type: ignore[no-untyped-def]
        return a

    def second(window_info, b: str = "", **kwargs) -> str:  # type: ignore[no-untyped-def]
        return b

    output = render([connection(first), connection(second)])
    assert "args: { a: number } & { b?: string; [key: string]: unknown };" in output
    assert "result: number | string;" in output


def test_server_side_signals_are_left_out_and_the_output_is_sorted_and_stable() -> None:
    def handler(window_info, n: int) -> None:  # type: ignore[no-untyped-def]
        return None

    connections = [connection(handler, path) for path in ("b.one", "a.two", "c.three")]
    connections.append(connection(handler, "z.server", server_side))
    output = render(connections)
    assert output.startswith("// Generated by `python manage.py dfws_typescript`")
    assert "z.server" not in output
    assert output.index('"a.two"') < output.index('"b.one"') < output.index('"c.three"')
    random.shuffle(connections)
    assert render(connections) == output
    assert "declare var DFSignals: DFSignalsApi;" in output


def test_the_command_prints_the_declarations() -> None:
    out = io.StringIO()
    call_command("dfws_typescript", stdout=out)
    assert out.getvalue().startswith("// Generated by")
    assert "interface DFSignalsSignals {" in out.getvalue()


def test_each_signal_is_documented_by_its_handlers() -> None:
    def first(window_info):  # type: ignore[no-untyped-def]
        """Say hello. */ Not this line."""

    def second(window_info):  # type: ignore[no-untyped-def]
        pass

    one = render([connection(first)])
    assert "  /** tests.unit.test_typescript.test_each_signal_is_documented_by_its_handlers." in one
    assert ".first: Say hello. * / Not this line. */\n" in one
    both = render([connection(first), connection(second)])
    assert "  /**\n   * tests.unit" in both and ".second\n   */\n" in both


def test_check_fails_on_a_stale_or_missing_file(tmp_path: Any) -> None:
    target = tmp_path / "signals.d.ts"
    out = io.StringIO()
    call_command("dfws_typescript", stdout=out)
    target.write_text(out.getvalue())
    call_command("dfws_typescript", check=str(target))  # current: silent
    target.write_text(out.getvalue().replace("number", "string"))
    with pytest.raises(CommandError, match=r"signals\.d\.ts is stale .* run dfws_typescript >"):
        call_command("dfws_typescript", check=str(target))
    with pytest.raises(CommandError, match=r"missing\.d\.ts: No such file"):
        call_command("dfws_typescript", check=str(tmp_path / "missing.d.ts"))
