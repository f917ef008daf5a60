"""dfws signals of the test project (imported by autodiscovery when Django is ready)."""

from __future__ import annotations

import os
import time

from django import forms

from dfws_celery import RE, WINDOW, Choice, SerializedForm, everyone, signal, trigger
from tests.testapp import sink


@signal(path="tests.ping", is_allowed_to=everyone)
def ping(window_info, value: int = 0):
    sink.record("ping", value=value, pid=os.getpid(), window_key=window_info.window_key)
    return value + 1


@signal(path="tests.cast", is_allowed_to=everyone)
def cast(
    window_info, count: int, code: RE(r"[a-z]{3}", caster=str.upper), color: Choice(["red", "blue"])
):
    sink.record("cast", count=count, code=code, color=color)
    return {"count": count, "code": code, "color": color}


@signal(path="tests.slow", queue="slow", is_allowed_to=everyone)
def slow(window_info, value: str = ""):
    sink.record("slow", value=value)
    return value


@signal(path="tests.echo", is_allowed_to=everyone)
def echo(window_info, content: str = ""):
    trigger(window_info, "html.content", to=WINDOW, selector="#echo", content=content)
    sink.record("echo", content=content)


@signal(path="tests.fail", is_allowed_to=everyone)
def fail(window_info):
    raise ZeroDivisionError("on purpose")


@signal(path="tests.sleepy", is_allowed_to=everyone, time_limit=1)
def sleepy(window_info, seconds: float = 5.0):
    time.sleep(seconds)


class TitleForm(forms.Form):
    title = forms.CharField(max_length=20)


@signal(path="tests.form", is_allowed_to=everyone)
def form_handler(
    window_info, form_data: SerializedForm(TitleForm) = None, title: str = "", id: int = 0
):
    valid = form_data.is_valid() if form_data is not None else None
    cleaned = form_data.cleaned_data if valid else None
    sink.record("form", valid=valid, cleaned=cleaned, title=title, id=id)
    return valid


@signal(path="tests.server_only", queue="idle")
def server_only(window_info, value: str = ""):
    sink.record("server_only", value=value)
