"""df-websockets signals of the bench (found by its signals.py discovery)."""

from df_websockets.decorators import everyone, signal
from df_websockets.tasks import WINDOW, trigger


@signal(path="bench.noop", is_allowed_to=everyone, queue="bench-s1")
def noop(window_info, value=0):
    pass


@signal(path="bench.echo", is_allowed_to=everyone, queue="celery")
def echo(window_info, n=0):
    trigger(window_info, "bench.pong", to=WINDOW, n=n)
