"""A ``DynamicQueue`` handler: listed for workers by ``dfws_queues``, and each browser call
reaches a worker of the queue it chose (real daphne, Redis, two Celery workers)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests import services
from tests.test_relay import answers, call

pytestmark = pytest.mark.django_db(transaction=True)  # the workers store their results
DYNAMIC = "tests.dynamic:tests.testapp.signals.dynamic"


def test_a_dynamic_queue_is_listed_and_its_calls_reach_the_worker_of_the_chosen_queue(
    server, worker, log_dir
):
    listed = subprocess.run(
        [sys.executable, "-m", "django", "dfws_queues"], env=services.test_env(),
        capture_output=True, text=True, check=True, cwd=services.ROOT, timeout=60,
    ).stdout.strip().split(",")  # fmt: skip
    assert "dynamic" in listed and "celery" in listed
    dynamic = services.celery_worker("dynamic", "dynamic", services.test_env(), log_dir)
    try:
        big = answers(call(server, "tests.dynamic", {"big": True}))[DYNAMIC]["result"]
        small = answers(call(server, "tests.dynamic", {"big": False}))[DYNAMIC]["result"]
    finally:
        dynamic.stop()
    # a handler reports the main process of its worker (its prefork child's parent)
    assert big == {"big": True, "worker": dynamic.popen.pid}
    assert small == {"big": False, "worker": worker.popen.pid}
