"""The records a logout or a saved user leaves for later connects (``dfws_web.sessions``)."""

from __future__ import annotations

from django.core.cache import caches

from dfws_web import sessions


def record(kind: str, ident: str) -> object:
    return caches["default"].get(sessions._record_key(kind, ident))


def test_a_logout_ends_the_recheck_interval_with_a_record(settings):
    settings.WEBSOCKET_SESSION_RECHECK = 60
    sessions._mark(sessions.ENDED, "hash-1")
    assert isinstance(record(sessions.ENDED, "hash-1"), float)


def test_with_a_recheck_of_zero_nothing_is_recorded(settings):
    """Every connect checks the session then: a record would only cost a cache write."""
    settings.WEBSOCKET_SESSION_RECHECK = 0
    sessions._mark(sessions.ENDED, "hash-2")
    sessions._mark(sessions.CHANGED, 7)
    assert record(sessions.ENDED, "hash-2") is None and record(sessions.CHANGED, 7) is None
