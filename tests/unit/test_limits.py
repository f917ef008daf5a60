"""The limits' rules on the per-process store, and limits switched off costing nothing."""

from __future__ import annotations

import asyncio

import pytest

from dfws_web import limits
from dfws_web.limit_store import OK, RATE, Entry, LocalStore, Rate
from dfws_web.limits import WindowLimits


def run(coroutine):
    return asyncio.run(coroutine)


def test_the_local_store_keeps_the_same_rules_as_redis():
    store = LocalStore()
    assert run(store.admit([Entry("set", ("m1",), 2)], 60, None)) == OK
    assert run(store.admit([Entry("set", ("m2", "m3"), 2)], 60, None)) == 1
    assert run(store.admit([Entry("set", ("m2",), 2)], 60, None)) == OK
    run(store.release([Entry("set", ("m1",), 2)]))
    assert run(store.admit([Entry("set", ("m4",), 2)], 60, None)) == OK
    assert run(store.admit([Entry("gone", ("x",), 1)], -1, None)) == OK  # already expired
    assert run(store.admit([Entry("gone", ("y",), 1)], 60, None)) == OK
    verdicts = [run(store.admit([], 60, Rate("r", 2))) for _ in range(6)]
    assert verdicts == [OK, OK, OK, OK, RATE, RATE]


def test_a_renewal_counts_an_expired_member_again_and_drops_the_released():
    store = LocalStore()
    socket, full = Entry("sockets", ("s1",), 1), Entry("sockets", ("s2",), 1)
    assert run(store.admit([socket], -1, None)) == OK  # counted, then expired (a silent socket)
    assert run(store.admit([full], 60, None)) == OK  # so another took its place
    run(store.release([full]))
    run(store.renew([socket], 60, [Entry("calls", ("c1",), 0)]))  # its next heartbeat
    assert run(store.admit([full], 60, None)) == 1  # counted again: the set is full


def test_the_second_entry_over_its_cap_is_named():
    store = LocalStore()
    entries = [Entry("a", ("1",), 5), Entry("b", ("1",), 1)]
    assert run(store.admit(entries, 60, None)) == OK
    assert run(store.admit([Entry("a", ("2",), 5), Entry("b", ("2",), 1)], 60, None)) == 2


class Untouchable:
    async def admit(self, *args):
        raise AssertionError("a limit switched off must not reach the store")

    release = renew = admit


def test_limits_switched_off_never_reach_the_store(settings, monkeypatch):
    settings.WEBSOCKET_MAX_SOCKETS_PER_WINDOW = 0
    settings.WEBSOCKET_MAX_SOCKETS_PER_ADDRESS = 0
    settings.WEBSOCKET_MAX_CALLS_IN_FLIGHT = 0
    settings.WEBSOCKET_RATE_LIMIT = 0
    monkeypatch.setattr(limits, "store", Untouchable)
    window = WindowLimits("w-off", "127.0.0.1")
    assert run(window.open()) is None
    assert run(window.admit_call("c1", [("task", "celery")])) is None
    run(window.close())


def test_a_full_window_names_the_setting_to_raise(settings):
    settings.WEBSOCKET_MAX_CALLS_IN_FLIGHT = 1
    window = WindowLimits("w-full", "127.0.0.1")
    assert run(window.admit_call("c1", [("task", "celery")])) is None
    refusal = run(window.admit_call("c2", [("task", "celery")]))
    assert refusal.type == "too_many_calls" and refusal.call_id == "c2"
    assert "WEBSOCKET_MAX_CALLS_IN_FLIGHT" in refusal.message
    window.answered("c1", "task")
    assert run(window.admit_call("c3", [("task", "celery")])) is None


@pytest.mark.parametrize("cap", [1, 2])
def test_a_queue_cap_counts_only_that_queue(settings, cap):
    settings.WEBSOCKET_QUEUE_LIMITS = {"slow": cap}
    window = WindowLimits("w-queue", "127.0.0.1")
    for n in range(cap):
        assert run(window.admit_call(f"s{n}", [("slow-task", "slow")])) is None
    refusal = run(window.admit_call("s-over", [("slow-task", "slow")]))
    assert "on queue 'slow' (WEBSOCKET_QUEUE_LIMITS)" in refusal.message
    assert run(window.admit_call("fast", [("fast-task", "celery")])) is None
