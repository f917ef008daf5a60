"""Refusals are not failures, with a real worker (issue 13): a permission or argument
refusal decided in the worker is a SUCCESS task (Flower's failure count means broken code)
and the browser still gets the ``permission_denied`` / ``invalid_argument`` error frame."""

from __future__ import annotations

import json
import uuid

import pytest

from tests import services
from tests.wsclient import connect_window, open_page, receive_json

pytestmark = pytest.mark.django_db(transaction=True)


def answer(server: str, signal: str, opts: dict) -> dict:
    """The one handler's answer to a call (after its ack)."""
    call_id = uuid.uuid4().hex
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
