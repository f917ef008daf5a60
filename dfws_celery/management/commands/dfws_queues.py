from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from dfws_celery.registry import REGISTRY
from dfws_celery.routing import declared_queues


class Command(BaseCommand):
    help = "Print the queues to consume, comma-separated: celery -A proj worker -Q $(...)"

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(",".join(declared_queues(REGISTRY.all())))
