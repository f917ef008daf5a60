"""Settings of the dfws bench project (daphne, Celery worker and drivers share them)."""

from __future__ import annotations

import os
from pathlib import Path

from dfws_celery.layers import redis_channel_layer, redis_pubsub_channel_layer

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PREFIX = os.environ.get("BENCH_PREFIX", "dfwsbench")
WORK_DIR = Path(os.environ.get("BENCH_WORK_DIR", "/tmp"))

SECRET_KEY = "dfws-bench-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "channels",
    "dfws_celery",
    "dfws_web",
    "bench.project",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dfws_web.middleware.WebsocketMiddleware",
]
ROOT_URLCONF = "bench.project.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(WORK_DIR / "bench-dfws.sqlite3"),
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": PREFIX,
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
# the recommended Redis Pub/Sub layer; BENCH_LAYER=list measures the list-based RedisChannelLayer
_LAYER = os.environ.get("BENCH_LAYER", "pubsub")
_layer = redis_channel_layer if _LAYER == "list" else redis_pubsub_channel_layer
CHANNEL_LAYERS = {"default": _layer(REDIS_URL, prefix=f"{PREFIX}:layer")}
ASGI_APPLICATION = "dfws_web.asgi.application"

WEBSOCKET_DEFAULT_QUEUE = "celery"
# the bench's clients call far faster than a person: no per-window rate limit (its check is
# the same script call as the other limits, measured with them)
WEBSOCKET_RATE_LIMIT = 0
# every client of the load comes from 127.0.0.1: the address cap is lifted, not switched off.
# BENCH_LIMITS=off switches every limit off (the variant "dfws-nolimits"): no Redis call
if os.environ.get("BENCH_LIMITS", "on") == "off":
    WEBSOCKET_MAX_SOCKETS_PER_WINDOW = 0
    WEBSOCKET_MAX_SOCKETS_PER_ADDRESS = 0
    WEBSOCKET_MAX_CALLS_IN_FLIGHT = 0
else:
    WEBSOCKET_MAX_SOCKETS_PER_ADDRESS = 1_000_000
# BENCH_HISTORY=off: no per-topic history (the variant "dfws-nohistory", with its own prefix,
# driver and worker: the history is written by whoever publishes)
if os.environ.get("BENCH_HISTORY", "on") == "off":
    WEBSOCKET_HISTORY = None
WEBSOCKET_CELERY_APP = "bench.project.celery_app.app"
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{PREFIX}:"}
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
