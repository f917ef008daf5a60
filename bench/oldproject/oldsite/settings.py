"""Settings of the df-websockets 1.2.6 bench project (README: Installation)."""

import os
from pathlib import Path

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PREFIX = os.environ.get("BENCH_OLD_PREFIX", "dfwsbench-old")
WORK_DIR = Path(os.environ.get("BENCH_WORK_DIR", "/tmp"))

SECRET_KEY = "dfws-bench-old-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "channels",
    "df_websockets",
    "oldsite.apps.OldSiteConfig",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "df_websockets.middleware.WebsocketMiddleware",
]
ROOT_URLCONF = "oldsite.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(WORK_DIR / "bench-old.sqlite3"),
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

ASGI_APPLICATION = "df_websockets.routing.application"
WEBSOCKET_WORKERS = "celery"
# The same channel-layer options as the dfws bench project, so that the two
# libraries are compared, not two configurations: reads without a timeout
# (redis-py 8 otherwise kills idle consumers after 5 s) and capacity 1000.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
            "prefix": f"{PREFIX}:layer",
            "capacity": 1000,
        },
    }
}

# df_websockets.celery reads the Django settings without a namespace, in
# Celery's old upper-case names
BROKER_URL = REDIS_URL
BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{PREFIX}:"}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_IGNORE_RESULT = True
CELERYD_HIJACK_ROOT_LOGGER = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
