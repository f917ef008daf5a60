"""Refused frames of one socket: a few logged, the rest summed up, an abuser closed."""

from __future__ import annotations

from types import SimpleNamespace

from dfws_web import limits
from dfws_web.limits import Refusals


def test_the_first_refusals_are_logged_then_summed_up_every_hundred(settings):
    settings.WEBSOCKET_MAX_REFUSALS = 0  # never close: only the logging is looked at
    refusals = Refusals()
    verdicts = [refusals.count("unknown_signal") for _ in range(200)]
    assert [log for log, _, _ in verdicts].count(True) == 5
    summaries = [summary for _, summary, _ in verdicts if summary]
    assert summaries == [
        "100 frames refused so far (unknown_signal x100)",
        "200 frames refused so far (unknown_signal x200)",
    ]
    assert not any(close for _, _, close in verdicts)


def test_more_abusive_refusals_than_allowed_in_a_minute_close_the_socket(settings, monkeypatch):
    settings.WEBSOCKET_MAX_REFUSALS = 3
    clock = SimpleNamespace(now=100.0)
    monkeypatch.setattr(limits.time, "monotonic", lambda: clock.now)
    refusals = Refusals()
    assert [refusals.count("bad_frame")[2] for _ in range(3)] == [False] * 3
    clock.now += 61  # a minute later the earlier ones no longer count
    assert [refusals.count("rate_limited")[2] for _ in range(4)] == [False, False, False, True]


def test_a_page_calling_its_own_javascript_signals_is_never_closed(settings):
    settings.WEBSOCKET_MAX_REFUSALS = 3
    refusals = Refusals()
    assert not any(refusals.count("unknown_signal")[2] for _ in range(50))
