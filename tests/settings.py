"""Settings of the test project (shared by pytest, the worker and daphne subprocesses)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from dfws_celery.layers import redis_channel_layer, redis_pubsub_channel_layer

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "dfws-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

REDIS_URL = os.environ.get("DFWS_TEST_REDIS", "redis://127.0.0.1:6379/10")
# one prefix per test run, inherited by the worker and daphne subprocesses: Redis keys,
# queues and groups of concurrent runs never meet
PREFIX = os.environ.setdefault("DFWS_TEST_PREFIX", f"dfws-test-{uuid.uuid4().hex[:8]}")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django_celery_results",
    "channels",
    "dfws_celery",
    "dfws_web",
    "tests.testapp",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dfws_web.middleware.WebsocketMiddleware",
]
ROOT_URLCONF = "tests.testapp.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        # the test database of this run, shared with its worker and daphne subprocesses
        "NAME": f"/tmp/{PREFIX}.sqlite3",
        "TEST": {"NAME": f"/tmp/{PREFIX}.sqlite3"},
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": PREFIX,
        "OPTIONS": {"client_name": f"{PREFIX}-cache"},
    }
}
# Redis Pub/Sub (the recommended layer) unless DFWS_TEST_LAYER=list: `make test` runs the
# real-stack tests once more on the list-based RedisChannelLayer
LAYER = os.environ.get("DFWS_TEST_LAYER", "pubsub")
# the layer's Redis servers: DFWS_TEST_LAYER_HOSTS (URLs separated by spaces) shards it over
# several (tests/cluster.py), else the run's Redis
LAYER_HOSTS = os.environ.get("DFWS_TEST_LAYER_HOSTS", "").split() or [REDIS_URL]


def channel_layer(hosts: list[str]) -> dict[str, Any]:
    """The test project's ``CHANNEL_LAYERS["default"]`` on ``hosts`` (one URL per shard)."""
    build = redis_channel_layer if LAYER == "list" else redis_pubsub_channel_layer
    return build(hosts, prefix=f"{PREFIX}:layer", client_name=f"{PREFIX}-{os.getpid()}")


CHANNEL_LAYERS = {"default": channel_layer(LAYER_HOSTS)}
STATIC_URL = "/static/"
ASGI_APPLICATION = "dfws_web.asgi.application"

WEBSOCKET_DEFAULT_QUEUE = os.environ.get("DFWS_TEST_QUEUE", "celery")
CELERY_TASK_DEFAULT_QUEUE = WEBSOCKET_DEFAULT_QUEUE
CELERY_BROKER_URL = os.environ.get("DFWS_TEST_BROKER", REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{PREFIX}:"}
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True  # django-celery-results then stores the task name
if os.environ.get("DFWS_TEST_RESULTS") == "redis":  # Celery's own backend stores raw arguments
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": f"{PREFIX}:results:"}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

WEBSOCKET_CELERY_APP = "tests.celery_app.app"
# limits small enough for tests/test_limits.py to reach (nothing else comes near them)
WEBSOCKET_MAX_SOCKETS_PER_ADDRESS = 40
WEBSOCKET_MAX_CALLS_IN_FLIGHT = 50
WEBSOCKET_QUEUE_LIMITS = {"idle": 3}
# off in the shared daphne (tests call queues nobody consumes on purpose); a test's private
# daphne turns it on with DFWS_TEST_QUEUE_WATCH=1 (tests/test_queue_watch.py)
WEBSOCKET_QUEUE_WATCH = (
    {"interval": 1, "timeout": 0.5, "grace": 5} if os.environ.get("DFWS_TEST_QUEUE_WATCH") else None
)
# presence on the test app's rooms (/room/<name>/); a private daphne may shorten process_ttl
WEBSOCKET_PRESENCE = {
    "topics": ["room-"],
    "process_ttl": int(os.environ.get("DFWS_TEST_PRESENCE_PROCESS_TTL", "10")),
}
# the test project exposes its Prometheus metrics at /metrics/ (tests/test_metrics.py)
WEBSOCKET_METRICS = True
# the default unless a test's private daphne asks for a short one
WEBSOCKET_SESSION_RECHECK = int(os.environ.get("DFWS_TEST_SESSION_RECHECK", "60"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"dfws": {"handlers": ["console"], "level": "DEBUG", "propagate": False}},
}

# a private daphne, worker or runworker of a test may override any setting above:
# DFWS_TEST_SETTINGS is a JSON object of setting names and values, applied last
# (tests/test_worker_modes.py: WEBSOCKET_WORKERS; tests/test_setting_overrides.py: the
# documented overrides; tests/test_permissions.py: AUTHENTICATION_BACKENDS)
globals().update(json.loads(os.environ.get("DFWS_TEST_SETTINGS") or "{}"))
