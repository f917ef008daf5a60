from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from dfws_celery.registry import REGISTRY
from dfws_celery.typescript import render


class Command(BaseCommand):
    help = (
        "Print TypeScript declarations of the browser-callable signals and the global "
        "DFSignals client: python manage.py dfws_typescript > signals.d.ts"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(render(REGISTRY.all()), ending="")
