"""The sample project's dfws signals.

Each ``@signal`` handler becomes its own Celery task, named after the
signal and the function (``python sample_project/manage.py dfws_signals``
lists them), on the queue it declares.  Handlers receive the caller's
``WindowInfo`` first, then keyword arguments checked by their annotations.
"""

import re
import socket
import threading
import time

from django import forms
from django.core.cache import cache
from django.utils import timezone

from dfws_celery import (
    BROADCAST,
    RE,
    SESSION,
    USER,
    WINDOW,
    Choice,
    SerializedForm,
    WindowInfo,
    everyone,
    is_authenticated,
    report_progress,
    signal,
    trigger,
    trigger_signal,
)
from sample_project.demo.examples import HTML_EXAMPLES
from sample_project.demo.models import Article

SHORT_TEXT = RE(r".{1,200}", flags=re.DOTALL)


def worker_name() -> str:
    return f"{socket.gethostname()}/{threading.current_thread().name}"


# ---- built-in html.* signals, sent from a worker ----


@signal(path="demo.html.run", is_allowed_to=everyone)
def run_builtin(window_info: WindowInfo, name: Choice(HTML_EXAMPLES)) -> str:
    """Send the example of one built-in signal back to the calling window."""
    trigger(window_info, name, to=WINDOW, **HTML_EXAMPLES[name])
    return name


# ---- forms ----


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=20)
    color = forms.ChoiceField(choices=[("red", "red"), ("green", "green"), ("blue", "blue")])
    age = forms.IntegerField(min_value=0, max_value=150)


@signal(path="demo.forms.check", is_allowed_to=everyone)
def check_profile(window_info: WindowInfo, form_data: SerializedForm(ProfileForm)) -> dict:
    """Validate the whole form on each change and show what the server received.

    The verdict travels as the call's result, not as an ``html.content`` sent to the
    window: checks run concurrently, and only the result of the newest call is shown
    (the page's binding drops the answers of the calls a newer change superseded).
    """
    valid = form_data.is_valid()
    html = window_info.render_to_string("demo/_profile_result.html", {"form": form_data})
    return {"valid": valid, "html": html}


@signal(path="demo.forms.title", is_allowed_to=everyone)
def echo_title(window_info: WindowInfo, title: str = "") -> str:
    """One input bound with ``value="title"``: the handler gets its value as ``title``."""
    text = f"the server received title={title!r}"
    trigger(window_info, "html.text", to=WINDOW, selector="#title-result", content=text)
    return title


# ---- topics: articles, users, sessions, everybody ----


@signal(path="demo.articles.comment", is_allowed_to=everyone)
def comment(window_info: WindowInfo, article: int, text: SHORT_TEXT) -> None:
    """Send a comment to the windows showing this article, and only to them."""
    obj = Article.objects.get(pk=article)
    author = window_info.username or "anonymous"
    trigger(
        window_info, "demo.articles.commented", to=obj, article=obj.pk, text=text, author=author
    )


TARGETS = {"window": WINDOW, "session": SESSION, "user": USER}


@signal(path="demo.topics.send", is_allowed_to=everyone)
def send_message(
    window_info: WindowInfo,
    target: Choice(TARGETS),
    text: SHORT_TEXT,
) -> None:
    """To this window, the windows of this session, or of this user (all their browsers)."""
    sender = window_info.username or "anonymous"
    trigger(
        window_info, "demo.message", to=TARGETS[target], target=target, text=text, sender=sender
    )


@signal(path="demo.topics.broadcast", is_allowed_to=is_authenticated)
def broadcast(window_info: WindowInfo, text: SHORT_TEXT) -> None:
    """To every open window; only logged-in users may call it."""
    sender = window_info.username or "anonymous"
    trigger(window_info, "demo.message", to=BROADCAST, target="broadcast", text=text, sender=sender)


# ---- background work: a slow queue, progress, delays, beat ----


# a caster's parameter annotation is what browsers may send: `dfws_typescript` declares
# `steps?: number | string` (a form field's value is a string)
def steps_count(value: int | str) -> int:
    steps = int(value)
    if not 1 <= steps <= 20:
        raise ValueError(f"{steps} is not between 1 and 20")
    return steps


def step_delay(value: float | str) -> float:
    delay = float(value)
    if not 0 <= delay <= 5:
        raise ValueError(f"{delay} is not between 0 and 5 seconds")
    return delay


# `name=` pins the task name (the default, "<path>:<module>.<function>", changes when the
# function moves, stranding messages already queued under the old name)
@signal(path="demo.slow.work", is_allowed_to=everyone, queue="slow", name="demo.slow_work")
def slow_work(window_info: WindowInfo, steps: steps_count = 5, delay: step_delay = 1.0) -> dict:
    """A long job on the ``slow`` queue, reporting its progress to the calling window."""
    started = time.monotonic()
    for step in range(1, steps + 1):
        time.sleep(delay)
        # to the promise of the browser call: its `progress` option drives the <progress>
        # element, its `onProgress` callback gets the message (nothing for server calls)
        report_progress(window_info, step / steps, f"step {step} of {steps}")
    seconds = round(time.monotonic() - started, 1)
    text = f"done: {steps} steps in {seconds} s on the slow queue ({worker_name()})"
    trigger(window_info, "html.text", to=WINDOW, selector="#slow-result", content=text)
    return {"steps": steps, "seconds": seconds}


@signal(path="demo.countdown.start", is_allowed_to=everyone)
def countdown(window_info: WindowInfo, seconds: steps_count = 3) -> None:
    """Schedule one browser signal per second with ``countdown=``: delivered when due."""
    for remaining in range(seconds, 0, -1):
        trigger_signal(
            window_info,
            "html.text",
            to=WINDOW,
            kwargs={"selector": "#countdown", "content": str(remaining)},
            countdown=seconds - remaining,
        )
    trigger_signal(
        window_info,
        "demo.countdown.done",
        to=WINDOW,
        kwargs={"seconds": seconds},
        countdown=seconds,
    )


LAST_TICK = "demo:last-tick"


@signal(path="demo.clock.tick")
def clock_tick(window_info: WindowInfo) -> str:
    """Sent by beat every few seconds (``CELERY_BEAT_SCHEDULE``); browsers may not call it."""
    now = timezone.now()
    time_text = now.strftime("%H:%M:%S")
    cache.set(LAST_TICK, time_text, 60)  # what the next page shows before its first tick
    trigger(window_info, "demo.clock", to=BROADCAST, time=time_text, iso=now)
    return now.isoformat()


@signal(path="demo.hello", is_allowed_to=everyone)
def hello(window_info: WindowInfo, sent: float = 0) -> str:
    """Every page calls it once connected: the answer proves the whole loop works."""
    trigger(window_info, "demo.ready", to=WINDOW, sent=sent, worker=worker_name())
    return worker_name()
