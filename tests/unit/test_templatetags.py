"""``{% js_call %}`` and ``{% js_calls %}``: the ``data-df-signal`` attribute, escaped."""

from __future__ import annotations

import datetime
import html
import json
import re

import pytest
from django.template import Context, Template, TemplateSyntaxError


def render(source, **context):
    return Template("{% load websockets %}" + source).render(Context(context))


def bindings(rendered):
    """What the browser reads: the attribute value, unescaped, as JSON."""
    match = re.fullmatch(r'<a data-df-signal="([^"]*)">', rendered)
    assert match, rendered
    return json.loads(html.unescape(match.group(1)))


def test_js_call_splits_the_binding_from_the_options():
    rendered = render(
        '<a {% js_call "shop.add" on="click" form="f" value="v" prevent=True id=42 label="x" %}>'
    )
    assert bindings(rendered) == [
        {
            "name": "shop.add",
            "on": "click",
            "form": "f",
            "value": "v",
            "prevent": True,
            "opts": {"id": 42, "label": "x"},
        }
    ]


@pytest.mark.parametrize("latest", ["True", "False", '"profile"'])
def test_js_call_puts_latest_in_the_binding_not_in_the_options(latest):
    rendered = render(f'<a {{% js_call "shop.add" on="click" latest={latest} id=1 %}}>')
    expected = {"True": True, "False": False, '"profile"': "profile"}[latest]
    assert bindings(rendered) == [
        {"name": "shop.add", "on": "click", "latest": expected, "opts": {"id": 1}}
    ]


def test_js_call_without_options_has_no_opts():
    assert bindings(render('<a {% js_call "shop.list" %}>')) == [{"name": "shop.list"}]


def test_values_from_the_context_are_encoded_as_django_does():
    rendered = render('<a {% js_call "s" day=day n=n %}>', day=datetime.date(2030, 5, 6), n=1.5)
    assert bindings(rendered) == [{"name": "s", "opts": {"day": "2030-05-06", "n": 1.5}}]


def test_a_hostile_value_cannot_leave_the_attribute():
    hostile = '"><script>alert(1)</script>'
    rendered = render('<a {% js_call "s" label=x %}>', x=hostile)
    assert "<script>" not in rendered and '">' not in rendered.removesuffix('">')
    assert bindings(rendered) == [{"name": "s", "opts": {"label": hostile}}]


def test_js_calls_renders_several_bindings_from_dicts_and_lists():
    first = {"name": "a", "on": "click", "extra": 1}
    rest = [{"name": "b", "value": "v", "opts": {"n": 1}}, {"name": "c"}]
    rendered = render("<a {% js_calls first rest %}>", first=first, rest=rest)
    assert bindings(rendered) == [
        {"name": "a", "on": "click", "opts": {"extra": 1}},
        {"name": "b", "value": "v", "opts": {"n": 1}},
        {"name": "c"},
    ]


def test_js_calls_escapes_too():
    rendered = render("<a {% js_calls b %}>", b={"name": "x", "opts": {"t": "</a><script>"}})
    assert "<script>" not in rendered and bindings(rendered)[0]["opts"] == {"t": "</a><script>"}


@pytest.mark.parametrize("value", [{"on": "click"}, "shop.add", [{"name": "ok"}, 3]])
def test_js_calls_refuses_what_is_not_a_binding(value):
    with pytest.raises(TemplateSyntaxError, match="js_calls expects dicts with a 'name' key"):
        render("<a {% js_calls b %}>", b=value)
