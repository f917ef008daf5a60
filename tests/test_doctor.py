"""``manage.py dfws_doctor`` against the real stack: each problem gets its row and exit 1.

The command runs in a subprocess with the run's settings (the same Redis prefix, hence
the same workers), given a broken broker URL or an extra declaration through the
environment where a case needs one.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from tests import services

pytestmark = pytest.mark.django_db(transaction=True)  # a worker may run leftover tasks


def doctor(*args: str, **env: str) -> tuple[int, dict[str, dict[str, str]]]:
    result = subprocess.run(
        [sys.executable, "-m", "django", "dfws_doctor", "--json", "--timeout", "1.5", *args],
        env=services.test_env(**env), capture_output=True, text=True, timeout=90,
        cwd=services.ROOT,
    )  # fmt: skip
    rows = {row["check"]: row for row in json.loads(result.stdout)}
    return result.returncode, rows


def statuses(rows: dict[str, dict[str, str]]) -> dict[str, str]:
    return {check: row["status"] for check, row in rows.items()}


def test_all_is_well_with_a_worker_on_every_queue_and_the_websocket_served(worker, server, log_dir):
    queues = subprocess.run(
        [sys.executable, "-m", "django", "dfws_queues"], env=services.test_env(),
        capture_output=True, text=True, check=True, cwd=services.ROOT,
    ).stdout.strip()  # fmt: skip
    every = services.celery_worker("every", queues, services.test_env(), log_dir)
    try:
        code, rows = doctor("--url", server)
    finally:
        every.stop()
    assert set(statuses(rows).values()) == {"ok"}, rows
    assert code == 0
    for queue in queues.split(","):
        assert "every@" in rows[f"queue {queue}"]["detail"]
    assert rows["websocket"]["detail"].endswith("/ws/ accepts websockets")
    assert {"broker", "channel layer", "cache", "settings"} <= set(rows)


def test_a_queue_without_consumer_fails_with_the_command_that_starts_one(worker):
    code, rows = doctor()
    assert code == 1
    assert rows["queue celery"]["status"] == "ok"  # the run's worker consumes only celery
    assert rows["queue slow"] == {
        "check": "queue slow",
        "status": "fail",
        "detail": "no worker consumes it: `celery -A tests.celery_app worker -Q slow`",
    }
    assert statuses(rows)["broker"] == statuses(rows)["cache"] == "ok"


def test_a_task_the_running_worker_does_not_know_fails_its_row(worker):
    code, rows = doctor(DFWS_TEST_RENAMED="1")  # declared here, unknown to the worker
    assert code == 1
    [row] = [row for check, row in rows.items() if check.startswith("tasks on default@")]
    assert row["status"] == "fail"
    assert row["detail"].endswith(": tests.renamed.v2"), row


def test_a_broker_down_fails_its_row_and_the_workers_are_not_asked(worker):
    with socket.socket() as closed:  # bound, never listening: every connect is refused
        closed.bind(("127.0.0.1", 0))
        broker = f"redis://127.0.0.1:{closed.getsockname()[1]}/10"
        code, rows = doctor(DFWS_TEST_BROKER=broker)
    assert code == 1
    assert rows["broker"]["status"] == "fail"
    assert "Connection refused" in rows["broker"]["detail"], rows["broker"]
    assert rows["workers"]["status"] == "skip"
    assert statuses(rows)["channel layer"] == statuses(rows)["cache"] == "ok"


def test_a_url_where_nothing_listens_fails_the_websocket_row(worker):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        code, rows = doctor("--url", f"http://127.0.0.1:{closed.getsockname()[1]}")
    assert code == 1
    assert rows["websocket"]["status"] == "fail"
