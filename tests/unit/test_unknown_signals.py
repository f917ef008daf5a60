"""A browser calling a signal nobody declares is logged on the server, without flooding the log."""

from __future__ import annotations

import logging

import pytest

from dfws_celery.errors import UnknownSignal
from dfws_web import calls
from dfws_web.calls import UnknownSignalLog, callable_handlers

LOGGER = "dfws.websocket.unknown"
CALLER = {"window_key": "w1", "username": "ada"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A fresh process-wide log on a clock the test moves."""
    clock = Clock()
    log = UnknownSignalLog(logging.getLogger(LOGGER), interval=60, names=3, clock=clock)
    monkeypatch.setattr(calls, "unknown_signals", log)
    return clock


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelname == "WARNING"]


def call(signal: str, window_info: dict | None = CALLER) -> None:
    with pytest.raises(UnknownSignal):
        callable_handlers(signal, "c1", window_info)


def test_a_misspelled_signal_is_a_warning_naming_it_the_window_and_the_user(clock, caplog):
    caplog.set_level(logging.WARNING, LOGGER)
    call("demo.slow.wrok")
    [line] = warnings_of(caplog)
    assert "'demo.slow.wrok'" in line and "window w1" in line and "user ada" in line
    call("demo.other", {"window_key": "w2"})
    assert "window w2 (user anonymous)" in warnings_of(caplog)[-1]


def test_a_flood_writes_a_line_per_name_per_interval_then_a_count(clock, caplog):
    caplog.set_level(logging.WARNING, LOGGER)
    for _ in range(50):
        call("demo.slow.wrok")
    for n in range(10):  # random names: at most `names` of them per interval
        call(f"junk.{n}")
    lines = warnings_of(caplog)
    assert len(lines) == 3
    assert "'demo.slow.wrok'" in lines[0] and "'junk.0'" in lines[1] and "'junk.1'" in lines[2]
    clock.now += 61
    call("demo.slow.wrok")
    lines = warnings_of(caplog)[3:]
    assert lines[0] == "57 more call(s) of unknown dfws signals in the last 60 s were not logged"
    assert "'demo.slow.wrok'" in lines[1] and len(lines) == 2


def test_the_clients_own_signals_and_server_lookups_are_not_logged(clock, caplog):
    caplog.set_level(logging.DEBUG, LOGGER)
    call("html.text")  # a page running a built-in signal: the call reaches the server too
    call("demo.nobody", window_info=None)  # not a browser's call
    assert warnings_of(caplog) == []
