"""Issue 11, the window key stored with results: ``argsrepr`` never carries it.

Flower shows, and django-celery-results (``CELERY_RESULT_EXTENDED``) stores,
a task's ``argsrepr``: a window key there lets whoever reads the results
database address that window.  The real arguments do carry the key (the
worker needs it to answer the window); django-celery-results stores the
``argsrepr`` instead of them when the message has one (protocol 2), which
``CeleryBackend`` always sends.
"""

from __future__ import annotations

import json

import pytest
from celery.app.task import Context
from django_celery_results.backends.database import DatabaseBackend

from dfws_celery.backends import CeleryBackend, args_repr
from tests.celery_app import app

KEY = "wk-secret-7f3a9c"
WINDOW = {
    "window_key": KEY,
    "session_hash": "0" * 32,
    "username": "ann",
    "user_pk": 7,
    "language_code": "en",
}
ARGS = '{"n":1}'


class RecordingTask:
    def __init__(self):
        self.calls = []

    def apply_async(self, args, kwargs, **options):
        self.calls.append((args, kwargs, options))


class FakeConnection:
    path = "unit.hardening.backends"
    task_name = "unit.hardening.backends:h"
    task_options: dict = {}

    def __init__(self):
        self.task = RecordingTask()


@pytest.mark.parametrize(
    "window",
    [WINDOW, {"window_key": KEY}, {**WINDOW, "username": None}, {"window_key": KEY, "x": KEY}],
)
def test_the_task_repr_never_names_the_window_key(window):
    text = args_repr(window, ARGS)
    assert KEY not in text
    assert text.endswith(f", {ARGS})")


def test_the_username_may_stay():
    assert args_repr(WINDOW, ARGS) == '(<window username=ann>, {"n":1})'
    assert args_repr({"window_key": KEY}, ARGS) == '(<window>, {"n":1})'


def test_a_browser_call_message_carries_the_key_only_in_its_real_arguments():
    connection = FakeConnection()
    CeleryBackend().enqueue(connection, "celery", WINDOW, ARGS, from_client=True, call_id="c1")  # type: ignore[arg-type]
    [(args, _kwargs, options)] = connection.task.calls
    assert args[0]["window_key"] == KEY  # the worker needs it to answer the window
    assert KEY not in options["argsrepr"] and KEY not in options["kwargsrepr"]


def stored_arguments(request: Context) -> tuple[str, str]:
    """What django-celery-results writes to ``task_args``/``task_kwargs`` for ``request``."""
    backend = DatabaseBackend(app=app)
    assert app.conf.result_extended  # the test project stores task arguments
    props = backend._get_extended_properties(request, None)
    return props["task_args"], props["task_kwargs"]


def test_django_celery_results_stores_the_repr_not_the_real_arguments():
    connection = FakeConnection()
    CeleryBackend().enqueue(connection, "celery", WINDOW, ARGS, from_client=True, call_id="c1")  # type: ignore[arg-type]
    [(args, kwargs, options)] = connection.task.calls
    request = Context(
        args=list(args),
        kwargs=kwargs,
        argsrepr=options["argsrepr"],
        kwargsrepr=options["kwargsrepr"],
        task=connection.task_name,
        hostname="worker@test",
    )
    task_args, task_kwargs = stored_arguments(request)
    assert json.loads(task_args) == options["argsrepr"]
    assert KEY not in task_args and KEY not in task_kwargs
    # without a repr (task protocol 1) the real arguments, key included, would be stored
    bare = Context(args=list(args), kwargs=kwargs, task=connection.task_name)
    assert KEY in stored_arguments(bare)[0]
