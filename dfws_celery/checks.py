"""System checks (``manage.py check``) for the dfws configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from dfws_celery.celery_app import get_celery_app
from dfws_celery.conf import WORKER_MODES, dfws_settings
from dfws_celery.extras import advice, missing
from dfws_celery.pubsub import is_pubsub

LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
DUMMY = "django.core.cache.backends.dummy.DummyCache"


@register("dfws")
def check_worker_mode(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        _ = dfws_settings.workers
    except ImproperlyConfigured as exc:
        return [
            Error(
                str(exc),
                hint=f"Set WEBSOCKET_WORKERS to one of {', '.join(WORKER_MODES)}.",
                id="dfws.E001",
            )
        ]
    return []


@register("dfws")
def check_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    alias = dfws_settings.cache_backend
    caches = getattr(settings, "CACHES", {})
    if alias not in caches:
        return [
            Error(
                f"WEBSOCKET_CACHE_BACKEND = {alias!r} is not a key of CACHES.",
                hint=f"Add CACHES[{alias!r}] or point WEBSOCKET_CACHE_BACKEND at an existing one.",
                id="dfws.E002",
            )
        ]
    backend = caches[alias].get("BACKEND", "")
    if backend == DUMMY:
        return [
            Error(
                f"Cache {alias!r} is a DummyCache: windows would forget their topics.",
                hint="Use Redis (django.core.cache.backends.redis.RedisCache) or another "
                "real cache for WEBSOCKET_CACHE_BACKEND.",
                id="dfws.E003",
            )
        ]
    try:
        mode = dfws_settings.workers
    except ImproperlyConfigured:
        return []
    if backend == LOCMEM and mode in ("celery", "process", "channels") and not _in_process():
        return [
            Warning(
                f"Cache {alias!r} is a local-memory cache while WEBSOCKET_WORKERS = {mode!r}: "
                "workers in other processes cannot see what the web process stored.",
                hint="Use a shared cache (Redis) for WEBSOCKET_CACHE_BACKEND, or run the "
                "Celery worker inside the web process (the memory:// broker with an "
                "in-process worker, as the sample project does).",
                id="dfws.W004",
            )
        ]
    return []


def _in_process() -> bool:
    """Celery's in-memory broker or eager mode: the workers share the web process."""
    conf = get_celery_app().conf
    return bool(conf.task_always_eager) or str(conf.broker_url or "").startswith("memory://")


@register("dfws")
def check_channel_layer(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    layers = getattr(settings, "CHANNEL_LAYERS", None) or {}
    if "default" not in layers:
        return [
            Error(
                "No channel layer is configured: dfws cannot reach browsers.",
                hint="Set CHANNEL_LAYERS = {'default': "
                "dfws_celery.layers.redis_pubsub_channel_layer('redis://127.0.0.1:6379/1')} "
                "(or {'BACKEND': 'channels.layers.InMemoryChannelLayer'} for a single "
                "process).",
                id="dfws.E005",
            )
        ]
    backend = layers["default"].get("BACKEND", "")
    absent = missing("redis") if str(backend).startswith("channels_redis.") else []
    if absent:
        return [
            Error(
                f"CHANNEL_LAYERS['default'] is {backend!r}, but {' and '.join(absent)} "
                "cannot be imported.",
                hint=f"Install the 'redis' extra of dfws: {advice('redis')}",
                id="dfws.E011",
            )
        ]
    try:
        mode = dfws_settings.workers
    except ImproperlyConfigured:
        return []
    if mode == "channels" and is_pubsub(backend):
        return [
            Error(
                "WEBSOCKET_WORKERS = 'channels' with RedisPubSubChannelLayer: a Pub/Sub "
                "channel has no queue, so every runworker would run each call (and none "
                "would when no runworker is listening).",
                hint="Use dfws_celery.layers.redis_channel_layer() (channels_redis' "
                "RedisChannelLayer) with the 'channels' workers, or WEBSOCKET_WORKERS = "
                "'celery'.",
                id="dfws.E009",
            )
        ]
    return []


# Celery's aliases of the result backends that django-celery-results provides
DJANGO_RESULT_BACKENDS = ("django-db", "django-cache")


@register("dfws")
def check_result_backend(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A django-celery-results backend needs the extra installed and its app listed.

    Without them Celery fails only when a worker stores its first result (an
    import error, or a model without an app), far from the setting that caused it.
    """
    # the app's own setting; Django's CELERY_RESULT_BACKEND (Celery's documented namespace)
    # when no project celery.py has configured the app in this process
    backend = str(
        get_celery_app().conf.result_backend or getattr(settings, "CELERY_RESULT_BACKEND", "")
    )
    if backend.partition(":")[0] not in DJANGO_RESULT_BACKENDS:
        return []
    absent = missing("results")
    if absent:
        return [
            Error(
                f"Celery's result backend is {backend!r}, but {' and '.join(absent)} cannot "
                "be imported.",
                hint=f"Install the 'results' extra of dfws: {advice('results')}",
                id="dfws.E012",
            )
        ]
    if "django_celery_results" not in settings.INSTALLED_APPS:
        return [
            Error(
                f"Celery's result backend is {backend!r}, but 'django_celery_results' is not "
                "in INSTALLED_APPS: workers could not store a result.",
                hint="Add 'django_celery_results' to INSTALLED_APPS and run "
                "'python manage.py migrate django_celery_results'.",
                id="dfws.E013",
            )
        ]
    return []
