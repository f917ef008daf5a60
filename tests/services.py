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


def _started(process: Process, wait: Callable[[], Any]) -> Any:
    """``wait()``'s value; a process that did not come up is stopped, not left running."""
    try:
        return wait()
    except BaseException:
        process.stop()
        raise


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

    _started(process, lambda: wait_until(ready, 60, f"celery worker {name}"))
    return process


LISTENING = re.compile(r"Listening on TCP address 127\.0\.0\.1:(\d+)")


def daphne(
    port: int | None,
    env: dict[str, str],
    log_dir: Path,
    name: str = "daphne",
    proxy_headers: bool = False,
) -> Process:
    """A daphne serving the test project; its base URL is ``process.url``.

    ``port=None``: daphne binds a port the kernel chooses and the port is read back
    from its log (no window in which another process could take a port we picked).
    ``proxy_headers``: behind a proxy (``--proxy-headers``: the client's address and
    scheme from ``X-Forwarded-For``/``-Proto``).
    """
    args = [
        sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port or 0),
        *(["--proxy-headers"] if proxy_headers else []), "dfws_web.asgi:application",
    ]  # fmt: skip
    process = Process(name, args, env, log_dir)

    def listening() -> int | None:
        if not process.alive():
            raise RuntimeError(f"daphne died:\n{process.output()}")
        found = LISTENING.search(process.output())
        return int(found.group(1)) if found else None

    process.port = _started(process, lambda: wait_until(listening, 60, "daphne to listen"))
    assert port is None or process.port == port, process.output()
    process.url = f"http://127.0.0.1:{process.port}"
    return process


def redis_server(log_dir: Path, name: str = "redis") -> Process:
    """A private redis-server on a free loopback port, nothing saved; ``process.url`` (DB 0)."""
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no"]
    process = Process(f"{name}-{port}", args, test_env(), log_dir)

    def listening() -> bool:
        if not process.alive():
            raise RuntimeError(f"redis-server {name} died:\n{process.output()}")
        return port_open("127.0.0.1", port)

    _started(process, lambda: wait_until(listening, 10, f"redis-server {name}"))
    process.port, process.url = port, f"redis://127.0.0.1:{port}/0"
    return process


class PrivateRedis:
    """A redis-server on a free port that a test stops and starts again on the same port
    (an outage: ``tests/test_outage.py``, ``tests/browser/test_browser_outage.py``); by PID."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = log_dir / f"redis-{self.port}.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server is not None, "redis-server is not installed"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no"],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_until(lambda: port_open("127.0.0.1", self.port), 10, "redis")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None
        wait_until(lambda: not port_open("127.0.0.1", self.port), 10, "stop")


NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")

# a private, unprivileged nginx: every path in its own directory, in the foreground
NGINX_CONF = """\
daemon off;
{user}worker_processes 1;
pid {root}/nginx.pid;
error_log stderr notice;
events {{ worker_connections {connections}; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
    upstream dfws {{
        least_conn;  # websockets are long: each new one goes to the process with fewest
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://dfws;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 1h;
            # which daphne answered: the tests learn where each socket landed
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def nginx(
    upstreams: list[int], log_dir: Path, name: str = "nginx", connections: int = 1024
) -> Process:
    """A private nginx on a free loopback port proxying HTTP and websockets to ``upstreams``.

    Its config, pid, logs and temp files live in ``log_dir/<name>``; it runs in the
    foreground (``daemon off``), so stopping the process stops it. A daphne that is
    down is skipped (``max_fails=0``: tried again at once when it is back).
    ``connections``: its ``worker_connections`` (a proxied websocket holds two).
    """
    if not os.access(NGINX, os.X_OK):
        raise RuntimeError(f"{NGINX} is missing: `make nginx` installs Debian's nginx")
    root = log_dir / name
    root.mkdir(exist_ok=True)
    port = free_port()
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in upstreams)
    # as root, the workers would switch to `nobody`, who cannot write in a private 0700 dir
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = root / "nginx.conf"
    text = NGINX_CONF.format(
        user=user, root=root, port=port, servers=servers, connections=connections
    )
    conf.write_text(text)
    args = [NGINX, "-p", str(root), "-c", str(conf), "-e", "stderr"]
    process = Process(name, args, test_env(), log_dir)

    def listening() -> bool:
        if not process.alive():
            raise RuntimeError(f"nginx died:\n{process.output()}")
        return port_open("127.0.0.1", port)

    _started(process, lambda: wait_until(listening, 10, "nginx to listen"))
    process.port, process.url = port, f"http://127.0.0.1:{port}"
    return process
