"""Issue 11 ("Low" findings in the core) on the real stack: daphne, Redis, a Celery worker.

* hostile numbers: ``true`` for an ``int``/``float``, an annotation's
  ``OverflowError``: ``invalid_argument``, never a ``handler_exception``;
* error texts: with ``DEBUG`` off (the test project's setting) the browser
  reads no module path, pattern, choice list nor permission name, the logs
  keep them;
* stored results: django-celery-results' row of a browser call holds no
  window key.
"""

from __future__ import annotations

import json
import random

import pytest

from tests import services
from tests.test_relay import answers, call, collect
from tests.wsclient import connect_window, open_page, window_key

pytestmark = pytest.mark.django_db(transaction=True)

NUMBERS = "tests.numbers:tests.testapp.signals.numbers"
CAST = "tests.cast:tests.testapp.signals.cast"
STAFF = "tests.staff_only:tests.testapp.signals.staff_only"
SMALL = "tests.small_only:tests.testapp.signals.small_only"
PING = "tests.ping:tests.testapp.signals.ping"
INTERNALS = ("tests.testapp", "[a-z]{3}", "blue", "is_staff", "only_small", "handler ")


def error_of(server: str, signal: str, handler: str, opts: dict) -> dict:
    return answers(call(server, signal, opts))[handler]["error"]


def in_log(process_log, text: str) -> None:
    services.wait_until(lambda: text in process_log(), 10, f"{text!r} in the log")


# ---- 1. hostile numbers and booleans ----


def test_numbers_still_reach_the_handler(server, worker):
    frames = call(server, "tests.numbers", {"whole": 3, "ratio": 0.5, "big": "1e3"})
    assert answers(frames)[NUMBERS]["result"] == {"whole": 3, "ratio": 0.5, "big": 1000}


@pytest.mark.parametrize("name", ["whole", "ratio"])
def test_a_boolean_for_a_number_is_an_invalid_argument(server, worker, sink, name):
    error = error_of(server, "tests.numbers", NUMBERS, {name: True})
    assert error == {"type": "invalid_argument", "message": f"invalid argument {name!r}", "argument": name}  # fmt: skip
    assert sink.read() == []  # the handler did not run


def test_an_overflow_in_an_annotation_is_an_invalid_argument(server, worker):
    error = error_of(server, "tests.numbers", NUMBERS, {"big": "inf"})
    assert error == {"type": "invalid_argument", "message": "invalid argument 'big'", "argument": "big"}  # fmt: skip
    in_log(worker.output, "invalid argument 'big': cannot convert float infinity to integer")
    assert "raised unexpected: OverflowError" not in worker.output()
    assert worker.alive()


# ---- 4. no internals in error texts (DEBUG off) ----


@pytest.mark.parametrize(
    ("opts", "argument", "detail"),
    [
        ({"count": 1, "code": "abcd", "color": "red"}, "code", "'abcd' does not match '[a-z]{3}'"),
        ({"count": 1, "code": "abc", "color": "green"}, "color", "'green' is not one of blue, red"),
    ],
)
def test_an_invalid_argument_names_the_argument_only(server, worker, opts, argument, detail):
    error = error_of(server, "tests.cast", CAST, opts)
    assert error == {"type": "invalid_argument", "message": f"invalid argument {argument!r}", "argument": argument}  # fmt: skip
    in_log(worker.output, detail)  # the operator still reads why


def test_a_missing_argument_names_no_handler(server, worker):
    error = error_of(server, "tests.cast", CAST, {"count": 1, "code": "abc"})
    assert error == {"type": "missing_argument", "message": "missing argument 'color'", "argument": "color"}  # fmt: skip


def test_a_refusal_at_the_edge_names_no_permission(server, log_dir):
    error = error_of(server, "tests.staff_only", STAFF, {})
    assert error == {"type": "permission_denied", "message": "permission denied"}
    daphne_log = (log_dir / "daphne.log").read_text
    in_log(daphne_log, "handler tests.testapp.signals.staff_only: permission denied (is_staff)")


def test_a_refusal_in_the_worker_names_no_permission(server, worker):
    assert answers(call(server, "tests.small_only", {"n": 3}))[SMALL]["result"] == 3
    error = error_of(server, "tests.small_only", SMALL, {"n": 30})
    assert error == {"type": "permission_denied", "message": "permission denied"}
    assert not any(internal in error["message"] for internal in INTERNALS)
    in_log(worker.output, "handler tests.testapp.signals.small_only: permission denied (")


# ---- 5. no window key in stored results ----


def test_the_stored_result_of_a_browser_call_holds_no_window_key(server, worker):
    from django_celery_results.models import TaskResult

    marker = random.randrange(10**8, 10**9)
    cookies = open_page(server)
    key = window_key(cookies)
    with connect_window(server, cookies) as ws:
        frame = {"signal": "tests.ping", "opts": {"value": marker}, "call_id": "c1"}
        ws.send(json.dumps(frame))
        assert answers(collect(ws, 15))[PING]["result"] == marker + 1
    row = services.wait_until(
        lambda: TaskResult.objects.filter(
            task_name=PING, status="SUCCESS", task_args__contains=str(marker)
        ).first(),
        10,
        "the stored result",
    )
    assert json.loads(row.task_args) == f'(<window>, {{"value":{marker}}})'
    assert "'call_id': 'c1'" in json.loads(row.task_kwargs)
    stored = {f.name: str(getattr(row, f.name)) for f in TaskResult._meta.fields}
    assert [name for name, value in stored.items() if key in value] == []


def test_celerys_own_result_backend_stores_no_window_key(log_dir, sink):
    """With ``result_extended``, Celery's Redis backend stores a task's raw arguments."""
    import os
    import subprocess
    import sys

    import redis
    from django.conf import settings

    from tests.conftest import wait_for_records

    prefix = os.environ["DFWS_TEST_PREFIX"]
    queue = f"{prefix}-results"
    env = services.test_env(DFWS_TEST_RESULTS="redis", DFWS_TEST_QUEUE=queue)
    worker = services.celery_worker("results", queue, env, log_dir)
    key = f"wk-secret-{random.randrange(10**8)}"
    try:
        code = (
            "import django; django.setup();"
            "from dfws_celery import trigger, SERVER, WindowInfo;"
            f"trigger(WindowInfo.from_dict({{'window_key': {key!r}}}), 'tests.ping', "
            "to=SERVER, value=5)"
        )
        subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, timeout=60, cwd=services.ROOT
        )
        assert wait_for_records(sink, "ping")[0]["window_key"] == key  # the handler had it
        client = redis.Redis.from_url(settings.REDIS_URL)
        pattern = f"{prefix}:results:celery-task-meta-*"
        stored = services.wait_until(
            lambda: [client.get(k) for k in client.scan_iter(pattern)], 10, "a stored result"
        )
        [meta] = [json.loads(value) for value in stored]
        assert meta["status"] == "SUCCESS" and meta["name"] == PING
        assert meta["args"][1] == '{"value":5}'  # the arguments are there, the key is not
        assert all(key not in value.decode() for value in stored)
        for k in client.scan_iter(pattern):
            client.delete(k)
    finally:
        worker.stop()
