"""The dfws sample project: every feature on a few pages (see docs/sample-project.md)."""

from sample_project.celery import app as celery_app

__all__ = ["celery_app"]
