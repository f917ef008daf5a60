"""dfws signals of the test project (imported by autodiscovery when Django is ready)."""

from __future__ import annotations

import os
import threading
import time

from django import forms

from dfws_celery import (
    RE,
    SESSION,
    WINDOW,
    Choice,
    DynamicQueue,
    SerializedForm,
    everyone,
    has_perm,
    is_anonymous,
    is_staff,
    is_superuser,
    signal,
    trigger,
)
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


class LaterForm(forms.Form):
    text = forms.CharField(required=False)
    delay = forms.FloatField(min_value=0, max_value=5)


@signal(path="tests.later", is_allowed_to=everyone)
def later(window_info, form_data: SerializedForm(LaterForm)):
    """Answers after the form's ``delay``: an older call can be made to answer after a newer one."""
    if not form_data.is_valid():
        raise ValueError(form_data.errors.as_json())
    text, delay = form_data.cleaned_data["text"], form_data.cleaned_data["delay"]
    sink.record("later", text=text, delay=delay)  # the handler started
    time.sleep(delay)
    return {"text": text, "delay": delay}


@signal(path="tests.server_only", queue="idle")
def server_only(window_info, value: str = ""):
    sink.record("server_only", value=value)


@signal(path="tests.read_article")
def read_article(window_info, pk: int, title: str = ""):
    """Triggered inside the transaction that created the article: does the worker see it?"""
    from tests.testapp.models import Article

    sink.record("read_article", title=title, found=Article.objects.filter(pk=pk).exists())


# ---- result relay ----


@signal(path="tests.multi", is_allowed_to=everyone)
def multi_default(window_info, value: int = 0):
    return {"queue": "celery", "value": value}


@signal(path="tests.multi", is_allowed_to=everyone, queue="slow")
def multi_slow(window_info, value: int = 0):
    return {"queue": "slow", "value": value * 2}


@signal(path="tests.progress", is_allowed_to=everyone)
def progress(window_info, steps: int = 3):
    from dfws_celery import report_progress

    for step in range(steps):
        report_progress(window_info, step / steps, f"step {step + 1} of {steps}")
        time.sleep(0.2)
    sink.record("progress", steps=steps)  # after every report: a test's barrier
    return "finished"


@signal(path="tests.idle_call", is_allowed_to=everyone, queue="idle")
def idle_call(window_info):
    return "never consumed"


@signal(path="tests.lonely_call", is_allowed_to=everyone, queue="lonely")
def lonely_call(window_info, value: int = 0):
    """No worker consumes ``lonely`` until tests/test_queue_watch.py starts one."""
    return {"lonely": value}


if os.environ.get("DFWS_TEST_RENAMED"):  # tests/test_doctor.py: a task the workers lack

    @signal(path="tests.renamed", name="tests.renamed.v2")
    def renamed(window_info):
        return "renamed"


@signal(path="tests.unencodable", is_allowed_to=everyone)
def unencodable(window_info):
    return object()


@signal(
    path="tests.flaky",
    is_allowed_to=everyone,
    autoretry_for=(KeyError,),
    max_retries=2,
    default_retry_delay=0,
)
def flaky(window_info):
    raise KeyError("always")


@signal(path="tests.staff_only", is_allowed_to=is_staff)
def staff_only(window_info):
    sink.record("staff_only", username=window_info.username)
    return "staff"


@signal(path="tests.perm_only", is_allowed_to=has_perm("testapp.view_article"))
def perm_only(window_info):
    sink.record("perm_only", username=window_info.username)
    return "perm"


# ---- hardening (issue 11) ----


def int_of_float(value):
    return int(float(value))  # "inf" -> OverflowError, an ArithmeticError


@signal(path="tests.numbers", is_allowed_to=everyone)
def numbers(window_info, whole: int = 0, ratio: float = 0.0, big: int_of_float = 0):
    sink.record("numbers", whole=whole, ratio=ratio, big=big)
    return {"whole": whole, "ratio": ratio, "big": big}


def only_small(connection, window_info, kwargs):
    """A permission of the project's own: decided in the worker."""
    return kwargs.get("n", 0) < 10


@signal(path="tests.small_only", is_allowed_to=only_small)
def small_only(window_info, n: int = 0):
    return n


# ---- documented features on the real stack (issue 16) ----


@signal(path="tests.whoami", is_allowed_to=everyone)
def whoami(window_info):
    """Where the handler ran, and what its window carries (a custom middleware's ``team``)."""
    where = {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "thread": threading.current_thread().name,
        "team": getattr(window_info, "team", None),
    }
    sink.record("whoami", **where)
    return where


@signal(path="tests.complex", is_allowed_to=everyone)
def double_complex(window_info, z=None):
    """A complex argument only with the project's decoder, a result only its encoder encodes."""
    return z * 2


@signal(path="tests.nap", is_allowed_to=everyone)
def nap(window_info, seconds: float = 0.3):
    """Sleeps: how many run at once shows the size of the pool (``WEBSOCKET_POOL_SIZES``)."""
    started = time.monotonic()
    time.sleep(seconds)
    return {
        "thread": threading.current_thread().name,
        "started": started,
        "ended": time.monotonic(),
    }


@signal(path="tests.to_topic", is_allowed_to=everyone)
def to_topic(window_info, topic: str, text: str = ""):
    trigger(window_info, "html.append", to=topic, selector="#received", content=f"<p>{text}</p>")


@signal(path="tests.to_session", is_allowed_to=everyone)
def to_session(window_info, text: str = ""):
    trigger(window_info, "html.append", to=SESSION, selector="#received", content=f"<p>{text}</p>")


@signal(path="tests.anonymous_only", is_allowed_to=is_anonymous)
def anonymous_only(window_info):
    return "anonymous"


@signal(path="tests.superuser_only", is_allowed_to=is_superuser)
def superuser_only(window_info):
    return "superuser"


def big_ones_apart(window_info, kwargs):
    return "dynamic" if kwargs.get("big") else "celery"


@signal(
    path="tests.dynamic",
    is_allowed_to=everyone,
    queue=DynamicQueue(big_ones_apart, queues=["celery", "dynamic"]),
)
def dynamic(window_info, big=False):
    """The worker that ran it: its main process is the parent of the prefork child."""
    return {"big": big, "worker": os.getppid()}


# queue ``late``: consumed only once tests/test_delivery_options.py starts its worker


@signal(path="tests.late", queue="late")
def late(window_info, value: int = 0):
    sink.record("late", value=value, at=time.time())


@signal(path="tests.late_expiring", queue="late", expires=1)
def late_expiring(window_info, value: int = 0):
    sink.record("late", value=value, at=time.time())
