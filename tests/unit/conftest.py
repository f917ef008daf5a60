"""The fast tier: no Redis, broker, daphne or browser.

Every test here runs on Django's local-memory cache and Channels' in-memory
layer, and sends nothing to Celery (``SignalQueue`` records, or the
``thread`` backend runs handlers in this process).  ``make test-fast`` runs
this folder with the Redis and broker URLs pointed at a closed port, so a
test that reaches for a service fails instead of passing by luck.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

IN_MEMORY = {
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    "CHANNEL_LAYERS": {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
}


@pytest.fixture(autouse=True)
def in_memory(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in IN_MEMORY.items():
        setattr(settings, name, value)
    # the limits of the in-memory mode live in the process: each test starts with none
    from dfws_web import limit_store

    monkeypatch.setattr(limit_store, "_local", limit_store.LocalStore())


def _relayed(monkeypatch: pytest.MonkeyPatch, keep: Any) -> list[Any]:
    sent: list[Any] = []
    monkeypatch.setattr(
        "dfws_celery.relay.publish",
        lambda groups, frame: sent.append(keep(groups, json.loads(frame))),
    )
    return sent


@pytest.fixture
def frames(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The frames the relay publishes (decoded), instead of publishing them."""
    return _relayed(monkeypatch, lambda groups, frame: frame)


@pytest.fixture
def group_frames(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The same, as ``(groups, decoded frame)``."""
    return _relayed(monkeypatch, lambda groups, frame: (groups, frame))
