"""The result relay: workers answer the calling window (real daphne, Redis and workers)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from dfws_celery import SERVER, WINDOW, WindowInfo, trigger
from tests import services
from tests.conftest import wait_for_records
from tests.layer import window_joined
from tests.wsclient import connect_window, open_page, receive_json, window_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def slow_worker(log_dir, worker) -> Iterator[Any]:
    process = services.celery_worker("relay-slow", "slow", services.test_env(), log_dir)
    yield process
    process.stop()


def call(server: str, signal: str, opts: dict[str, Any], wait: float = 15) -> list[dict]:
    """Send one call; collect every frame about it until each accepted handler answered."""
    with connect_window(server, open_page(server)) as ws:
        ws.send(json.dumps({"signal": signal, "opts": opts, "call_id": "c1"}))
        return collect(ws, wait)


def collect(ws, wait: float) -> list[dict]:
    frames: list[dict] = []
    deadline = time.monotonic() + wait
    pending: set[str] | None = None
    while pending is None or pending:
        try:
            text = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        except (TimeoutError, ConnectionClosed):
            break
        frame = json.loads(text)
        frames.append(frame)
        if "ack" in frame:
            pending = set(frame["ack"]["handlers"])
        elif pending is not None and ("result" in frame or "error" in frame):
            pending.discard(frame["handler"])
        if time.monotonic() > deadline:
            break
    return frames


def answers(frames: list[dict]) -> dict[str, dict]:
    return {f["handler"]: f for f in frames if "handler" in f and "progress" not in f}


def test_results_of_two_handlers_on_two_queues(server, slow_worker):
    frames = call(server, "tests.multi", {"value": 5})
    assert frames[0]["ack"]["handlers"] == [
        "tests.multi:tests.testapp.signals.multi_default",
        "tests.multi:tests.testapp.signals.multi_slow",
    ]
    results = {h: f["result"] for h, f in answers(frames).items()}
    assert results == {
        "tests.multi:tests.testapp.signals.multi_default": {"queue": "celery", "value": 5},
        "tests.multi:tests.testapp.signals.multi_slow": {"queue": "slow", "value": 10},
    }
    assert all(f["call_id"] == "c1" for f in frames)


def test_invalid_argument_error_names_the_argument(server):
    frames = call(server, "tests.cast", {"count": "x", "code": "abc", "color": "red"})
    error = answers(frames)["tests.cast:tests.testapp.signals.cast"]["error"]
    assert error["type"] == "invalid_argument" and error["argument"] == "count"


def test_missing_argument_error(server):
    frames = call(server, "tests.cast", {"count": 1, "code": "abc"})
    error = answers(frames)["tests.cast:tests.testapp.signals.cast"]["error"]
    assert error == {  # DEBUG off: no handler path in the text
        "type": "missing_argument",
        "message": "missing argument 'color'",
        "argument": "color",
    }


def test_handler_exception_gives_its_class_without_message_when_not_debug(server):
    error = answers(call(server, "tests.fail", {}))["tests.fail:tests.testapp.signals.fail"]
    assert error["error"] == {
        "type": "handler_exception",
        "message": "ZeroDivisionError",
        "exception": "ZeroDivisionError",
    }


def test_time_limit_exceeded_is_answered(server):
    frames = call(server, "tests.sleepy", {"seconds": 5}, wait=20)
    error = answers(frames)["tests.sleepy:tests.testapp.signals.sleepy"]["error"]
    assert error["type"] == "time_limit"


def test_retried_then_failed(server):
    error = answers(call(server, "tests.flaky", {}))["tests.flaky:tests.testapp.signals.flaky"]
    assert error["error"]["type"] == "retries_exhausted"
    assert "failed after 2 retries with KeyError" in error["error"]["message"]


def test_unencodable_result_is_an_error_for_the_caller_not_a_crash(server, worker):
    frames = call(server, "tests.unencodable", {})
    error = answers(frames)["tests.unencodable:tests.testapp.signals.unencodable"]["error"]
    assert error["type"] == "result_not_serializable"
    assert worker.alive()


def test_progress_reaches_the_window_before_the_result(server):
    frames = call(server, "tests.progress", {"steps": 3})
    kinds = [
        ("progress" if "progress" in f else "result" if "result" in f else "ack") for f in frames
    ]
    assert kinds == ["ack", "progress", "progress", "progress", "result"]
    assert frames[1]["progress"] == {"fraction": 0.0, "message": "step 1 of 3"}
    assert frames[-1]["result"] == "finished"


def test_call_to_a_queue_without_worker_gets_only_the_ack(server):
    frames = call(server, "tests.idle_call", {}, wait=3)
    assert [len(f.pop("o")) for f in frames] == [1]  # the ack's place in the window's history
    assert frames == [
        {
            "call_id": "c1",
            "ack": {
                "handlers": ["tests.idle_call:tests.testapp.signals.idle_call"],
                "timeout": 30.0,
                # the queue watch is off in the shared daphne: nobody knows about a consumer
                "queues": {
                    "tests.idle_call:tests.testapp.signals.idle_call": {
                        "queue": "idle",
                        "consumer": None,
                    }
                },
            },
        }
    ]


def test_server_triggered_signals_get_no_acks_nor_results(server, sink):
    cookies = open_page(server)
    with connect_window(server, cookies) as ws:
        window_joined(ws, window_key(cookies))
        info = WindowInfo.from_dict({"window_key": window_key(cookies)})
        trigger(info, "tests.ping", to=SERVER, value=1)
        services.wait_until(lambda: sink.read(), 10, "the handler to run")
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1.5)


def test_progress_outside_a_browser_call_reaches_no_window(server, sink):
    """A handler triggered from a window's request, not called by it: no call to answer.

    Its window is open and listening; the handler's progress reports must not
    reach it. A frame published to the window after the handler finished is the
    barrier: frames of one group arrive in the order they were published.
    """
    cookies = open_page(server)
    info = WindowInfo.from_dict({"window_key": window_key(cookies)})
    with connect_window(server, cookies) as ws:
        window_joined(ws, window_key(cookies))
        trigger(info, "tests.progress", to=SERVER, steps=2)
        wait_for_records(sink, "progress")  # written after its last report
        trigger(info, "html.text", to=WINDOW, selector="#x", content="barrier")
        frames = []
        while (frame := receive_json(ws)).get("signal") != "html.text":
            frames.append(frame)
    assert frames == []


def test_result_is_stored_under_the_task_name(server):
    from django_celery_results.models import TaskResult

    call(server, "tests.ping", {"value": 20})
    name = "tests.ping:tests.testapp.signals.ping"
    stored = services.wait_until(
        lambda: TaskResult.objects.filter(task_name=name, result="21").first(), 10, "TaskResult"
    )
    assert stored.status == "SUCCESS"
