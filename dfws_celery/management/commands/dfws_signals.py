from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from dfws_celery.registry import REGISTRY
from dfws_celery.routing import declared_queues_of


class Command(BaseCommand):
    help = "List every dfws signal handler with its Celery task name, queue and permission."

    def handle(self, *args: Any, **options: Any) -> None:
        rows = [("SIGNAL", "HANDLER", "TASK", "QUEUE", "ALLOWED")]
        for connection in REGISTRY.all():
            queues = ",".join(sorted(declared_queues_of(connection)))
            rows.append(
                (
                    connection.path,
                    connection.handler_name,
                    connection.task_name,
                    queues,
                    connection.permission_name,
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
