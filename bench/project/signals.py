"""dfws signals of the bench (autodiscovered when Django is ready)."""

from typing import Any

from dfws_celery import WINDOW, everyone, signal, trigger

S1_QUEUE = "bench-s1"


@signal(path="bench.noop", is_allowed_to=everyone, queue=S1_QUEUE)
def noop(window_info: Any, value: int = 0) -> None:
    pass


@signal(path="bench.echo", is_allowed_to=everyone)
def echo(window_info: Any, n: int = 0) -> None:
    trigger(window_info, "bench.pong", to=WINDOW, n=n)


@signal(path="bench.reply", is_allowed_to=everyone)
def reply(window_info: Any, n: int = 0) -> int:
    """The idiomatic reply to a call: the handler's result, sent to the calling window."""
    return n
