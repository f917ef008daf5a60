"""Processes of the bench (daphne, Celery workers, drivers): started here, stopped by PID.

Nothing is stopped by name: each ``Service`` remembers its PID and the PIDs
of its children (Celery's prefork pool) and ends exactly those.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
OLD_VENV = WORK / "venv-dfws-old"
OLD_PROJECT = BENCH / "oldproject"
MAIN_PYTHON = sys.executable
OLD_PYTHON = str(OLD_VENV / "bin" / "python")
OLD_PACKAGES = ["df-websockets==1.2.6", "daphne", "celery"]

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "14"))
# dfws's channel layer: "pubsub" (recommended) or "list" (RedisChannelLayer)
LAYER = os.environ.get("BENCH_LAYER", "pubsub")
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
PREFIX = "dfwsbench"
OLD_PREFIX = "dfwsbench-old"


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


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


def ensure_redis() -> Service | None:
    """The Redis at 127.0.0.1:6379, or one started here (returned, to be stopped by PID)."""
    if port_open(REDIS_PORT):
        return None
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("No Redis answers on 127.0.0.1:6379 and redis-server is not installed")
    args = [server, "--bind", REDIS_HOST, "--port", str(REDIS_PORT), "--save", ""]
    service = Service("redis-server", args, dict(os.environ))
    wait_until(lambda: port_open(REDIS_PORT), 10, "redis-server to listen")
    return service


def ensure_old_venv(log: Callable[[str], None]) -> None:
    """df-websockets 1.2.6 and its servers, from PyPI, in a virtualenv of their own."""
    stamp = OLD_VENV / ".bench-installed"
    if stamp.exists():
        return
    log(f"creating {OLD_VENV.relative_to(ROOT)} with {', '.join(OLD_PACKAGES)}")
    subprocess.run([sys.executable, "-m", "venv", str(OLD_VENV)], check=True)
    subprocess.run(
        [OLD_PYTHON, "-m", "pip", "install", "-q", *OLD_PACKAGES],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stamp.touch()


def env_for(side: str, **extra: str) -> dict[str, str]:
    """Environment of a dfws-side (main venv) or old-side (df-websockets venv) process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTHON"))}
    env.update(
        BENCH_REDIS_URL=REDIS_URL,
        BENCH_PREFIX=PREFIX,
        BENCH_OLD_PREFIX=OLD_PREFIX,
        BENCH_WORK_DIR=str(WORK),
        BENCH_LAYER=LAYER,
        PYTHONUNBUFFERED="1",
    )
    if side == "old":
        env.update(PYTHONPATH=str(OLD_PROJECT), DJANGO_SETTINGS_MODULE="oldsite.settings")
    else:
        env.update(PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="bench.project.settings")
    env.update(extra)
    return env


def migrate_dfws() -> None:
    """Create the dfws project's tables (its logged-in pages need a user)."""
    args = [MAIN_PYTHON, "-m", "django", "migrate", "--noinput", "-v", "0"]
    subprocess.run(args, env=env_for("dfws"), cwd=ROOT, check=True)


def python_for(side: str) -> str:
    return OLD_PYTHON if side == "old" else MAIN_PYTHON


class Service:
    """A subprocess whose output goes to ``bench/.work/logs/<name>.log``."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        cwd: Path = ROOT,
        pipes: bool = False,
    ) -> None:
        self.name = name
        log_dir = WORK / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipes else self.log,
            stderr=self.log,
            text=pipes,
            bufsize=1 if pipes else -1,
        )
        self.pid = self.popen.pid
        self.children: set[int] = set()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def remember_children(self) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            self.children |= {c.pid for c in psutil.Process(self.pid).children(recursive=True)}

    def stop(self) -> None:
        self.remember_children()
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        for pid in self.children:  # a prefork child left behind, by its own PID
            try:
                child = psutil.Process(pid)
                child.kill()
                child.wait(5)
            except (psutil.NoSuchProcess, psutil.TimeoutExpired):
                pass
        self.log.close()


def daphne(
    side: str, app: str, name: str, extra_env: dict[str, str] | None = None
) -> tuple[Service, int]:
    """A daphne process serving ``app``; returns it and its port once it listens."""
    port = free_port()
    args = [
        python_for(side), "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0", app,
    ]  # fmt: skip
    cwd = OLD_PROJECT if side == "old" else ROOT
    return listening(Service(name, args, env_for(side, **(extra_env or {})), cwd=cwd), port)


def listening(service: Service, port: int) -> tuple[Service, int]:
    """``service`` once it listens on ``port`` (stopped if it dies or never does)."""

    def ready() -> bool:
        if not service.alive():
            raise RuntimeError(f"{service.name} died:\n{service.output()}")
        return port_open(port)

    try:
        wait_until(ready, 60, service.name)
    except BaseException:
        service.stop()
        raise
    return service, port


def uvicorn(app: str, name: str) -> tuple[Service, int]:
    """dfws served by uvicorn (``--ws websockets``) instead of daphne."""
    port = free_port()
    args = [MAIN_PYTHON, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
            "--ws", "websockets", "--lifespan", "off", "--no-access-log", "--log-level",
            "warning"]  # fmt: skip
    return listening(Service(name, args, env_for("dfws")), port)


FLOOR_CHANNEL = "bench-floor"  # (a Pub/Sub channel: the prefix of the run is in front)


def floor_server(name: str, redis_url: str = REDIS_URL) -> tuple[Service, int]:
    """``bench/floor.py``: a raw asyncio websockets server fed by Redis Pub/Sub (S3 on the
    shared Redis, S6 on the capacity scenarios' own: ``redis_url``)."""
    port = free_port()
    channel = f"{PREFIX}:{FLOOR_CHANNEL}"
    args = [MAIN_PYTHON, str(BENCH / "floor.py"), str(port), redis_url, channel]
    return listening(Service(name, args, env_for("dfws")), port)


def celery_worker(side: str, name: str, extra_env: dict[str, str] | None = None) -> Service:
    """A prefork worker (2 processes) on the ``celery`` queue, started as each project documents."""
    flags = ["-Q", "celery", "-c", "2", "--pool", "prefork", "-l", "WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
    if side == "old":  # df-websockets' README: `python manage.py worker -Q celery`
        args = [OLD_PYTHON, "manage.py", "worker", *flags]
        service = Service(name, args, env_for(side), cwd=OLD_PROJECT)
    else:
        args = [MAIN_PYTHON, "-m", "celery", "-A", "bench.project.celery_app", "worker", *flags]
        service = Service(name, args, env_for(side, **(extra_env or {})))
    time.sleep(0.5)
    if not service.alive():
        raise RuntimeError(f"{name} died:\n{service.output()}")
    return service


def wait_idle(pid: int, threshold: float = 5.0, timeout: float = 30.0) -> None:
    """Wait until the process (and its children) use less than ``threshold`` % of a core."""
    try:
        process = psutil.Process(pid)
        deadline = time.monotonic() + timeout
        process.cpu_percent(None)
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if process.cpu_percent(None) < threshold:
                return
    except psutil.NoSuchProcess:
        return


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and of its children (Celery's pool)."""
    total = 0.0
    try:
        process = psutil.Process(pid)
        for one in [process, *process.children(recursive=True)]:
            times = one.cpu_times()
            total += times.user + times.system
    except psutil.NoSuchProcess:
        pass
    return total


def cpu_wait_seconds(pid: int) -> float:
    """Seconds the process's main thread (daphne's event loop) has waited, runnable, for a
    CPU (``/proc/<pid>/schedstat``): on a machine shared with other work, a server slowed
    down by its neighbours rather than by its own work shows here."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def raise_open_files_limit(wanted: int | None = None) -> int:
    """Raise this process's open-file limit to ``wanted`` (default: the hard limit), as an
    operator's ``LimitNOFILE`` would; every process the bench starts inherits it.
    Returns the soft limit now in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if wanted is None:
        wanted = 1 << 20 if hard == resource.RLIM_INFINITY else hard
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_files_limit(pid: int) -> int:
    """The soft open-file limit of a running process (a daphne the bench started)."""
    return int(psutil.Process(pid).rlimit(psutil.RLIMIT_NOFILE)[0])


def private_redis(name: str) -> tuple[Service, str]:
    """A redis-server of the bench's own on a free port (no persistence): the capacity
    scenarios measure its CPU and its commands alone, without other users of the shared one."""
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    args = [server, "--bind", REDIS_HOST, "--port", str(port), "--save", "", "--appendonly",
            "no", "--maxclients", "20000"]  # fmt: skip
    service, _ = listening(Service(name, args, dict(os.environ)), port)
    return service, f"redis://{REDIS_HOST}:{port}/0"
