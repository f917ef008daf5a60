from __future__ import annotations

import base64
import logging

import pytest
from django import forms

from dfws_celery import RE, Choice, SerializedForm, WindowInfo
from dfws_celery.errors import (
    InvalidArgument,
    MissingArgument,
    PermissionDenied,
    UnexpectedArgument,
)
from dfws_celery.executor import run_handler
from dfws_celery.registry import REGISTRY


def connection(path):
    return REGISTRY.get(path)[0]


def test_annotations_cast_the_arguments():
    result = run_handler(
        connection("tests.cast"), WindowInfo(), {"count": "3", "code": "abc", "color": "red"}
    )
    assert result == {"count": 3, "code": "ABC", "color": "red"}


def test_invalid_argument_names_signal_handler_and_argument(caplog):
    caplog.set_level(logging.WARNING, "dfws.signals")
    with pytest.raises(InvalidArgument) as info:
        run_handler(
            connection("tests.cast"), WindowInfo(), {"count": "x", "code": "abc", "color": "red"}
        )
    assert info.value.argument == "count"
    assert "dfws signal 'tests.cast', handler tests.testapp.signals.cast" in str(info.value)
    assert "invalid argument 'count'" in caplog.text


def test_regexp_must_match_fully():
    with pytest.raises(InvalidArgument, match="'abcd' does not match"):
        run_handler(
            connection("tests.cast"), WindowInfo(), {"count": 1, "code": "abcd", "color": "red"}
        )


def test_choice_lists_the_allowed_values():
    with pytest.raises(InvalidArgument, match="'green' is not one of blue, red") as info:
        run_handler(
            connection("tests.cast"), WindowInfo(), {"count": 1, "code": "abc", "color": "green"}
        )
    assert info.value.argument == "color"


def test_missing_argument_is_named():
    with pytest.raises(MissingArgument, match="missing argument 'color'") as info:
        run_handler(connection("tests.cast"), WindowInfo(), {"count": 1, "code": "abc"})
    assert info.value.argument == "color"


def test_unexpected_argument_is_named():
    with pytest.raises(UnexpectedArgument, match="unexpected argument 'colour'"):
        run_handler(connection("tests.ping"), WindowInfo(), {"colour": 1})


def test_browser_call_to_server_side_handler_is_denied(sink):
    with pytest.raises(PermissionDenied, match="permission denied \\(server_side\\)"):
        run_handler(connection("tests.server_only"), WindowInfo(), {}, from_client=True)
    assert sink.read() == []


class UploadForm(forms.Form):
    title = forms.CharField()
    tags = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")])
    attachment = forms.FileField()


def test_serialized_form_becomes_a_bound_form_with_files():
    data = [
        {"name": "title", "value": "hello"},
        {"name": "tags", "value": "a"},
        {"name": "tags", "value": "b"},
        {
            "name": "attachment",
            "value": {
                "filename": "a.txt",
                "content_type": "text/plain",
                "data": base64.b64encode(b"content").decode(),
            },
        },
    ]
    form = SerializedForm(UploadForm)(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tags"] == ["a", "b"]
    assert form.cleaned_data["attachment"].read() == b"content"


def test_serialized_form_refuses_other_shapes():
    with pytest.raises(ValueError, match="expected a list"):
        SerializedForm(UploadForm)({"title": "x"})


def test_regexp_and_choice_have_readable_reprs():
    assert repr(RE(r"\d+")) == "RE('\\\\d+')"
    assert repr(Choice([2, 1])) == "Choice(['1', '2'])"
