"""``manage.py check`` for the dfws core: worker mode, cache, channel layer."""

from __future__ import annotations

import sys

import pytest
from django.core.checks import run_checks

from dfws_celery.layers import redis_channel_layer, redis_pubsub_channel_layer
from tests.celery_app import app

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1",
    }
}
DUMMY = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
URL = "redis://127.0.0.1:1/1"  # never connected to: checks read the settings only


def messages():
    return run_checks(tags=["dfws"])


def ids():
    return [m.id for m in messages()]


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = REDIS


def test_a_shared_cache_and_a_layer_pass(redis_cache):
    assert ids() == []


def test_an_unknown_worker_mode_is_one_error(settings, redis_cache):
    settings.WEBSOCKET_WORKERS = "fibers"
    [error] = messages()
    assert error.id == "dfws.E001" and "celery, thread, process, channels" in error.hint


def test_the_cache_alias_must_exist(settings):
    settings.WEBSOCKET_CACHE_BACKEND = "websockets"
    [error] = messages()
    assert error.id == "dfws.E002" and "CACHES['websockets']" in error.hint


@pytest.mark.parametrize("mode", ["celery", "thread"])
def test_a_dummy_cache_is_always_an_error(settings, mode):
    settings.CACHES = DUMMY
    settings.WEBSOCKET_WORKERS = mode
    assert ids() == ["dfws.E003"]


@pytest.mark.parametrize("mode", ["celery", "process", "channels"])
def test_a_local_memory_cache_with_workers_in_other_processes_is_a_warning(settings, mode):
    settings.WEBSOCKET_WORKERS = mode
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(URL)}
    assert ids() == ["dfws.W004"]


def test_a_local_memory_cache_is_fine_for_thread_workers(settings):
    settings.WEBSOCKET_WORKERS = "thread"
    assert ids() == []


# spelt as the project's settings spell them: Celery < 5.6 reads a namespaced app's
# broker_url from CELERY_BROKER_URL before an unprefixed key set on its conf
@pytest.mark.parametrize(
    ("option", "value"), [("CELERY_TASK_ALWAYS_EAGER", True), ("CELERY_BROKER_URL", "memory://")]
)
def test_a_local_memory_cache_is_fine_when_celery_runs_in_this_process(monkeypatch, option, value):
    monkeypatch.setitem(app.conf, option, value)
    assert ids() == []


def test_a_channel_layer_is_needed(settings, redis_cache):
    settings.CHANNEL_LAYERS = {}
    [error] = messages()
    assert error.id == "dfws.E005" and "InMemoryChannelLayer" in error.hint


def test_channels_workers_need_the_list_layer(settings, redis_cache):
    settings.WEBSOCKET_WORKERS = "channels"
    settings.CHANNEL_LAYERS = {"default": redis_pubsub_channel_layer(URL)}
    [error] = messages()
    assert error.id == "dfws.E009" and "redis_channel_layer()" in error.hint
    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(URL)}
    assert ids() == []


def test_the_pubsub_layer_is_fine_with_celery_workers(settings, redis_cache):
    settings.CHANNEL_LAYERS = {"default": redis_pubsub_channel_layer(URL)}
    assert ids() == []


def test_a_redis_layer_without_the_redis_extra_is_an_error(settings, redis_cache, monkeypatch):
    settings.CHANNEL_LAYERS = {"default": redis_pubsub_channel_layer(URL)}
    monkeypatch.setitem(sys.modules, "channels_redis", None)  # as if not installed
    [error] = messages()
    assert error.id == "dfws.E011" and "channels_redis cannot be imported" in error.msg
    assert "pip install 'dfws[redis]'" in error.hint


@pytest.fixture
def django_db_results(monkeypatch, redis_cache):
    monkeypatch.setitem(app.conf, "result_backend", "django-db")


def test_django_db_results_without_the_results_extra_is_an_error(django_db_results, monkeypatch):
    monkeypatch.setitem(sys.modules, "django_celery_results", None)  # as if not installed
    [error] = messages()
    assert error.id == "dfws.E012" and "'django-db'" in error.msg
    assert "django_celery_results cannot be imported" in error.msg
    assert "pip install 'dfws[results]'" in error.hint


def test_django_db_results_outside_installed_apps_is_an_error(django_db_results, settings):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "django_celery_results"]
    [error] = messages()
    assert error.id == "dfws.E013" and "INSTALLED_APPS" in error.msg
    assert "migrate django_celery_results" in error.hint


def test_django_db_results_installed_and_listed_pass(django_db_results, settings):
    if "django_celery_results" not in settings.INSTALLED_APPS:
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "django_celery_results"]
    assert ids() == []


def test_other_result_backends_are_not_checked(monkeypatch, redis_cache):
    monkeypatch.setitem(sys.modules, "django_celery_results", None)
    monkeypatch.setitem(app.conf, "result_backend", "redis://127.0.0.1:1/2")
    assert ids() == []
