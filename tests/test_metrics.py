"""Prometheus metrics over a real socket (issue 13): a scripted scenario, then the scrape.

A private daphne and a private worker (on a queue of their own) write their
metrics to one ``PROMETHEUS_MULTIPROC_DIR`` (the multiprocess mode a site with
several processes uses); the test reads them back through the test project's
``/metrics/`` view: the edge's counts and the worker's (queue wait, refusals).
"""

from __future__ import annotations

import json
import os
import urllib.request
from urllib.parse import quote

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dfws_celery import WINDOW, WindowInfo, trigger
from dfws_celery.wire import HEARTBEAT
from tests import services
from tests.layer import window_joined
from tests.wsclient import connect_window, open_page, receive_json, window_key

pytestmark = pytest.mark.django_db(transaction=True)  # the worker stores its results


def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(base + "/metrics/", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_metrics_view_counts_a_scripted_scenario(log_dir, tmp_path):
    queue = f"{os.environ['DFWS_TEST_PREFIX']}-metrics"
    env = services.test_env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path), DFWS_TEST_QUEUE=queue)
    worker = services.celery_worker("metrics", queue, env, log_dir)
    daphne = services.daphne(None, env, log_dir, name="daphne-metrics")
    try:
        cookies = open_page(daphne.url)
        with connect_window(daphne.url, cookies) as ws:
            window_joined(ws, window_key(cookies))  # one heartbeat and its echo
            received = 1
            answers: list[dict] = []
            for n in (1, 2):
                ws.send(
                    json.dumps({"signal": "tests.ping", "opts": {"value": n}, "call_id": f"p{n}"})
                )
                ack, result = receive_json(ws), receive_json(ws)
                assert ack["ack"]["handlers"] and result["result"] == n + 1, (ack, result)
                answers.append(result)
                received += 2
            ws.send(json.dumps({"signal": "tests.small_only", "opts": {"n": 20}, "call_id": "s1"}))
            ack, refused = receive_json(ws), receive_json(ws)  # the project's permission
            assert refused["error"]["type"] == "permission_denied", (ack, refused)
            answers.append(refused)
            received += 2
            ws.send("not json")
            assert receive_json(ws)["error"]["type"] == "bad_frame"
            ws.send(json.dumps({"signal": "tests.nobody", "opts": {}, "call_id": "u1"}))
            assert receive_json(ws)["error"]["type"] == "unknown_signal"
            ws.send(HEARTBEAT)  # every frame sent before its echo has arrived
            while ws.recv(timeout=10) != HEARTBEAT:
                received += 1
            received += 3
            during = scrape(daphne.url)
        # while the window is away, a signal to it; it comes back with its positions
        positions = {tag: at for frame in answers for tag, at in frame.get("o", {}).items()}
        trigger(WindowInfo.from_dict({"window_key": window_key(cookies)}), "html.text",
                to=WINDOW, selector="#x", content="missed")  # fmt: skip
        query = "dfwspos=" + quote(json.dumps(positions))
        with connect_window(daphne.url, cookies, query=query) as ws:
            assert receive_json(ws)["opts"]["content"] == "missed"
            assert receive_json(ws)["recovered"] == {"frames": 1, "resync": []}
        stale = {tag: "0badc0de.1" for tag in positions}  # a history that is gone
        with connect_window(daphne.url, cookies, query="dfwspos=" + quote(json.dumps(stale))) as ws:
            assert receive_json(ws)["recovered"]["resync"] == list(stale)
        after = services.wait_until(
            lambda: (s := scrape(daphne.url))[("dfws_windows_connected", ())] == 0 and s,
            10,
            "the window to count as gone",
        )
    finally:
        daphne.stop()
        worker.stop()
    assert during[("dfws_windows_connected", ())] == 1
    # an anonymous page: its window, everyone, its browser (as its session); nothing else
    kinds = {labels[0][1]: value for (name, labels), value in during.items()
             if name == "dfws_windows_by_topic_kind" and value}  # fmt: skip
    assert kinds == {"window": 1, "broadcast": 1, "session": 1}
    assert during[("dfws_frames_received_total", (("kind", "heartbeat"),))] == 2
    assert during[("dfws_frames_received_total", (("kind", "call"),))] == 5
    assert during[("dfws_frames_sent_total", ())] == received
    assert during[("dfws_refusals_total", (("type", "bad_frame"),))] == 1
    assert during[("dfws_refusals_total", (("type", "unknown_signal"),))] == 1
    assert during[("dfws_refusals_total", (("type", "permission_denied"),))] == 1  # the worker's
    ping = (("signal", "tests.ping"),)
    assert during[("dfws_calls_total", ping)] == 2
    assert during[("dfws_call_seconds_count", ping)] == 2
    assert 0 < during[("dfws_call_seconds_sum", ping)] < 10
    # the answers came back within a few seconds: both in the 5 s bucket
    assert during[("dfws_call_seconds_bucket", (("le", "5.0"), *ping))] == 2
    # measured in the worker, from the header the daphne stamped
    assert during[("dfws_queue_wait_seconds_count", ping)] == 2
    assert during[("dfws_queue_wait_seconds_count", (("signal", "tests.small_only"),))] == 1
    assert 0 <= during[("dfws_queue_wait_seconds_sum", ping)] < 10
    assert after[("dfws_publish_errors_total", ())] == 0
    assert after[("dfws_replayed_frames_total", ())] == 1
    assert after[("dfws_resyncs_total", ())] == 1
    assert not any(v for (name, _), v in after.items() if name == "dfws_windows_by_topic_kind")
    assert list(tmp_path.glob("*.db")), "the metrics went through the multiprocess directory"
