"""The sample project run as its users run it: `make demo`, `make demo-redis`, Flower.

Everything here happens in subprocesses with the sample project's settings;
this pytest process (``tests.settings``) only drives them and a Chromium.
Processes are started once per run and stopped by PID, with their children.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis
from playwright.sync_api import Browser

from tests import chromium, services

ROOT = services.ROOT
MANAGE = [sys.executable, str(ROOT / "sample_project" / "manage.py")]
CELERY = [sys.executable, "-m", "celery", "-A", "sample_project"]
# not the test suite's database 10; a prefix per run keeps concurrent runs apart
REDIS_URL = os.environ.get("DFWS_SAMPLE_TEST_REDIS", "redis://127.0.0.1:6379/11")


def sample_env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DFWS_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="sample_project.settings", DFWS_SAMPLE_DB=str(db))
    env.update(extra)
    return env


class Tree(services.Process):
    """A started command and every process below it, stopped by PID."""

    def processes(self) -> list[psutil.Process]:
        try:
            parent = psutil.Process(self.popen.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> list[str]:
        """Stop the command as a user would, then whatever it left behind; return the latter."""
        processes = self.processes()
        if not processes:
            self.log.close()
            return []
        names = {process.pid: _describe(process) for process in processes}
        top, below = processes[0], processes[1:]
        with suppress(psutil.NoSuchProcess):
            top.terminate()
        with suppress(psutil.TimeoutExpired):
            top.wait(20)
        _, left = psutil.wait_procs(below, timeout=5)
        leftovers = [names[process.pid] for process in left]
        for process in left:
            with suppress(psutil.NoSuchProcess):
                process.terminate()
        _, alive = psutil.wait_procs(left, timeout=10)
        for process in alive:
            with suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(alive, timeout=5)
        self.popen.wait(5)
        self.log.close()
        return leftovers


def _describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid}: {' '.join(process.cmdline())}"
    except psutil.NoSuchProcess:
        return str(process.pid)


def wait_for_server(tree: Tree, port: int, timeout: float = 90) -> None:
    def ready() -> bool:
        if tree.popen.poll() is not None:
            raise RuntimeError(f"{tree.name} exited:\n{tree.output()}")
        return services.port_open("127.0.0.1", port)

    services.wait_until(ready, timeout, f"{tree.name} on port {port}")


@pytest.fixture(scope="session")
def sample_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sample-logs")


@pytest.fixture(scope="session")
def demo_venv() -> None:
    """`make demo` and `make demo-redis` run in .venv-demo: installed once, before the clock
    of a server's start runs (the first install downloads for minutes)."""
    subprocess.run(
        ["make", "--no-print-directory", "demo-venv"], cwd=ROOT, check=True, timeout=900,
        capture_output=True,
    )  # fmt: skip


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory, demo_venv: None) -> Path:
    """A migrated SQLite file with the demo user; each mode works on its own copy."""
    db = tmp_path_factory.mktemp("sample-db") / "template.sqlite3"
    env = sample_env(db)
    subprocess.run([*MANAGE, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run([*MANAGE, "demo_setup"], env=env, cwd=ROOT, check=True, capture_output=True)
    return db


def copy_db(template: Path, name: str) -> Path:
    target = template.with_name(f"{name}.sqlite3")
    shutil.copy(template, target)
    return target


class Site:
    def __init__(self, mode: str, url: str, tree: Tree, db: Path) -> None:
        self.mode = mode
        self.url = url
        self.tree = tree
        self.db = db


@contextmanager
def memory_site(migrated_db: Path, sample_logs: Path) -> Iterator[Site]:
    """`make demo` on a free port: the default mode, no external service."""
    port = services.free_port()
    db = copy_db(migrated_db, "memory")
    args = ["make", "--no-print-directory", "demo", f"DEMO_ADDR=127.0.0.1:{port}"]
    tree = Tree("make-demo", args, sample_env(db), sample_logs)
    try:
        wait_for_server(tree, port)
        yield Site("memory", f"http://127.0.0.1:{port}", tree, db)
    finally:
        tree.stop()


@pytest.fixture(scope="session")
def redis_prefix() -> Iterator[str]:
    prefix = f"dfws-sample-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session")
def redis_env(migrated_db: Path, redis_prefix: str, sample_logs: Path) -> dict[str, str]:
    db = copy_db(migrated_db, "redis")
    return sample_env(
        db,
        DFWS_REDIS_URL=REDIS_URL,
        DFWS_REDIS_PREFIX=redis_prefix,
        DFWS_BEAT_SCHEDULE=str(sample_logs / "celerybeat-schedule"),
    )


@pytest.fixture(scope="session")
def redis_site(redis_env: dict[str, str], sample_logs: Path) -> Iterator[Site]:
    """`make demo-redis` on a free port: web server, one worker per queue, beat."""
    port = services.free_port()
    args = [
        "make", "--no-print-directory", "demo-redis",
        f"DEMO_ADDR=127.0.0.1:{port}", f"DFWS_REDIS_URL={REDIS_URL}",
        "FLOWER_PORT=0",  # the Flower test starts its own, as users start it
    ]  # fmt: skip
    tree = Tree("make-demo-redis", args, redis_env, sample_logs)
    try:
        wait_for_server(tree, port)
        services.wait_until(
            lambda: tree.output().count(" ready.") >= 2, 60, "the celery workers to be ready"
        )
        yield Site("redis", f"http://127.0.0.1:{port}", tree, Path(redis_env["DFWS_SAMPLE_DB"]))
    finally:
        leftovers = tree.stop()
    # make passes SIGTERM to the launcher, which must stop everything it started
    assert not leftovers, f"left running by `make demo-redis`: {leftovers}\n{tree.output()[-3000:]}"


@pytest.fixture(scope="module", params=["memory", "redis"])
def site(request: pytest.FixtureRequest, migrated_db: Path, sample_logs: Path) -> Iterator[Site]:
    """Each mode in turn: the default one is stopped before the Redis one starts."""
    if request.param == "memory":
        with memory_site(migrated_db, sample_logs) as site:
            yield site
    else:
        yield request.getfixturevalue("redis_site")


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with chromium.launch() as browser:
        yield browser


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Any]:
    """Fresh browser contexts (own cookies); uncaught page errors fail the test."""
    with chromium.contexts(browser, accept_downloads=True) as make:
        yield make
