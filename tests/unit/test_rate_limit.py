"""The token bucket behind ``WEBSOCKET_RATE_LIMIT``, on a clock the test moves."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dfws_web import rate_limit
from dfws_web.rate_limit import TokenBucket


@pytest.fixture
def clock(monkeypatch):
    """``time.monotonic`` as seen by the bucket only (asyncio keeps the real one)."""
    now = SimpleNamespace(value=1000.0)
    monkeypatch.setattr(rate_limit, "time", SimpleNamespace(monotonic=lambda: now.value))
    return now


def takes(bucket, count):
    return [bucket.take() for _ in range(count)]


def test_a_burst_of_twice_the_rate_then_refusals(clock):
    bucket = TokenBucket(5)
    assert takes(bucket, 10) == [True] * 10
    assert takes(bucket, 3) == [False] * 3


def test_tokens_come_back_at_the_rate(clock):
    bucket = TokenBucket(5)
    takes(bucket, 10)
    clock.value += 0.1  # half a token
    assert not bucket.take()
    clock.value += 0.1  # a whole one now
    assert takes(bucket, 2) == [True, False]
    clock.value += 1.0
    assert takes(bucket, 6) == [True] * 5 + [False]


def test_a_long_pause_refills_up_to_the_burst_only(clock):
    bucket = TokenBucket(2)
    takes(bucket, 4)
    clock.value += 3600
    assert takes(bucket, 5) == [True] * 4 + [False]


def test_refused_calls_do_not_cost_a_token(clock):
    bucket = TokenBucket(1)
    takes(bucket, 2)
    for _ in range(3):
        clock.value += 0.25
        assert not bucket.take()
    clock.value += 0.25  # a second since the bucket was empty: one token, refusals or not
    assert takes(bucket, 2) == [True, False]


@pytest.mark.parametrize("rate", [0, -1])
def test_zero_or_less_means_no_limit(clock, rate):
    assert all(takes(TokenBucket(rate), 1000))


def test_a_fractional_rate(clock):
    bucket = TokenBucket(0.5)  # one call every two seconds, bursts of one
    assert takes(bucket, 2) == [True, False]
    clock.value += 1.0
    assert not bucket.take()
    clock.value += 1.0
    assert bucket.take()
