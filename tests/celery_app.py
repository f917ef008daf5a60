"""The test project's Celery app: ``celery -A tests.celery_app worker``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

app = Celery("dfws_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
