"""A Celery worker and beat inside the web server process (the default, service-free mode).

With ``memory://`` as broker, task messages never leave the process that
sent them, so the worker must live in the server process: it runs in a
thread with the ``threads`` pool and consumes every queue the declared
handlers route to (``dfws_queues``), so ``queue="slow"`` handlers run too.
Beat is Celery's own scheduler service in a thread, with an in-memory
schedule (no ``celerybeat-schedule`` file).

Everything here is a real Celery worker and a real beat: the same task
names, routing, countdowns and schedule as with Redis and external processes.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from celery.beat import EmbeddedService
from celery.signals import setup_logging

from dfws_celery.celery_app import get_celery_app
from dfws_celery.registry import REGISTRY
from dfws_celery.routing import declared_queues

_started = False


def keep_the_server_logging(**kwargs: Any) -> None:
    """Celery's own setup would add a root handler and print every server line twice."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s %(message)s"))
    celery_logger = logging.getLogger("celery")
    celery_logger.addHandler(handler)
    celery_logger.setLevel(logging.INFO)
    celery_logger.propagate = False


def start(concurrency: int = 8) -> list[str]:
    """Start the worker and beat threads once; return the consumed queues."""
    global _started
    queues = declared_queues(REGISTRY.all())
    if _started:
        return queues
    app = get_celery_app()
    setup_logging.connect(keep_the_server_logging, weak=False)
    worker = app.Worker(
        hostname=f"inprocess@{socket.gethostname()}",
        pool="threads",
        concurrency=concurrency,
        queues=queues,
        loglevel="INFO",
        quiet=True,  # no banner
        redirect_stdouts=False,  # leave the server's stdout alone
        without_mingle=True,
        without_gossip=True,
        without_heartbeat=True,
    )
    threading.Thread(target=worker.start, name="celery-worker", daemon=True).start()
    EmbeddedService(app, thread=True, scheduler_cls="celery.beat:Scheduler").start()
    _started = True
    return queues
