"""Which queues have a live consumer, known in the background, never asked on a request.

A worker started without ``-Q`` never consumes ``slow``: a browser call to a
``slow`` handler would wait for its whole timeout in silence.  A web process
(``asgi.build_application()``, ``WebsocketMiddleware``) starts one daemon
thread that asks the workers which queues they consume (Celery's
``inspect().active_queues()``, ``timeout`` seconds) every ``interval``
seconds and keeps the answer in process memory.  The send path only reads it:

* :meth:`QueueWatch.consumed` says ``True``/``False``, or ``None`` while the
  answer is unknown (before the first answer, with the broker unreachable,
  with the watch off): unknown never refuses.
* a queue counts as consumed for ``grace`` seconds after a worker last named
  it (a ``solo`` worker busy with a long task does not answer ``inspect``);
* :meth:`QueueWatch.require` raises ``NoConsumer`` for a browser call
  (``calls.forward``); :meth:`QueueWatch.warn` logs a server ``trigger()`` to
  an unconsumed queue once per queue and interval (the message waits in the
  broker, as Celery users expect).

The answers are shared through the window cache (``WEBSOCKET_CACHE_BACKEND``),
per broker: one web process at a time asks the workers (it holds a key that it
extends each round and that expires ``ASKER_ROUNDS`` intervals after it stops),
the others read its last answer from the cache in their own thread.  A site with
many web processes sends one broadcast per interval instead of one per process,
and a process that just started knows at its first round.  The send path still
reads process memory only.  With the cache unreachable (or a local-memory one)
each process asks for itself, as before.

``WEBSOCKET_QUEUE_WATCH`` (``None`` switches it off); only with
``WEBSOCKET_WORKERS = "celery"``: the other modes run handlers in-process.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.cache import caches

from dfws_celery.celery_app import get_celery_app
from dfws_celery.conf import QueueWatchSettings, dfws_settings
from dfws_celery.errors import NoConsumer
from dfws_celery.outages import OUTAGE_ERRORS
from dfws_celery.registry import REGISTRY
from dfws_celery.routing import declared_queues

logger = logging.getLogger("dfws.queues")
ASKER_ROUNDS = 3  # intervals without a round of the asking process before another asks
FIRST_RETRY = 1.0  # seconds before asking again while a declared queue has no consumer


def worker_command(queue: str) -> str:
    """The command that starts a worker for ``queue``, with the project's app name."""
    path = dfws_settings.celery_app_path  # "proj.celery.app" -> "proj.celery"
    name = path.rsplit(".", 1)[0] if path else (get_celery_app().main or "<project>")
    return f"celery -A {name} worker -Q {queue}"


def consumed_queues(answer: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """``inspect().active_queues()``'s answer as queue -> the workers consuming it."""
    queues: dict[str, list[str]] = {}
    for worker, declared in (answer or {}).items():
        for queue in declared or ():
            name = queue.get("name") if isinstance(queue, Mapping) else None
            if name:
                queues.setdefault(str(name), []).append(str(worker))
    return queues


class SharedAnswers:
    """The last answer of the workers in the window cache, and which process asks them.

    Keys under ``WEBSOCKET_CACHE_PREFIX``, one pair per broker (its URL and key
    prefix, hashed): processes on other brokers sharing one cache stay apart.
    """

    def __init__(self) -> None:
        self.me = f"{socket.gethostname()}:{os.getpid()}"

    def _keys(self) -> tuple[str, str]:
        conf = get_celery_app().conf
        prefix = (conf.broker_transport_options or {}).get("global_keyprefix", "")
        broker = hashlib.blake2b(f"{conf.broker_url}|{prefix}".encode(), digest_size=8)
        base = f"{dfws_settings.cache_prefix}:queue-watch:{broker.hexdigest()}"
        return f"{base}:answer", f"{base}:asker"

    def claim(self, config: QueueWatchSettings) -> bool:
        """Whether this process asks the workers this round (taking or extending the key)."""
        cache = caches[dfws_settings.cache_backend]
        _, asker_key = self._keys()
        ttl = max(1, math.ceil(config.interval * ASKER_ROUNDS))
        holder = cache.get(asker_key)
        if holder is None and cache.add(asker_key, self.me, ttl):
            return True
        if (holder or cache.get(asker_key)) == self.me:
            cache.touch(asker_key, ttl)
            return True
        return False

    def read(self) -> tuple[dict[str, list[str]], float, str] | None:
        """``(queue -> workers, age in seconds, the asking process)`` or ``None``."""
        answer_key, _ = self._keys()
        value = caches[dfws_settings.cache_backend].get(answer_key)
        if not isinstance(value, dict) or not isinstance(value.get("workers"), dict):
            return None
        return value["workers"], max(0.0, time.time() - float(value["at"])), str(value["by"])

    def write(self, workers: dict[str, list[str]], config: QueueWatchSettings) -> None:
        answer_key, _ = self._keys()
        value = {"workers": workers, "at": time.time(), "by": self.me}
        ttl = max(1, math.ceil(config.grace))
        caches[dfws_settings.cache_backend].set(answer_key, value, ttl)


class QueueWatch:
    """The queues with a consumer, as the last answers of the workers said (per process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._pid = 0
        self._config: QueueWatchSettings | None = None
        self.last_seen: dict[str, float] = {}  # queue -> monotonic time a worker named it
        self.answered_at: float | None = None  # monotonic time of the last answer
        self.workers: dict[str, list[str]] = {}  # the last answer: queue -> workers
        self._warned: dict[str, float] = {}
        self.shared = SharedAnswers()
        self.asking = False  # this process asked the workers in its last round
        self._missing_rounds = 0  # rounds in a row that found a declared queue unconsumed

    # ---- the background thread ----

    def start(self) -> bool:
        """Start the thread once per process (again after a fork); ``False`` when off."""
        config = dfws_settings.queue_watch
        if config is None or dfws_settings.workers != "celery":
            return False
        with self._lock:
            if self._thread is not None and self._pid == os.getpid():
                return True
            self.use(config)
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(config, self._stop), name="dfws-queue-watch", daemon=True
            )
            self._thread.start()
        return True

    def use(self, config: QueueWatchSettings) -> None:
        """Forget every answer and read the next ones with ``config`` (``start``, tests)."""
        self._reset_state()
        self._config = config
        self._pid = os.getpid()

    def stop(self) -> None:
        """Stop the thread (tests) and forget every answer."""
        with self._lock:
            self._stop.set()
            thread, self._thread = self._thread, None
            self._reset_state()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    def _reset_state(self) -> None:
        self.last_seen = {}
        self.answered_at = None
        self.workers = {}
        self._warned = {}
        self._config = None

    def _run(self, config: QueueWatchSettings, stop: threading.Event) -> None:
        while not stop.is_set():
            self.refresh(config)
            stop.wait(self.next_round(config))

    def next_round(self, config: QueueWatchSettings) -> float:
        """Seconds until the next round: sooner while a declared queue has no consumer.

        Web processes and workers often start together (a deploy, ``docker compose
        up``): a first answer taken before the workers listened says "no consumer"
        and would refuse every call for a whole interval.  While a queue the
        handlers declare is missing from the answer, the next round comes after
        1 s, then 2, 4... up to ``interval``.
        """
        if self.answered_at is None or not self.missing():
            self._missing_rounds = 0
            return config.interval
        delay = min(config.interval, FIRST_RETRY * 2.0**self._missing_rounds)
        self._missing_rounds += 1
        return delay

    def missing(self) -> list[str]:
        """Declared queues (``dfws_queues``) that the last answer names no consumer for."""
        return [q for q in declared_queues(REGISTRY.all()) if q not in self.workers]

    def refresh(self, config: QueueWatchSettings | None = None) -> None:
        """One round: ask the workers, or read the answer the asking process shared.

        An unreachable broker leaves the last answer as it was.
        """
        config = config or self._config or dfws_settings.queue_watch or QueueWatchSettings()
        try:
            asks = self.shared.claim(config)
        except OUTAGE_ERRORS as exc:  # the cache is down: ask for ourselves
            logger.debug("dfws: the queue watch's cache is unreachable: %r", exc)
            asks, shared = True, False
        else:
            shared = True
        if asks != self.asking:
            self.asking = asks
            if asks and shared:
                logger.info("dfws: this process asks the workers for their queues, for all")
        if not asks:
            self._read_shared()
            return
        try:
            answer = get_celery_app().control.inspect(timeout=config.timeout).active_queues()
        except Exception as exc:  # the broker is down: unknown, never a refusal
            logger.debug("dfws: could not ask the workers for their queues: %r", exc)
            return
        workers = consumed_queues(answer)
        self.record(workers)
        if shared:
            try:
                self.shared.write(workers, config)
            except OUTAGE_ERRORS as exc:
                logger.debug("dfws: could not share the workers' queues: %r", exc)

    def _read_shared(self) -> None:
        try:
            found = self.shared.read()
        except OUTAGE_ERRORS as exc:
            logger.debug("dfws: could not read the workers' queues: %r", exc)
            return
        if found is None:  # the asking process has not answered yet
            return
        workers, age, asker = found
        at = time.monotonic() - age
        if self.answered_at is None or at > self.answered_at + 0.001:  # a newer answer
            self.record(workers, now=at, asker=asker)

    def record(
        self, workers: dict[str, list[str]], now: float | None = None, asker: str | None = None
    ) -> None:
        """Store one answer (queue -> workers); log the first one and every change."""
        now = time.monotonic() if now is None else now
        first = self.answered_at is None
        changed = first or set(workers) != set(self.workers)
        for queue in workers:
            self.last_seen[queue] = now
        self.workers = workers
        self.answered_at = now
        if changed:
            logger.info(
                "dfws: queues with a consumer: %s%s",
                ", ".join(f"{q} ({len(w)} worker(s))" for q, w in sorted(workers.items()))
                or "none (no worker answered)",
                f" (asked by {asker})" if asker else "",
            )

    # ---- what the send path reads ----

    def consumed(self, queue: str, now: float | None = None) -> bool | None:
        """Whether ``queue`` has a consumer; ``None`` while that is unknown."""
        config = self._config
        answered_at = self.answered_at
        if config is None or answered_at is None or self._pid != os.getpid():
            return None
        now = time.monotonic() if now is None else now
        if now - answered_at > config.grace:  # no answer for a while: the broker is down
            return None
        seen = self.last_seen.get(queue)
        return seen is not None and now - seen <= config.grace

    def require(self, queues: Iterable[str], call_id: str | None = None) -> None:
        """Raise ``NoConsumer`` for the first of ``queues`` known to have no consumer."""
        for queue in queues:
            if self.consumed(queue) is False:
                command = worker_command(queue)
                raise NoConsumer(
                    f"no worker consumes the queue {queue!r}: start one with `{command}`",
                    queue=queue,
                    call_id=call_id,
                )

    def warn(self, queue: str, path: str) -> None:
        """Log once per queue and interval that a server trigger waits for a consumer."""
        if self.consumed(queue) is not False:
            return
        config = self._config
        interval = config.warn_interval if config is not None else 60.0
        now = time.monotonic()
        with self._lock:
            last = self._warned.get(queue)
            if last is not None and now - last < interval:
                return
            self._warned[queue] = now
        logger.warning(
            "dfws signal %r was sent to the queue %r, which no worker consumes: it waits in "
            "the broker until one does (`%s`); this is said once per %d s",
            path,
            queue,
            worker_command(queue),
            round(interval),
        )

    def describe(self, queue: str) -> str:
        """A few words for a timeout message: whether a consumer was seen for ``queue``."""
        state = self.consumed(queue)
        if state is None:
            return "unknown whether a worker consumes it"
        return "a worker consumes it" if state else "no worker consumes it"


watch = QueueWatch()
