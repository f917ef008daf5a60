"""Where handlers running in a worker leave traces the test process can read (Redis)."""

from __future__ import annotations

import json
from typing import Any

import redis
from django.conf import settings


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def key() -> str:
    return f"{settings.PREFIX}:sink"


def record(name: str, **values: Any) -> None:
    _client().rpush(key(), json.dumps({"name": name, **values}, default=str))


def read() -> list[dict[str, Any]]:
    return [json.loads(item) for item in _client().lrange(key(), 0, -1)]


def clear() -> None:
    _client().delete(key())
