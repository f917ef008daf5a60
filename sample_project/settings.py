"""Settings of the dfws sample project.

Two modes, chosen by one environment variable:

* default (``DFWS_REDIS_URL`` unset): no service at all. Celery uses its
  in-memory transport and ``runserver`` starts a worker and beat inside the
  server process (``demo/inprocess.py``); the channel layer and the cache
  live in memory too.
* Redis (``DFWS_REDIS_URL=redis://127.0.0.1:6379/0``): Redis is the broker,
  the channel layer and the cache; handlers run only in external
  ``celery worker`` processes, ``celery beat`` sends the clock, results go
  to the database through django-celery-results.
"""

from __future__ import annotations

import os
from pathlib import Path

from dfws_celery.layers import redis_pubsub_channel_layer

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dfws-sample-project-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("DFWS_REDIS_URL", "")
# keeps the sample's Redis keys apart from other users of the same Redis database
REDIS_PREFIX = os.environ.get("DFWS_REDIS_PREFIX", "dfws-sample")

INSTALLED_APPS = [
    # first, so that its `runserver` (daphne's, plus the in-process worker) wins
    "sample_project.demo",
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_results",
    "channels",
    "dfws_celery",
    "dfws_web",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dfws_web.middleware.WebsocketMiddleware",
]
ROOT_URLCONF = "sample_project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sample_project.demo.views.demo_context",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DFWS_SAMPLE_DB", str(BASE_DIR / "db.sqlite3")),
        # the web server, workers and beat share one file in Redis mode
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}
STATIC_URL = "/static/"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# ---- dfws ----
ASGI_APPLICATION = "sample_project.asgi.application"
WEBSOCKET_CELERY_APP = "sample_project.celery.app"

# ---- Celery (read by sample_project/celery.py, namespace CELERY_) ----
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # beat sends `dfws.trigger`, which triggers the handler of `demo.clock.tick`
    "demo-clock": {
        "task": "dfws.trigger",
        "schedule": 3.0,
        "args": ["demo.clock.tick", ["SERVER"]],
    },
}

if REDIS_URL:
    DEMO_MODE = "redis"
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_PREFIX}:"}
    CELERY_RESULT_BACKEND = "django-db"
    CELERY_RESULT_EXTENDED = True  # stores the task name, shown in the admin
    # what Flower shows: task events from the workers, "sent" events from the senders
    CELERY_WORKER_SEND_TASK_EVENTS = True
    CELERY_TASK_SEND_SENT_EVENT = True
    CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get(
        "DFWS_BEAT_SCHEDULE", str(BASE_DIR / "celerybeat-schedule")
    )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
        }
    }
    CHANNEL_LAYERS = {
        "default": redis_pubsub_channel_layer(REDIS_URL, prefix=f"{REDIS_PREFIX}:layer")
    }
    # Prometheus metrics at /metrics/, every process's (redis_demo.py gives them one
    # PROMETHEUS_MULTIPROC_DIR); the view answers 404 in the default mode
    WEBSOCKET_METRICS = True
else:
    DEMO_MODE = "memory"
    CELERY_BROKER_URL = "memory://localhost/"
    # the in-memory transport polls its queues: the default interval makes each call wait ~1 s
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.01}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s [%(name)s] %(levelname)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        # DEBUG shows every refused frame and every signal without a handler
        "dfws": {
            "handlers": ["console"],
            "level": os.environ.get("DFWS_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
    },
}
