"""Real services for the tests: Redis, Celery worker and daphne subprocesses (stopped by PID)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


_redis_seen = False


def ensure_redis() -> None:
    """Use the Redis at 127.0.0.1:6379; start one if none answers (checked once per run)."""
    global _redis_seen
    if _redis_seen or port_open("127.0.0.1", 6379):
        _redis_seen = True
        return
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("No Redis answers on 127.0.0.1:6379 and redis-server is not installed")
    subprocess.run(
        [server, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", ""],
        check=True,
    )
    wait_until(lambda: port_open("127.0.0.1", 6379), 10, "redis-server to listen")
    _redis_seen = True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def test_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # set in this process beside Playwright (tests/browser/conftest.py); the servers and
    # workers under test keep Django's async-safety checks
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DJANGO_SETTINGS_MODULE"] = env.get("DJANGO_SETTINGS_MODULE", "tests.settings")
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


class Process:
    """A subprocess with its output in a log file, stopped by PID."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = 0  # a server's, once it listens
        self.url = ""
        self.log_path = log_dir / f"{name}.log"
        self.log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self.log.close()


def celery_worker(
    name: str, queues: str, env: dict[str, str], log_dir: Path, pool: str = "prefork"
) -> Process:
    args = [
        sys.executable, "-m", "celery", "-A", "tests.celery_app", "worker",
        "-Q", queues, "-n", f"{name}@%h", "--pool", pool, "-c", "2",
        "-l", "INFO", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    process = Process(name, args, env, log_dir)

    def ready() -> bool:
        if not process.alive():
            raise RuntimeError(f"worker {name} died:\n{process.output()}")
        return "ready." in process.output()

    wait_until(ready, 60, f"celery worker {name}")
    return process


LISTENING = re.compile(r"Listening on TCP address 127\.0\.0\.1:(\d+)")


def daphne(port: int | None, env: dict[str, str], log_dir: Path, name: str = "daphne") -> Process:
    """A daphne serving the test project; its base URL is ``process.url``.

    ``port=None``: daphne binds a port the kernel chooses and the port is read back
    from its log (no window in which another process could take a port we picked).
    """
    args = [
        sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port or 0),
        "dfws_web.asgi:application",
    ]  # fmt: skip
    process = Process(name, args, env, log_dir)

    def listening() -> int | None:
        if not process.alive():
            raise RuntimeError(f"daphne died:\n{process.output()}")
        found = LISTENING.search(process.output())
        return int(found.group(1)) if found else None

    process.port = wait_until(listening, 60, "daphne to listen")
    assert port is None or process.port == port, process.output()
    process.url = f"http://127.0.0.1:{process.port}"
    return process
