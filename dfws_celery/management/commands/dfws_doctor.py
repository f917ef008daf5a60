"""``manage.py dfws_doctor``: is everything dfws needs reachable and consistent, right now?

One row per check, ``ok``, ``warn``, ``fail`` or ``skip``:

* ``settings``: the dfws system checks (``manage.py check --tag dfws``);
* ``broker``, ``channel layer``, ``cache``: reachable (one connection, one
  publish to a group nobody joined, one set and get);
* ``queue <name>``: every declared queue has a consumer (``inspect active_queues``);
* ``tasks on <worker>``: every handler's task name is registered on each worker
  that consumes its queue (``inspect registered``: a renamed task the workers
  still run under its old name);
* ``websocket``: with ``--url``, the server answers the websocket handshake on
  ``WEBSOCKET_URL`` (``101``).

The exit status is 1 when a row fails, so deploy scripts and health checks can
use it; ``--json`` prints the rows as a list of ``{"check", "status", "detail"}``.
"""

from __future__ import annotations

import base64
import http.client
import json
import math
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import checks
from django.core.cache import caches
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dfws_celery.celery_app import get_celery_app
from dfws_celery.conf import dfws_settings
from dfws_celery.queue_watch import consumed_queues, worker_command
from dfws_celery.registry import REGISTRY
from dfws_celery.routing import INTERNAL_TASKS, declared_queues, declared_queues_of

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"


@dataclass
class Row:
    check: str
    status: str
    detail: str


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def check_settings() -> list[Row]:
    found = checks.run_checks(tags=["dfws"])
    if not found:
        return [Row("settings", OK, "the dfws system checks pass")]
    rows = []
    for message in found:
        status = FAIL if message.level >= checks.ERROR else WARN
        hint = f" ({message.hint})" if message.hint else ""
        rows.append(Row(f"settings {message.id}", status, f"{message.msg}{hint}"))
    return rows


def check_broker(timeout: float) -> Row:
    app = get_celery_app()
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=math.ceil(timeout))
            url = connection.as_uri()
    except Exception as exc:
        return Row("broker", FAIL, f"unreachable: {_failure(exc)}")
    return Row("broker", OK, url)


def check_layer() -> Row:
    layer = get_channel_layer()
    if layer is None:
        return Row("channel layer", FAIL, "no CHANNEL_LAYERS['default']")
    try:  # a group nobody joined: the publish reaches the layer and no browser
        async_to_sync(layer.group_send)("dfws.doctor", {"type": "dfws.doctor"})
    except Exception as exc:
        return Row("channel layer", FAIL, f"unreachable: {_failure(exc)}")
    return Row("channel layer", OK, type(layer).__name__)


def check_cache() -> Row:
    alias = dfws_settings.cache_backend
    key = f"{dfws_settings.cache_prefix}:doctor:{uuid.uuid4().hex}"
    try:
        cache = caches[alias]
        cache.set(key, "1", 10)
        found = cache.get(key)
        cache.delete(key)
    except Exception as exc:
        return Row("cache", FAIL, f"{alias!r} unreachable: {_failure(exc)}")
    if found != "1":
        return Row("cache", FAIL, f"{alias!r} did not keep a value for a second")
    return Row("cache", OK, f"{alias!r} ({type(cache).__name__})")


def check_workers(timeout: float) -> list[Row]:
    """One row per declared queue, then one per worker: the tasks it lacks."""
    inspect = get_celery_app().control.inspect(timeout=timeout)
    try:
        active = inspect.active_queues()
        registered: Mapping[str, list[str]] = inspect.registered() or {}
    except Exception as exc:
        return [Row("workers", FAIL, f"could not ask the workers: {_failure(exc)}")]
    consumers = consumed_queues(active)
    rows = []
    for queue in declared_queues(REGISTRY.all()):
        workers = consumers.get(queue, [])
        if workers:
            rows.append(Row(f"queue {queue}", OK, "consumed by " + ", ".join(sorted(workers))))
        else:
            rows.append(
                Row(f"queue {queue}", FAIL, f"no worker consumes it: `{worker_command(queue)}`")
            )
    expected: dict[str, set[str]] = {}  # worker -> the task names its queues bring
    for connection in REGISTRY.all():
        for queue in declared_queues_of(connection):
            for worker in consumers.get(queue, []):
                expected.setdefault(worker, set()).add(connection.task_name)
    for worker in consumers.get(dfws_settings.default_queue, []):
        expected.setdefault(worker, set()).update(INTERNAL_TASKS)
    for worker, names in sorted(expected.items()):
        if worker not in registered:
            rows.append(Row(f"tasks on {worker}", WARN, "the worker did not list its tasks"))
            continue
        missing = sorted(names - set(registered[worker]))
        if missing:
            rows.append(
                Row(
                    f"tasks on {worker}",
                    FAIL,
                    "not registered (restart the worker with the current code): "
                    + ", ".join(missing),
                )
            )
        else:
            rows.append(Row(f"tasks on {worker}", OK, f"{len(names)} dfws task(s) registered"))
    return rows


def check_websocket(url: str, timeout: float) -> Row:
    """The websocket handshake on ``url`` + ``WEBSOCKET_URL``, from the site's own origin."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        return Row("websocket", FAIL, f"--url {url!r} is not an http(s):// or ws(s):// URL")
    secure = parts.scheme in ("https", "wss")
    origin = f"{'https' if secure else 'http'}://{parts.netloc}"
    path = dfws_settings.websocket_url
    make: Callable[..., http.client.HTTPConnection] = (
        http.client.HTTPSConnection if secure else http.client.HTTPConnection
    )
    connection = make(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(
            "GET",
            path,
            headers={
                "Host": parts.netloc,
                "Origin": origin,
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
                "Sec-WebSocket-Version": "13",
            },
        )
        status = connection.getresponse().status
    except Exception as exc:
        return Row("websocket", FAIL, f"{origin}{path}: {_failure(exc)}")
    finally:
        connection.close()
    if status != 101:
        return Row(
            "websocket",
            FAIL,
            f"{origin}{path} answered {status} to the handshake, not 101: is it served by "
            "daphne (or another ASGI server) with dfws_web.asgi.application?",
        )
    return Row("websocket", OK, f"{origin}{path} accepts websockets")


def diagnose(url: str | None = None, timeout: float = 2.0) -> list[Row]:
    rows = check_settings()
    broker = None
    try:
        celery = dfws_settings.workers == "celery"
    except Exception:
        celery = False
    if celery:
        broker = check_broker(timeout)
        rows.append(broker)
    rows += [check_layer(), check_cache()]
    if not celery:
        rows.append(Row("workers", SKIP, "handlers run in-process (WEBSOCKET_WORKERS)"))
    elif broker is not None and broker.status == FAIL:
        rows.append(Row("workers", SKIP, "the broker is unreachable"))
    else:
        rows += check_workers(timeout)
    if url:
        rows.append(check_websocket(url, timeout))
    return rows


class Command(BaseCommand):
    help = (
        "Check that the broker, channel layer and cache answer, that every dfws queue has a "
        "worker running the current tasks, and (--url) that the websocket is served. "
        "Exit status 1 when a check fails."
    )
    requires_system_checks: list[str] = []  # the settings row runs them and reports them

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the rows as JSON")
        parser.add_argument(
            "--url", help="the site's base URL, e.g. https://example.com: check the websocket"
        )
        parser.add_argument(
            "--timeout", type=float, default=2.0, help="seconds for each answer (default 2)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = diagnose(options["url"], options["timeout"])
        if options["json"]:
            self.stdout.write(json.dumps([asdict(row) for row in rows], indent=2))
        else:
            width = max(len(row.check) for row in rows)
            for row in rows:
                self.stdout.write(f"{row.status.upper():<5} {row.check:<{width}}  {row.detail}")
        failed = [row.check for row in rows if row.status == FAIL]
        if failed:
            raise CommandError(f"dfws_doctor: {len(failed)} check(s) failed", returncode=1)
