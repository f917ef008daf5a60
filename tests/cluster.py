"""The distributed shape on one machine: nginx, two daphne processes, two Redis shards, workers.

* two private ``redis-server`` processes: the two shards of the channel layer
  (``DFWS_TEST_LAYER_HOSTS``, tests/settings.py), which also hold each
  group's history and presence; the first one's database 1 is the broker,
  so that the run's own worker (``worker`` in tests/conftest.py, on the run's
  Redis) never takes a call of the cluster;
* two daphne processes (``--proxy-headers``) behind a private nginx
  (``services.nginx``: ``least_conn``, websocket upgrade, ``X-Upstream``
  naming the daphne that answered);
* one Celery worker per queue, ``celery`` and ``slow``, each its own process.

The cache (window entries, limits) stays on the run's Redis (``DFWS_TEST_REDIS``).
tests/test_cluster.py starts it once per module; ``make cluster``
(``python -m tests.cluster``) starts the same, with a private Redis for the
cache as well, migrates a database of its own and prints the URL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests import services

QUEUES = ("celery", "slow")


class Cluster:
    """The processes of one cluster; :meth:`stop` stops every one of them."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.env: dict[str, str] = {}
        self.shards: list[services.Process] = []
        self.daphnes: list[services.Process] = []
        self.workers: dict[str, services.Process] = {}
        self.proxy: services.Process | None = None
        self._restarts = 0

    @property
    def url(self) -> str:
        """nginx's base URL: where browsers go."""
        assert self.proxy is not None
        return self.proxy.url

    @property
    def layer_hosts(self) -> list[str]:
        return [shard.url for shard in self.shards]

    def daphne_at(self, port: int) -> int:
        """The index of the daphne listening on ``port``."""
        return [d.port for d in self.daphnes].index(port)

    def new_daphne(self, index: int, port: int | None = None) -> services.Process:
        """Start daphne ``index`` (again, on ``port``: nginx's upstream lists the ports)."""
        name = f"cluster-daphne{index}" + (f"-again{self._restarts}" if port else "")
        return services.daphne(port, self.env, self.log_dir, name, proxy_headers=True)

    def revive(self) -> None:
        """Start again, on its port, each daphne a test stopped or killed."""
        for index, process in enumerate(self.daphnes):
            if not process.alive():
                process.stop()  # closes its log
                self._restarts += 1
                self.daphnes[index] = self.new_daphne(index, process.port)

    def kill(self, index: int, signum: int) -> services.Process:
        """Send ``signum`` to daphne ``index`` and wait until it has exited."""
        process = self.daphnes[index]
        os.kill(process.popen.pid, signum)
        process.popen.wait(30)
        return process

    def processes(self) -> Iterable[services.Process]:
        yield from [self.proxy] if self.proxy else []
        yield from self.daphnes
        yield from self.workers.values()
        yield from self.shards

    def stop(self) -> None:
        processes = list(self.processes())
        for process in processes:  # all asked at once (nginx first), then each awaited
            if process.alive():
                process.popen.terminate()
        for process in processes:
            process.stop()


def start(log_dir: Path, **extra_env: str) -> Cluster:
    """Start a cluster; ``extra_env``: more environment for its daphne and worker processes."""
    cluster = Cluster(log_dir)
    try:
        cluster.shards = [services.redis_server(log_dir, f"cluster-shard{i}") for i in range(2)]
        env = cluster.env = services.test_env(
            DFWS_TEST_LAYER_HOSTS=" ".join(cluster.layer_hosts),
            DFWS_TEST_BROKER=f"redis://127.0.0.1:{cluster.shards[0].port}/1",
            DFWS_TEST_PRESENCE_PROCESS_TTL="3",
            **extra_env,
        )

        with ThreadPoolExecutor(4) as pool:  # four Python processes start side by side
            daphnes = [pool.submit(cluster.new_daphne, index) for index in range(2)]
            workers = {
                queue: pool.submit(services.celery_worker, f"cluster-{queue}", queue, env, log_dir)
                for queue in QUEUES
            }
        # every process that came up is the cluster's (stopped below if another did not)
        cluster.daphnes = [f.result() for f in daphnes if f.exception() is None]
        cluster.workers = {q: f.result() for q, f in workers.items() if f.exception() is None}
        for future in [*daphnes, *workers.values()]:
            if future.exception() is not None:
                raise future.exception()  # type: ignore[misc]
        cluster.proxy = services.nginx([d.port for d in cluster.daphnes], log_dir, "cluster-nginx")
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextmanager
def serving(log_dir: Path) -> Iterator[Cluster]:
    """A cluster, and this process publishing on its shards (``CHANNEL_LAYERS`` overridden)
    as a view or a task of the cluster would: the tests' fixture (tests/conftest.py)."""
    from django.test import override_settings

    from tests.settings import channel_layer

    cluster = start(log_dir)
    try:
        with override_settings(CHANNEL_LAYERS={"default": channel_layer(cluster.layer_hosts)}):
            yield cluster
    finally:
        cluster.stop()


def presence_pids(topic: str) -> list[int]:
    """The process ids of the daphne processes holding ``topic``'s members, one per member,
    read from the presence set (whose members name their process: ``host:pid:token``)."""
    import redis

    from dfws_celery.presence import store
    from dfws_celery.topics import group_name

    presence = store()
    assert presence is not None
    group = group_name(topic)
    client = redis.Redis.from_url(presence.host(group)["address"])
    try:
        raw = client.zrange(presence.key(group), 0, -1)
    finally:
        client.close()
    return [int(json.loads(member)["p"].split(":")[1]) for member in raw]


def main() -> None:
    """``make cluster``: start a cluster on loopback ports, print its URL, stop it on Ctrl-C."""
    prefix = f"dfws-cluster-{uuid.uuid4().hex[:8]}"
    os.environ["DFWS_TEST_PREFIX"] = prefix  # names the database and every Redis key
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    log_dir = Path(tempfile.mkdtemp(prefix="dfws-cluster-"))
    cache = services.redis_server(log_dir, "cluster-cache")
    cluster: Cluster | None = None
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    try:
        env = {"DFWS_TEST_REDIS": cache.url}
        migrate = [sys.executable, "-m", "django", "migrate", "--noinput", "-v0"]
        subprocess.run(migrate, cwd=services.ROOT, env=services.test_env(**env), check=True)
        print("starting nginx, 2 daphne processes, 2 Redis shards, workers for celery and slow")
        cluster = start(log_dir, **env)
        daphnes = ", ".join(d.url for d in cluster.daphnes)
        print(f"""
  dfws cluster: {cluster.url}/   (Ctrl-C stops every process)

  pages: /   /room/<name>/ (presence)   /login/<username>/   /logout/
  nginx -> daphne {daphnes}
  channel layer shards: {", ".join(cluster.layer_hosts)}; cache: {cache.url}
  logs and nginx.conf: {log_dir}
""")
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping:
            dead = [p.name for p in cluster.processes() if not p.alive()]
            if dead:
                print(f"stopped by itself: {', '.join(dead)}")
                break
            time.sleep(0.5)
    finally:
        if cluster is not None:
            cluster.stop()
        cache.stop()
        Path(f"/tmp/{prefix}.sqlite3").unlink(missing_ok=True)
        print(f"every process stopped; logs in {log_dir}")
    sys.exit(0 if stopping else 1)


if __name__ == "__main__":
    main()
