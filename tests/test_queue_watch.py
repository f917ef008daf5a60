"""Queues without consumers fail fast, on the real stack (issue 13).

A private daphne with the queue watch on (``DFWS_TEST_QUEUE_WATCH=1``: asked every
second) serves a window that calls ``tests.lonely_call``, whose queue ``lonely`` no
worker consumes: the call is refused ``no_consumer`` at once, naming the queue and
the command that starts a worker.  A worker for ``lonely`` is then started and the
next calls succeed, with the same daphne.
"""

from __future__ import annotations

import json
import time

import pytest
from django.core.cache import caches

from dfws_celery.conf import dfws_settings
from dfws_celery.queue_watch import SharedAnswers
from tests import services
from tests.layer import window_joined
from tests.wsclient import connect_window, open_page, receive_json, window_key

pytestmark = pytest.mark.django_db(transaction=True)  # the worker stores its results
REFUSED_WITHIN = 2.0


def call(ws, call_id, value):
    started = time.monotonic()
    ws.send(
        json.dumps({"signal": "tests.lonely_call", "opts": {"value": value}, "call_id": call_id})
    )
    return receive_json(ws, timeout=10), time.monotonic() - started


def test_a_call_to_a_queue_without_consumer_is_refused_until_a_worker_consumes_it(
    log_dir, django_db_setup, worker
):
    env = services.test_env(DFWS_TEST_QUEUE_WATCH="1")
    daphne = services.daphne(None, env, log_dir, name="daphne-queue-watch")
    lonely = None
    try:
        cookies = open_page(daphne.url)  # builds the application: the watch starts
        services.wait_until(
            lambda: "queues with a consumer: celery" in daphne.output(), 10, "the first answer"
        )
        with connect_window(daphne.url, cookies) as ws:
            window_joined(ws, window_key(cookies))
            refusal, delay = call(ws, "c1", 1)
            assert refusal == {
                "call_id": "c1",
                "ack": {"handlers": []},
                "error": {
                    "type": "no_consumer",
                    "message": "no worker consumes the queue 'lonely': start one with "
                    "`celery -A tests.celery_app worker -Q lonely`",
                },
            }
            assert delay < REFUSED_WITHIN, delay

            lonely = services.celery_worker("lonely", "lonely", services.test_env(), log_dir)
            ready_at = time.monotonic()
            answers = []
            for n in range(40):  # the watch asks every second: a few calls may still be refused
                answer, _ = call(ws, f"d{n}", n)
                answers.append(answer)
                if "ack" in answer and answer["ack"]["handlers"]:
                    # the ack says where it waits (a timeout message names it)
                    where = list(answer["ack"]["queues"].values())
                    assert where == [{"queue": "lonely", "consumer": True}], answer
                    result = receive_json(ws, timeout=10)
                    break
                assert answer["error"]["type"] == "no_consumer", answer
                time.sleep(0.25)
            else:
                raise AssertionError(f"never accepted: {answers[-3:]}")
            noticed = time.monotonic() - ready_at
    finally:
        if lonely is not None:
            lonely.stop()
        daphne.stop()
    assert result["call_id"] == f"d{n}" and result["result"] == {"lonely": n}, result
    assert noticed < 5, noticed  # interval 1 s + timeout 0.5 s, with room for a loaded machine
    log = daphne.log_path.read_text()  # one daphne all along, which saw the worker come
    assert "queues with a consumer: celery (1 worker(s)), lonely (1 worker(s))" in log


ASKS = "this process asks the workers for their queues, for all"


def test_one_web_process_asks_the_workers_for_all_and_another_takes_over_when_it_stops(
    log_dir, django_db_setup, worker
):
    """Two daphne processes on one cache and broker: one asks the workers, the other knows
    the queues from its answer; stopped, it is replaced within a few intervals."""
    # the election and the answer of the test before's daphne outlive it by 3 intervals: a
    # process would read that answer and, the queues unchanged, never log the new asker
    caches[dfws_settings.cache_backend].delete_many(list(SharedAnswers()._keys()))
    env = services.test_env(DFWS_TEST_QUEUE_WATCH="1")
    daphnes = [services.daphne(None, env, log_dir, name=f"daphne-shared-watch-{n}") for n in (1, 2)]
    try:
        for daphne in daphnes:
            open_page(daphne.url)  # builds the application: the watch starts

        def one_asks_for_both() -> list[services.Process] | None:
            """[asker, other] once exactly one asks and the other has read its answer (named
            by the asker's process id)."""
            askers = [d for d in daphnes if ASKS in d.output()]
            if len(askers) != 1:
                return None
            [other] = [d for d in daphnes if d is not askers[0]]
            return [askers[0], other] if f":{askers[0].popen.pid})" in other.output() else None

        asker, other = services.wait_until(
            one_asks_for_both, 30, "one process to ask and the other to read its answer"
        )

        asker.stop()
        services.wait_until(lambda: ASKS in other.output(), 20, "the other process to ask")
        cookies = open_page(other.url)
        with connect_window(other.url, cookies) as ws:
            window_joined(ws, window_key(cookies))
            refusal, delay = call(ws, "c1", 1)  # still known: no worker consumes `lonely`
        assert refusal["error"]["type"] == "no_consumer", refusal
        assert delay < REFUSED_WITHIN, delay
    finally:
        for daphne in daphnes:
            daphne.stop()
