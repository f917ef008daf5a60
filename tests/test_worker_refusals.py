"""Refusals are not failures, with a real worker (issue 13): a permission or argument
refusal decided in the worker is a SUCCESS task (Flower's failure count means broken code)
and the browser still gets the ``permission_denied`` / ``invalid_argument`` error frame.

The last test asks a private Flower, started as users start it against the run's broker
and worker, what it saw."""

from __future__ import annotations

import json
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import services
from tests.wsclient import connect_window, open_page, receive_json

pytestmark = pytest.mark.django_db(transaction=True)


def answer(server: str, signal: str, opts: dict, call_id: str | None = None) -> dict:
    """The one handler's answer to a call (after its ack)."""
    call_id = call_id or uuid.uuid4().hex
    with connect_window(server, open_page(server)) as ws:
        ws.send(json.dumps({"signal": signal, "opts": opts, "call_id": call_id}))
        while "ack" in (frame := receive_json(ws, 15)):
            assert frame["ack"]["handlers"]
        assert frame["call_id"] == call_id
        return frame


def stored(task_name: str, refused_type: str):
    from django_celery_results.models import TaskResult

    def find():
        for row in TaskResult.objects.filter(task_name=task_name).order_by("-date_done"):
            result = json.loads(row.result or "null")
            if isinstance(result, dict) and result.get("refused", {}).get("type") == refused_type:
                return row
        return None

    return services.wait_until(find, 15, f"a refused {task_name} result")


def test_a_permission_refusal_in_the_worker_is_a_successful_task(server):
    frame = answer(server, "tests.small_only", {"n": 20})  # the project's own permission
    assert frame["error"] == {"type": "permission_denied", "message": "permission denied"}
    row = stored(frame["handler"], "permission_denied")
    assert row.status == "SUCCESS"
    assert "tests.small_only" in json.loads(row.result)["refused"]["message"]  # the detail


def test_an_argument_refusal_in_the_worker_is_a_successful_task(server):
    frame = answer(server, "tests.cast", {"count": 1, "code": "abc", "color": "green"})
    assert frame["error"]["type"] == "invalid_argument"
    assert frame["error"]["argument"] == "color"
    row = stored(frame["handler"], "invalid_argument")
    assert row.status == "SUCCESS"


def test_a_handler_exception_is_still_a_failure(server):
    from django_celery_results.models import TaskResult

    frame = answer(server, "tests.fail", {})
    assert frame["error"]["type"] == "handler_exception"
    services.wait_until(
        lambda: TaskResult.objects.filter(task_name=frame["handler"], status="FAILURE").exists(),
        15,
        "the failed tests.fail task",
    )


@pytest.fixture
def flower(worker: Any, log_dir: Path) -> Iterator[str]:
    """A private Flower on a free loopback port, its API open (as in a trusted network).

    Flower turns the worker's task events on by itself (``enable_events``, every 5 s);
    they are turned off again at teardown, so the run's worker is left as it was.
    """
    port = services.free_port()
    args = [sys.executable, "-m", "celery", "-A", "tests.celery_app", "flower",
            f"--port={port}", "--address=127.0.0.1"]  # fmt: skip
    env = services.test_env(FLOWER_UNAUTHENTICATED_API="true")
    process = services.Process(f"flower-{port}", args, env, log_dir)
    try:
        services.wait_until(lambda: services.port_open("127.0.0.1", port), 60, "Flower")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()
        from tests.celery_app import app

        app.control.disable_events()


def flower_tasks(flower: str) -> dict[str, dict[str, Any]]:
    with urllib.request.urlopen(f"{flower}/api/tasks", timeout=10) as response:
        return dict(json.load(response))


def seen_by_flower(flower: str, call_id: str, state: str) -> dict[str, Any]:
    """The task Flower shows for the browser call ``call_id`` once it reached ``state``
    (its kwargs, shown as sent, name the call)."""

    def find() -> dict[str, Any] | None:
        for task in flower_tasks(flower).values():
            if call_id in (task.get("kwargs") or "") and task.get("state") == state:
                return task
        return None

    return services.wait_until(find, 20, f"Flower to show call {call_id} as {state}")


def test_flower_shows_refusals_as_succeeded_and_a_broken_handler_as_failed(server, flower):
    # Flower sees only what runs once the worker sends events: call until one is seen
    def events_flow() -> bool:
        call_id = uuid.uuid4().hex
        assert answer(server, "tests.ping", {"value": 1}, call_id)["result"] == 2
        try:
            seen_by_flower(flower, call_id, "SUCCESS")
        except TimeoutError:
            return False
        return True

    services.wait_until(events_flow, 90, "the worker's task events to reach Flower")

    refused = {
        "permission_denied": ("tests.small_only", {"n": 20}),
        "invalid_argument": ("tests.cast", {"count": 1, "code": "abc", "color": "green"}),
    }
    for error_type, (signal, opts) in refused.items():
        call_id = uuid.uuid4().hex
        frame = answer(server, signal, opts, call_id)
        assert frame["error"]["type"] == error_type
        task = seen_by_flower(flower, call_id, "SUCCESS")
        assert task["name"] == frame["handler"]
        assert error_type in task["result"] and "refused" in task["result"]
        assert not task.get("exception")

    call_id = uuid.uuid4().hex
    frame = answer(server, "tests.fail", {}, call_id)
    assert frame["error"]["type"] == "handler_exception"
    task = seen_by_flower(flower, call_id, "FAILURE")
    assert task["name"] == frame["handler"] and task["exception"]
