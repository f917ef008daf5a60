#!/usr/bin/env python
"""Run the sample project in Redis mode; Ctrl-C stops every process it started.

    DFWS_REDIS_URL=redis://127.0.0.1:6379/0 python sample_project/redis_demo.py

It migrates, creates the demo user, then starts the commands a deployment
would run, each its own process:

* the web server (daphne, through ``manage.py runserver --noreload``),
* one ``celery worker`` per queue that the declared handlers use
  (``manage.py dfws_queues``), so a busy ``slow`` queue delays nothing else,
* ``celery beat`` (the clock of every page),
* Flower on ``--flower-port`` (0 to skip it).

Every process writes its Prometheus metrics to one ``PROMETHEUS_MULTIPROC_DIR``
(a fresh temporary directory unless the environment names one), so
``/metrics/`` shows the counts of the web server and of every worker.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "sample_project" / "manage.py")]
CELERY = [sys.executable, "-m", "celery", "-A", "sample_project"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port of the web server")
    parser.add_argument("--flower-port", type=int, default=5555, help="Flower's port; 0: no Flower")
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker")
    return parser.parse_args()


def check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        sys.exit(
            f"No Redis answers at DFWS_REDIS_URL={url!r} ({exc}): start one, e.g. redis-server"
        )


def commands(args: argparse.Namespace, queues: list[str]) -> list[tuple[str, list[str]]]:
    result = [("web", [*MANAGE, "runserver", "--noreload", args.addr])]
    for queue in queues:
        worker = ["worker", "-Q", queue, "-n", f"{queue}@%h", "-c", str(args.concurrency)]
        result.append((f"worker {queue}", [*CELERY, *worker, "-l", "INFO"]))
    result.append(("beat", [*CELERY, "beat", "-l", "INFO"]))
    if args.flower_port:
        flower = ["flower", f"--port={args.flower_port}", "--address=127.0.0.1"]
        result.append(("flower", [*CELERY, *flower]))
    return result


def stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 15
    for name, process in processes.items():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} (pid {process.pid}) did not stop: killing it", flush=True)
            process.kill()
            process.wait()


def on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def metrics_dir() -> str | None:
    """A fresh ``PROMETHEUS_MULTIPROC_DIR`` for every process started here; the path, to remove
    at the end (``None`` when the environment names a directory of its own)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    path = tempfile.mkdtemp(prefix="dfws-demo-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


def main() -> None:
    args = parse_args()
    url = os.environ.get("DFWS_REDIS_URL")
    if not url:
        sys.exit("Set DFWS_REDIS_URL, e.g. DFWS_REDIS_URL=redis://127.0.0.1:6379/0")
    check_redis(url)
    os.chdir(ROOT)  # `celery -A sample_project` imports the package from the current folder
    subprocess.run([*MANAGE, "migrate", "--noinput", "-v0"], check=True)
    subprocess.run([*MANAGE, "demo_setup"], check=True)
    output = subprocess.run([*MANAGE, "dfws_queues"], check=True, capture_output=True, text=True)
    queues = output.stdout.strip().split(",")

    signal.signal(signal.SIGTERM, on_sigterm)
    own_metrics_dir = metrics_dir()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, command in commands(args, queues):
            processes[name] = subprocess.Popen(command)
            print(f"started {name} (pid {processes[name].pid}): {' '.join(command)}", flush=True)
        print(f"\ndfws demo (Redis mode): http://{args.addr}/  login: demo / demo", flush=True)
        print(f"Prometheus metrics: http://{args.addr}/metrics/", flush=True)
        if args.flower_port:
            print(f"Flower: http://127.0.0.1:{args.flower_port}/", flush=True)
        print("Ctrl-C stops everything.\n", flush=True)
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    sys.exit(f"{name} exited with code {process.returncode}: stopping the others")
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        # a second Ctrl-C (or make passing our SIGTERM on) must not cut the clean-up short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop(processes)
        if own_metrics_dir is not None:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
