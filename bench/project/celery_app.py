"""The bench project's Celery app: ``celery -A bench.project.celery_app worker``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.project.settings")

app = Celery("dfws_bench")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["bench.project"])
