"""``runserver``: daphne's, plus (default mode) a Celery worker and beat in the same process.

The in-process services start in ``inner_run``, which runs in the process
that serves requests: under the autoreloader that is the child, so the
watching parent starts no worker of its own.  In Redis mode this is daphne's
plain ``runserver`` and handlers run in external ``celery worker`` processes.
"""

from __future__ import annotations

from typing import Any

from daphne.management.commands.runserver import Command as DaphneRunserver
from django.conf import settings


class Command(DaphneRunserver):
    help = (
        "Start the ASGI development server (daphne). With the memory:// broker, also "
        "start a Celery worker consuming every dfws queue and Celery beat in this process."
    )

    def inner_run(self, *args: Any, **options: Any) -> None:
        if settings.CELERY_BROKER_URL.startswith("memory://"):
            from sample_project.demo import inprocess

            queues = inprocess.start()
            self.stdout.write(
                f"In-process Celery worker consuming {','.join(queues)} (threads pool), "
                "and Celery beat."
            )
        else:
            self.stdout.write(
                "Redis mode: handlers run in external workers (celery -A sample_project "
                "worker -Q $(python sample_project/manage.py dfws_queues)) and the clock "
                "needs celery -A sample_project beat."
            )
        super().inner_run(*args, **options)
