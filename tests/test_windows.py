"""The consumer's read of the window entry, through each kind of cache backend."""

from __future__ import annotations

import asyncio

from django.core.cache import caches

from dfws_celery.conf import dfws_settings
from dfws_web.window_cache import AsyncWindowReader, aload_window, cache_key, load_window

ENTRY = {"topics": ["-window.wk-store", "-broadcast"], "window_info": {"window_key": "wk-store"}}
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def store(key: str, entry: object) -> None:
    caches[dfws_settings.cache_backend].set(cache_key(key), entry, 60)


def read_both(key: str) -> tuple[object, object]:
    return load_window(key), asyncio.run(aload_window(key))


def test_redis_cache_entries_read_on_the_loop_and_in_threads():
    assert AsyncWindowReader.usable(caches["default"])
    store("wk-store", ENTRY)
    assert read_both("wk-store") == (ENTRY, ENTRY)
    assert read_both("wk-unknown") == (None, None)


def test_a_value_that_is_not_a_window_entry_reads_as_an_unknown_window():
    # Django stores integers unpickled: both readers decode them, then refuse the shape
    store("wk-int", 7)
    assert read_both("wk-int") == (None, None)
    store("wk-shape", {"topics": "-broadcast", "window_info": {}})
    assert read_both("wk-shape") == (None, None)


def test_other_backends_are_read_through_their_own_api(settings):
    settings.CACHES = LOCMEM
    assert not AsyncWindowReader.usable(caches["default"])
    store("wk-local", ENTRY)
    # a local-memory cache is per process: the thread reading must see this one
    assert read_both("wk-local") == (ENTRY, ENTRY)


def test_redis_cache_with_a_custom_pool_class_is_read_in_a_thread(settings):
    default = settings.CACHES["default"]
    settings.CACHES = {
        "default": {**default, "OPTIONS": {"pool_class": "redis.BlockingConnectionPool"}}
    }
    assert not AsyncWindowReader.usable(caches["default"])
    store("wk-pool", ENTRY)
    assert read_both("wk-pool") == (ENTRY, ENTRY)
