"""Prometheus metrics (opt-in: ``WEBSOCKET_METRICS = True`` and ``pip install dfws[metrics]``).

What is counted, and where:

* ``dfws_windows_connected`` (gauge): sockets accepted and open, per process
  (summed over live processes in multiprocess mode);
* ``dfws_windows_by_topic_kind{kind}`` (gauge): those sockets following at least
  one topic of a kind (``topics.topic_kind``: ``window``, ``session``, ``user``,
  ``broadcast``, ``object``, ``model``, ``string``...; never a topic's name);
* ``dfws_frames_received_total{kind}`` / ``dfws_frames_sent_total``: frames
  through the consumers (``kind``: ``call``, ``heartbeat``);
* ``dfws_refusals_total{type}``: frames and calls refused (``ErrorType``), at the
  edge (``bad_frame``, ``rate_limited``, a built-in permission...) and by the
  worker (``permission_denied``, ``invalid_argument``...);
* ``dfws_calls_total{signal}`` and ``dfws_call_seconds{signal}`` (histogram):
  browser calls forwarded, and the time from the frame's arrival to each
  handler's answer passing the same socket (browser → worker → browser, minus
  the network);
* ``dfws_queue_wait_seconds{signal}`` (histogram): in Celery workers, from a
  handler task's message sent (its ``dfws_sent`` header, stamped by a process
  with metrics on) to its start; the two processes' wall clocks compared, so
  hosts need synchronized clocks; messages with a countdown/eta and retries are
  left out (they wait on purpose);
* ``dfws_publish_errors_total``: publishes the channel layer refused (Redis
  unreachable), in web and worker processes alike;
* ``dfws_replayed_frames_total`` / ``dfws_resyncs_total``: frames sent from a
  topic's history (a reconnect's replay, a hole filled) and topics whose missed
  frames were gone (``recovery``).

The hot path pays one global read when metrics are off (:func:`get` returns
``None``), a counter increment when on.  Several processes (daphne, gunicorn,
Celery workers) share their counts through ``PROMETHEUS_MULTIPROC_DIR``, an
empty directory set in every process's environment before it starts;
``dfws_web.metrics_view`` then reads them all (``prometheus_client``'s
multiprocess mode).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from django.core.signals import setting_changed

from dfws_celery.conf import dfws_settings
from dfws_celery.extras import require

# browser calls answered within tens of milliseconds to a minute
CALL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# a message picked at once by an idle worker (a millisecond) to a backlog of minutes
QUEUE_WAIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
                      30, 60, 300)  # fmt: skip
SENT_HEADER = "dfws_sent"  # a handler task message's send time (time.time())
PENDING_CAP = 1000  # calls timed per socket at once; the oldest is dropped past it


class Instruments:
    """The metric objects, created once per process."""

    def __init__(self) -> None:
        require("metrics", "WEBSOCKET_METRICS = True")
        from prometheus_client import Counter, Gauge, Histogram

        self.windows = Gauge(
            "dfws_windows_connected",
            "Websockets of windows accepted and open",
            multiprocess_mode="livesum",
        )
        self.windows_by_kind = Gauge(
            "dfws_windows_by_topic_kind",
            "Websockets of windows following at least one topic of the kind",
            ["kind"],
            multiprocess_mode="livesum",
        )
        self._by_kind: dict[str, Any] = {}  # the gauge of each kind, looked up once
        frames_in = Counter("dfws_frames_received_total", "Frames received from browsers", ["kind"])
        self.calls_in = frames_in.labels("call")
        self.heartbeats_in = frames_in.labels("heartbeat")
        self.frames_out = Counter("dfws_frames_sent_total", "Frames sent to browsers")
        self.refusals = Counter(
            "dfws_refusals_total",
            "Frames refused at the websocket edge, and browser calls refused by the worker",
            ["type"],
        )
        self.calls = Counter("dfws_calls_total", "Browser calls forwarded to handlers", ["signal"])
        self.call_seconds = Histogram(
            "dfws_call_seconds",
            "From a call frame's arrival to a handler's answer leaving for the browser",
            ["signal"],
            buckets=CALL_BUCKETS,
        )
        self.queue_wait = Histogram(
            "dfws_queue_wait_seconds",
            "From a handler task's message sent to its start in a worker",
            ["signal"],
            buckets=QUEUE_WAIT_BUCKETS,
        )
        self.publish_errors = Counter(
            "dfws_publish_errors_total", "Publishes to the channel layer that failed"
        )
        self.replayed = Counter(
            "dfws_replayed_frames_total",
            "Frames windows missed and got from the history (a reconnect, a hole filled)",
        )
        self.resyncs = Counter(
            "dfws_resyncs_total", "Topics whose missed frames were gone: the page was told"
        )

    def by_kind(self, kind: str) -> Any:
        """The ``windows_by_kind`` gauge of ``kind`` (``labels()`` locks and builds a key)."""
        gauge = self._by_kind.get(kind)
        if gauge is None:
            gauge = self._by_kind[kind] = self.windows_by_kind.labels(kind)
        return gauge


_instruments: Instruments | None = None
_on: bool | None = None  # None: the setting is not read yet


def get() -> Instruments | None:
    """The metrics, or ``None`` when ``WEBSOCKET_METRICS`` is off."""
    global _on, _instruments
    if _on is None:
        _on = dfws_settings.metrics
    if not _on:
        return None
    if _instruments is None:
        _instruments = Instruments()
    return _instruments


def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    global _on
    if setting == "WEBSOCKET_METRICS":
        _on = None


setting_changed.connect(_setting_changed)


def publish_failed() -> None:
    metrics = get()
    if metrics is not None:
        metrics.publish_errors.inc()


def refused(error_type: str) -> None:
    metrics = get()
    if metrics is not None:
        metrics.refusals.labels(error_type).inc()


def sent_headers() -> dict[str, float] | None:
    """The headers of a handler task's message: its send time when metrics are on."""
    if get() is None:
        return None
    return {SENT_HEADER: time.time()}


def task_started(signal: str, headers: Mapping[str, Any] | None) -> None:
    """A worker starts a handler task whose message carries ``headers``: time its wait."""
    metrics = get()
    if metrics is None or not headers:
        return
    sent = headers.get(SENT_HEADER)
    if isinstance(sent, int | float):
        metrics.queue_wait.labels(signal).observe(max(0.0, time.time() - sent))


class CallTimer:
    """The browser calls of one socket waiting for their answers, to time them.

    One per socket: slots and a plain dict (insertion-ordered, so the oldest
    call is the first key), not an ``OrderedDict`` (128 bytes empty against 64).
    """

    __slots__ = ("metrics", "pending")

    def __init__(self, metrics: Instruments) -> None:
        self.metrics = metrics
        # (call_id, handler) -> (signal, monotonic time of the call frame)
        self.pending: dict[tuple[str, str], tuple[str, float]] = {}

    def sent(self, signal: str, call_id: str, handlers: list[str], started: float) -> None:
        self.metrics.calls.labels(signal).inc()
        for handler in handlers:
            self.pending[(call_id, handler)] = (signal, started)
        while len(self.pending) > PENDING_CAP:
            del self.pending[next(iter(self.pending))]

    def answered(self, call_id: str, handler: str) -> None:
        found = self.pending.pop((call_id, handler), None)
        if found is not None:
            signal, started = found
            self.metrics.call_seconds.labels(signal).observe(time.monotonic() - started)


def multiprocess_dir() -> str | None:
    """``PROMETHEUS_MULTIPROC_DIR``, when set."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")
