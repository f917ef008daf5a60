"""The project's Celery app: ``celery -A sample_project worker -Q celery,slow``.

dfws registers one task per ``@signal`` handler on this app (through
``shared_task``) and appends its router to ``task_routes``; nothing to list here.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample_project.settings")

app = Celery("sample_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
