"""The signal core against a real Redis broker and real `celery worker` processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from dfws_celery import SERVER, WindowInfo, trigger, trigger_signal
from dfws_celery.registry import REGISTRY
from tests import services
from tests.conftest import wait_for_records
from tests.layer import deliveries

pytestmark = pytest.mark.django_db(transaction=True)


def window():
    return WindowInfo.from_dict({"window_key": "wk", "session_hash": "sh"})


def test_handler_runs_in_worker_with_cast_arguments(worker, sink):
    trigger(window(), "tests.cast", to=SERVER, count="3", code="abc", color="red")
    record = wait_for_records(sink, "cast")[0]
    assert record == {"name": "cast", "count": 3, "code": "ABC", "color": "red"}


def test_handler_runs_in_another_process(worker, sink):
    trigger(window(), "tests.ping", to=SERVER, value=1)
    record = wait_for_records(sink, "ping")[0]
    assert record["pid"] != os.getpid() and record["window_key"] == "wk"


def test_invalid_arguments_do_not_run_the_handler_nor_kill_the_worker(worker, sink):
    trigger(window(), "tests.cast", to=SERVER, count="x", code="abc", color="red")
    trigger(window(), "tests.ping", to=SERVER, value=2)
    wait_for_records(sink, "ping")
    assert [r["name"] for r in sink.read()] == ["ping"]
    assert worker.alive()
    services.wait_until(
        lambda: "invalid argument 'count'" in worker.output(), 10, "the warning in the log"
    )


def test_slow_handler_not_run_by_worker_on_default_queue(worker, sink, log_dir):
    trigger(window(), "tests.slow", to=SERVER, value="later")
    trigger(window(), "tests.ping", to=SERVER, value=3)
    wait_for_records(sink, "ping")
    time.sleep(1)
    assert [r["name"] for r in sink.read()] == ["ping"]
    slow = services.celery_worker("slow", "slow", services.test_env(), log_dir)
    try:
        assert wait_for_records(sink, "slow")[0]["value"] == "later"
    finally:
        slow.stop()


def test_inspect_registered_lists_every_compiled_task(worker):
    env = services.test_env()
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "tests.celery_app", "inspect", "registered",
         "-d", "default@" + os.uname().nodename, "-t", "10"],
        env=env, capture_output=True, text=True, timeout=60, cwd=services.ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name in REGISTRY.by_task_name:
        assert name in result.stdout
    assert "dfws.trigger" in result.stdout and "dfws.publish" in result.stdout


def test_countdown_delays_the_browser_delivery(worker):
    sent: list[float] = []

    def send() -> None:
        sent.append(time.monotonic())
        trigger_signal(window(), "demo.later", to=["later"], countdown=2)

    frames = deliveries(["later"], send, wait=8, count=1, stamped=True)["later"]
    assert [f["signal"] for f in frames] == ["demo.later"]
    delay = frames[0]["received_at"] - sent[0]
    assert 2 <= delay < 5, f"the frame arrived {delay:.2f} s after the trigger, not ~2 s"


def test_beat_entry_triggers_a_signal_to_server_and_topic(worker, sink):
    from dfws_celery.celery_app import get_celery_app

    def send():  # exactly what celery beat sends for a beat_schedule entry
        get_celery_app().send_task(
            "dfws.trigger",
            args=["tests.ping", ["SERVER", "beat-room"]],
            kwargs={"kwargs": {"value": 9}},
        )

    received = deliveries(["beat-room"], send, wait=8)
    assert received["beat-room"][0]["opts"] == {"value": 9}
    assert wait_for_records(sink, "ping")[0]["value"] == 9


def test_same_handler_runs_through_rabbitmq(log_dir, sink):
    if not services.port_open("127.0.0.1", 5672):
        subprocess.run(["rabbitmq-server", "-detached"], check=False)
        services.wait_until(lambda: services.port_open("127.0.0.1", 5672), 60, "RabbitMQ")
    queue = f"{os.environ['DFWS_TEST_PREFIX']}-amqp"
    env = services.test_env(
        DFWS_TEST_BROKER="amqp://guest:guest@127.0.0.1:5672//", DFWS_TEST_QUEUE=queue
    )
    rabbit = services.celery_worker("rabbit", queue, env, log_dir)
    try:
        code = (
            "import django; django.setup();"
            "from dfws_celery import trigger, SERVER, WindowInfo;"
            "trigger(WindowInfo(), 'tests.ping', to=SERVER, value=11)"
        )
        subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, timeout=60, cwd=services.ROOT
        )
        record = wait_for_records(sink, "ping")[0]
        assert record["value"] == 11
        assert "amqp://guest:**@127.0.0.1:5672//" in rabbit.output()
    finally:
        rabbit.stop()


def test_task_messages_name_the_caller_and_the_arguments_not_the_window_dict():
    """What Flower and worker logs show as a handler task's arguments."""
    from celery.signals import before_task_publish

    seen = []

    def capture(headers=None, **_):
        seen.append(headers)

    before_task_publish.connect(capture, weak=False)
    try:
        info = WindowInfo.from_dict({"window_key": "wk-repr", "session_hash": "sh"})
        trigger(info, "tests.server_only", to=SERVER, value="x" * 2000)
    finally:
        before_task_publish.disconnect(capture)
    argsrepr = seen[0]["argsrepr"]
    assert argsrepr.startswith('(<window>, {"value":"xxx')
    assert len(argsrepr) == 1024 and argsrepr.endswith("...")
    assert seen[0]["kwargsrepr"] == "{}"
