"""Argument annotations and the check that runs before a handler."""

from __future__ import annotations

import base64
import itertools
import re

import pytest
from django import forms
from django.core.exceptions import ValidationError

from dfws_celery import RE, Choice, SerializedForm, signal
from dfws_celery.errors import InvalidArgument, MissingArgument, UnexpectedArgument
from dfws_celery.registry import REGISTRY
from dfws_celery.validators import check_arguments


def positive(value):
    if value <= 0:
        raise ValidationError("must be positive")
    return value


class NoteForm(forms.Form):
    title = forms.CharField(max_length=5)
    tags = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")], required=False)
    attachment = forms.FileField(required=False)


TASK_NUMBERS = itertools.count()


def declare(path, function):
    # a fresh task name each time: Celery keeps the task of a forgotten declaration
    signal(path, name=f"{path}.{next(TASK_NUMBERS)}")(function)
    return REGISTRY.get(path)[0]


def test_re_must_match_the_whole_string_and_may_cast():
    code = RE(r"[a-z]{3}", caster=str.upper)
    assert code("abc") == "ABC"
    for bad in ("abcd", "ab", 123, None):
        with pytest.raises(ValueError, match="does not match"):
            code(bad)
    assert RE("x+", flags=re.IGNORECASE)("XX") == "XX"
    assert repr(RE(r"\d+")) == "RE('\\\\d+')"


def test_choice_compares_as_strings_and_lists_the_values():
    level = Choice([1, 2, 3], caster=int)
    assert level("2") == 2 and level(3) == 3
    with pytest.raises(ValueError, match="'4' is not one of 1, 2, 3"):
        level("4")
    assert Choice(["red"])("red") == "red"
    assert repr(Choice(["b", "a"])) == "Choice(['a', 'b'])"


def test_serialized_form_binds_data_and_files():
    data = [
        {"name": "title", "value": "hi"},
        {"name": "tags", "value": "a"},
        {"name": "tags", "value": "b"},
        {"name": "attachment", "value": {"data": base64.b64encode(b"bytes").decode()}},
    ]
    form = SerializedForm(NoteForm)(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tags"] == ["a", "b"]
    upload = form.cleaned_data["attachment"]
    assert (upload.name, upload.content_type, upload.read()) == (
        "file",
        "application/octet-stream",
        b"bytes",
    )


def test_serialized_form_passes_extra_arguments_and_reads_none_as_empty():
    form = SerializedForm(NoteForm)([{"name": "p-title", "value": None}], prefix="p")
    assert form.is_bound and not form.is_valid() and "title" in form.errors
    assert not SerializedForm(NoteForm)(None).is_bound
    assert repr(SerializedForm(NoteForm)) == "SerializedForm(NoteForm)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"title": "x"}, "expected a list"),
        ([{"value": "x"}], "expected {name, value} objects"),
        (["title"], "expected {name, value} objects"),
        ([{"name": "attachment", "value": {"data": "not base64!"}}], "not valid base64"),
    ],
)
def test_serialized_form_refuses_other_shapes(value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SerializedForm(NoteForm)(value)


def test_check_arguments_casts_with_each_annotation(declared):
    def handler(window_info, count: int, code: RE("[a-z]+"), raw, size: positive = 1):
        pass

    connection = declare("unit.val.cast", handler)
    assert check_arguments(connection, {"count": "3", "code": "abc", "raw": [1]}) == {
        "count": 3, "code": "abc", "raw": [1],
    }  # fmt: skip
    assert check_arguments(connection, {"count": 1, "code": "a", "raw": 0, "size": 2})["size"] == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "argument", "message"),
    [
        (
            {"count": "x", "raw": 0},
            InvalidArgument,
            "count",
            "invalid argument 'count': invalid literal",
        ),
        (
            {"count": 1, "raw": 0, "size": -1},
            InvalidArgument,
            "size",
            "invalid argument 'size': ['must be positive']",
        ),
        ({"count": None, "raw": 0}, InvalidArgument, "count", "invalid argument 'count'"),
        ({"raw": 0}, MissingArgument, "count", "missing argument 'count'"),
        ({"count": 1}, MissingArgument, "raw", "missing argument 'raw'"),
        (
            {"count": 1, "raw": 0, "colour": 1},
            UnexpectedArgument,
            "colour",
            "unexpected argument 'colour'",
        ),
    ],
)
def test_check_arguments_names_the_faulty_argument(declared, kwargs, error, argument, message):
    def strict(window_info, count: int, raw, size: positive = 1):
        pass

    connection = declare("unit.val.strict", strict)
    with pytest.raises(error) as info:
        check_arguments(connection, kwargs)
    assert info.value.argument == argument
    assert str(info.value).startswith(
        f"dfws signal 'unit.val.strict', handler {connection.handler_name}: "
    )
    assert message in str(info.value)


def test_extra_arguments_reach_a_handler_with_kwargs(declared):
    def loose(window_info, count: int = 0, **extra):
        pass

    connection = declare("unit.val.loose", loose)
    assert check_arguments(connection, {"count": "2", "other": "x"}) == {"count": 2, "other": "x"}
