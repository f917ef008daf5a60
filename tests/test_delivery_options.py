"""``expires`` and ``eta``, as ``trigger_signal`` options and as a task option, on a real worker.

The handlers live on the queue ``late``, which no worker consumes until this module
starts one: messages sent before it can expire in the broker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dfws_celery import SERVER, WindowInfo, trigger, trigger_signal
from tests import services
from tests.conftest import wait_for_records
from tests.layer import deliveries

pytestmark = pytest.mark.django_db(transaction=True)  # the worker stores its results
DISCARDED = "Discarding revoked task: tests.late"


@pytest.fixture(scope="module")
def late_worker(log_dir, worker) -> Iterator[Any]:
    process = services.celery_worker("late", "late", services.test_env(), log_dir)
    yield process
    process.stop()


def test_messages_that_expired_before_a_worker_took_them_never_run(request, sink):
    source = WindowInfo()
    trigger_signal(source, "tests.late", to=SERVER, kwargs={"value": 1}, expires=1)
    in_a_second = datetime.now(UTC) + timedelta(seconds=1)
    trigger_signal(source, "tests.late", to=SERVER, kwargs={"value": 2}, expires=in_a_second)
    trigger(source, "tests.late_expiring", to=SERVER, value=3)  # @signal(expires=1)
    trigger_signal(source, "tests.late", to=SERVER, kwargs={"value": 4}, expires=120)
    # a call's option wins over the task's
    trigger_signal(source, "tests.late_expiring", to=SERVER, kwargs={"value": 5}, expires=120)
    time.sleep(1.5)
    late = request.getfixturevalue("late_worker")  # only now does `late` get a consumer
    wait_for_records(sink, "late", count=2)
    services.wait_until(lambda: late.output().count(DISCARDED) == 3, 10, "3 expired tasks")
    assert sorted(r["value"] for r in sink.read()) == [4, 5]


def test_eta_holds_the_handler_and_the_browser_frame_until_then(late_worker, sink):
    at = datetime.now(UTC) + timedelta(seconds=2)
    sent: list[float] = []

    def send() -> None:
        sent.append(time.monotonic())
        trigger_signal(
            WindowInfo(), "tests.late", to=[SERVER, "eta-room"], kwargs={"value": 6}, eta=at
        )

    frames = deliveries(["eta-room"], send, wait=10, count=1, stamped=True)["eta-room"]
    assert [f["opts"] for f in frames] == [{"value": 6}]
    delay = frames[0]["received_at"] - sent[0]
    assert 1.8 <= delay < 5, f"the frame arrived {delay:.2f} s after the trigger, not ~2 s"
    [record] = wait_for_records(sink, "late")
    ran = record["at"] - at.timestamp()
    assert -0.2 <= ran < 3, f"the handler ran {ran:+.2f} s from its eta"
