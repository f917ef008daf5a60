"""Settings are read when used; imported values are cached until a dfws setting changes."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder

from dfws_celery.conf import DEFAULT_WINDOW_INFO_MIDDLEWARES, dfws_settings


class UpperDecoder(json.JSONDecoder):
    def __init__(self, **kwargs):
        super().__init__(object_hook=lambda d: {k.upper(): v for k, v in d.items()}, **kwargs)


def test_defaults_when_nothing_is_set(settings):
    for name in (
        "WEBSOCKET_WORKERS", "WEBSOCKET_DEFAULT_QUEUE", "WEBSOCKET_CELERY_APP",
        "WEBSOCKET_RATE_LIMIT", "WEBSOCKET_URL", "WINDOW_INFO_MIDDLEWARES",
    ):  # fmt: skip
        if hasattr(settings, name):
            delattr(settings, name)
    assert dfws_settings.workers == "celery"
    assert dfws_settings.default_queue == "celery"
    assert dfws_settings.celery_app_path is None
    assert dfws_settings.rate_limit == 20.0
    assert dfws_settings.websocket_url == "/ws/"
    assert (dfws_settings.cache_prefix, dfws_settings.cache_expire) == ("dfws", 36000)
    assert (dfws_settings.max_frame_size, dfws_settings.call_timeout) == (65536, 30.0)
    assert dfws_settings.pool_sizes == {}
    assert [type(m).__name__ for m in dfws_settings.window_info_middlewares] == [
        path.rsplit(".", 1)[1] for path in DEFAULT_WINDOW_INFO_MIDDLEWARES
    ]


def test_settings_are_read_at_each_access(settings):
    settings.WEBSOCKET_DEFAULT_QUEUE = "q1"
    assert dfws_settings.default_queue == "q1"
    settings.WEBSOCKET_DEFAULT_QUEUE = "q2"
    assert dfws_settings.default_queue == "q2"
    settings.WEBSOCKET_CALL_TIMEOUT = "12"
    assert dfws_settings.call_timeout == 12.0


@pytest.mark.parametrize(("old", "new"), [("multithread", "thread"), ("multiprocess", "process")])
def test_the_older_worker_names_still_work(settings, old, new):
    settings.WEBSOCKET_WORKERS = old
    assert dfws_settings.workers == new


def test_an_unknown_worker_mode_lists_the_known_ones(settings):
    settings.WEBSOCKET_WORKERS = "fibers"
    with pytest.raises(
        ImproperlyConfigured,
        match="'fibers' is not a known worker mode: expected one of celery, thread, process, channels",
    ):
        _ = dfws_settings.workers


def test_encoding_is_compact_and_handles_dates():
    import datetime

    assert dfws_settings.encoder is DjangoJSONEncoder
    assert (
        dfws_settings.encode({"a": [1, 2], "d": datetime.date(2026, 1, 2)})
        == '{"a":[1,2],"d":"2026-01-02"}'
    )
    assert dfws_settings.decode(b'{"x": 1}') == {"x": 1}


def test_changing_a_setting_drops_the_cached_classes(settings):
    assert dfws_settings.decoder is json.JSONDecoder
    settings.WEBSOCKET_SIGNAL_DECODER = f"{__name__}.UpperDecoder"
    assert dfws_settings.decode('{"a": 1}') == {"A": 1}
    settings.WEBSOCKET_SIGNAL_DECODER = json.JSONDecoder  # a class works as well as a path
    assert dfws_settings.decode('{"a": 1}') == {"a": 1}


def test_an_unrelated_setting_keeps_the_cache(settings):
    middlewares = dfws_settings.window_info_middlewares
    settings.DEBUG = True
    assert dfws_settings.window_info_middlewares is middlewares
    settings.WINDOW_INFO_MIDDLEWARES = DEFAULT_WINDOW_INFO_MIDDLEWARES[:1]
    assert len(dfws_settings.window_info_middlewares) == 1


def test_an_unimportable_path_names_the_setting(settings):
    settings.WEBSOCKET_TOPIC_SERIALIZER = "nowhere.serialize"
    with pytest.raises(
        ImproperlyConfigured,
        match=r"WEBSOCKET_TOPIC_SERIALIZER = 'nowhere\.serialize' cannot be imported",
    ):
        _ = dfws_settings.topic_serializer


def test_pool_sizes_are_a_copy(settings):
    settings.WEBSOCKET_POOL_SIZES = {"slow": 2}
    sizes = dfws_settings.pool_sizes
    sizes["slow"] = 99  # type: ignore[index]
    assert dfws_settings.pool_sizes == {"slow": 2}
