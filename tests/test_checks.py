from __future__ import annotations

from django.core.checks import run_checks

from dfws_celery.layers import redis_channel_layer, redis_pubsub_channel_layer

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


def ids(settings_tags=("dfws",)):
    return [m.id for m in run_checks(tags=list(settings_tags))]


def test_configuration_of_the_test_project_is_clean():
    assert ids() == []


def test_unknown_worker_mode(settings):
    settings.WEBSOCKET_WORKERS = "fibers"
    messages = run_checks(tags=["dfws"])
    assert [m.id for m in messages] == ["dfws.E001"]
    assert "celery, thread, process, channels" in messages[0].hint


def test_missing_cache_alias(settings):
    settings.WEBSOCKET_CACHE_BACKEND = "websockets"
    assert ids() == ["dfws.E002"]


def test_dummy_cache_is_always_an_error(settings):
    settings.CACHES = DUMMY
    settings.WEBSOCKET_WORKERS = "thread"
    assert ids() == ["dfws.E003"]


def test_local_memory_cache_with_celery_workers(settings):
    settings.CACHES = LOCMEM
    assert ids() == ["dfws.W004"]


def test_local_memory_cache_with_thread_workers_is_fine(settings):
    settings.CACHES = LOCMEM
    settings.WEBSOCKET_WORKERS = "thread"
    assert ids() == []


def test_no_channel_layer(settings):
    settings.CHANNEL_LAYERS = {}
    messages = run_checks(tags=["dfws"])
    assert [m.id for m in messages] == ["dfws.E005"]
    assert "CHANNEL_LAYERS" in messages[0].hint


def test_channels_workers_need_the_list_layer(settings):
    settings.WEBSOCKET_WORKERS = "channels"
    settings.CHANNEL_LAYERS = {"default": redis_pubsub_channel_layer(settings.REDIS_URL)}
    messages = run_checks(tags=["dfws"])
    assert [m.id for m in messages] == ["dfws.E009"]
    assert "redis_channel_layer()" in messages[0].hint
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(settings.REDIS_URL)}
    assert ids() == []


def test_missing_middleware_says_where_to_add_it(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "dfws" not in m]
    messages = run_checks(tags=["dfws"])
    assert [m.id for m in messages] == ["dfws.E006"]
    assert "after 'django.contrib.auth.middleware.AuthenticationMiddleware'" in messages[0].hint


def test_middleware_before_auth(settings):
    settings.MIDDLEWARE = [
        "dfws_web.middleware.WebsocketMiddleware",
        *[m for m in settings.MIDDLEWARE if "dfws" not in m],
    ]
    assert ids() == ["dfws.E007"]


def test_missing_asgi_application(settings):
    settings.ASGI_APPLICATION = None
    assert ids() == ["dfws.E008"]
