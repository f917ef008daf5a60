"""``WEBSOCKET_METRICS``: nothing when off, the publish errors counted, the view."""

from __future__ import annotations

import time

import pytest
import redis.exceptions
from django.http import Http404
from django.test import RequestFactory

from dfws_celery import metrics, publisher
from dfws_web.metrics_view import metrics as metrics_view


def test_off_means_no_metric_object_and_a_404(settings):
    settings.WEBSOCKET_METRICS = False
    assert metrics.get() is None
    metrics.publish_failed()  # a no-op
    with pytest.raises(Http404):
        metrics_view(RequestFactory().get("/metrics/"))


def test_a_publish_the_layer_refuses_is_counted_and_still_raised(settings, monkeypatch):
    settings.WEBSOCKET_METRICS = True
    counter = metrics.get().publish_errors
    before = counter._value.get()

    def down(groups, message):
        raise redis.exceptions.ConnectionError("refused")

    monkeypatch.setattr(publisher, "send", down)
    with pytest.raises(redis.exceptions.ConnectionError):
        publisher.publish(["g"], "{}")
    assert counter._value.get() == before + 1


def test_the_view_serves_the_process_registry(settings):
    settings.WEBSOCKET_METRICS = True
    metrics.get()
    response = metrics_view(RequestFactory().get("/metrics/"))
    assert response.status_code == 200
    assert b"dfws_frames_sent_total" in response.content


def test_a_call_timer_forgets_the_oldest_calls_past_its_cap(settings):
    settings.WEBSOCKET_METRICS = True
    timer = metrics.CallTimer(metrics.get())
    for n in range(metrics.PENDING_CAP + 5):
        timer.sent("unit.metrics", f"c{n}", ["h"], 0.0)
    assert len(timer.pending) == metrics.PENDING_CAP
    assert ("c0", "h") not in timer.pending
    timer.answered("c6", "h")
    assert ("c6", "h") not in timer.pending


def test_a_handler_message_carries_its_send_time_only_with_metrics_on(settings):
    settings.WEBSOCKET_METRICS = False
    assert metrics.sent_headers() is None
    settings.WEBSOCKET_METRICS = True
    headers = metrics.sent_headers()
    assert headers is not None and abs(headers[metrics.SENT_HEADER] - time.time()) < 60


def test_the_queue_wait_is_observed_from_the_header_and_never_negative(settings):
    settings.WEBSOCKET_METRICS = True
    histogram = metrics.get().queue_wait.labels("unit.wait")
    waited = lambda: histogram._sum.get()  # noqa: E731
    before = waited()
    metrics.task_started("unit.wait", {metrics.SENT_HEADER: time.time() - 2})
    assert 2 <= waited() - before < 60
    before = waited()
    metrics.task_started("unit.wait", {metrics.SENT_HEADER: time.time() + 5})  # a clock ahead
    metrics.task_started("unit.wait", None)  # a message from a process with metrics off
    metrics.task_started("unit.wait", {"other": 1})
    assert waited() == before  # 0 s added, nothing negative
