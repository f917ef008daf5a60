"""Profile one bench scenario with py-spy: where the CPU of daphne, a worker or a driver goes.

    .venv/bin/python -m bench.profile connect|fanout|roundtrip|publish [--variant dfws]

py-spy (installed from PyPI into the bench's virtualenv on first use) samples
the process while the load runs; every sample is charged to the innermost
frame that belongs to a package (stdlib frames such as ``socket.send`` are
charged to their caller: redis-py, kombu, Twisted...), and the shares are
printed with the busiest functions.  Raw stacks go to ``bench/.work/profiles``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

from bench import load, procs
from bench.run import Driver, Stack, stacks

PROFILES = procs.WORK / "profiles"
STDLIB = sysconfig.get_paths()["stdlib"]
FRAME = re.compile(r"^(?P<func>.*) \((?P<path>.*):(?P<line>\d+)\)$")
PACKAGES = [
    ("dfws_celery", "dfws"), ("dfws_web", "dfws"), ("df_websockets", "df_websockets 1.2.6"),
    ("channels_redis", "channels_redis"), ("redis", "redis-py"), ("kombu", "kombu"),
    ("amqp", "kombu"), ("celery", "celery"), ("billiard", "celery"), ("daphne", "daphne"),
    ("twisted", "twisted"), ("autobahn", "autobahn (daphne's websocket)"),
    ("txaio", "autobahn (daphne's websocket)"), ("channels", "channels"), ("asgiref", "asgiref"),
    ("django", "django"), ("msgpack", "msgpack"), ("websockets", "websockets"),
    ("bench", "bench harness"),
]  # fmt: skip


def py_spy() -> str:
    path = Path(sys.executable).parent / "py-spy"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
    return str(path)


class Recorder:
    """``py-spy record`` on one process (and its children), stopped with SIGINT by PID."""

    def __init__(self, pid: int, name: str, children: bool = False) -> None:
        PROFILES.mkdir(parents=True, exist_ok=True)
        self.path = PROFILES / f"{name}.txt"
        args = [py_spy(), "record", "-r", "250", "-f", "raw", "--full-filenames", "--nonblocking"]
        args += ["-o", str(self.path)]
        args += ["-p", str(pid), *(["--subprocesses"] if children else [])]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.target = psutil.Process(pid)
        self.cpu_before = self.cpu()
        self.started = time.monotonic()
        time.sleep(0.5)  # py-spy attaches

    def cpu(self) -> float:
        total = 0.0
        for process in [self.target, *self.target.children(recursive=True)]:
            times = process.cpu_times()
            total += times.user + times.system
        return total

    def stop(self) -> float:
        """Stop sampling; returns the CPU share (in cores) the process used meanwhile."""
        used = self.cpu() - self.cpu_before
        wall = time.monotonic() - self.started
        self.process.send_signal(signal.SIGINT)
        self.process.wait(30)
        return used / wall


def owner(frames: list[str]) -> tuple[str, str]:
    """The package and function charged for a sample (innermost non-stdlib frame)."""
    for frame in reversed(frames):
        match = FRAME.match(frame)
        if match is None:
            continue
        path = match["path"]
        if path.startswith(STDLIB) and "site-packages" not in path:
            continue
        for marker, package in PACKAGES:
            if f"/{marker}/" in path:
                return package, f"{match['func']} ({path.split('/' + marker + '/')[-1]})"
        return "other", f"{match['func']} ({path})"
    leaf = FRAME.match(frames[-1]) if frames else None
    name = f"{leaf['func']} ({os.path.basename(leaf['path'])})" if leaf else "?"
    return "python stdlib (event loop, sockets...)", name


def summarize(path: Path, top: int = 12) -> str:
    packages: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        package, function = owner(frames)
        packages[package] += int(count)
        functions[f"{package}: {function}"] += int(count)
        total += int(count)
    lines = [f"{total} samples (CPU only) in {path.name}"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in packages.most_common()]
    lines.append("  busiest functions:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in functions.most_common(top)]
    return "\n".join(lines)


async def connect(stack: Stack, clients: int) -> None:
    warm, _, _ = await load.open_windows(stack.base, stack.cookies(2))
    await load.close_windows(warm)
    cookies = await asyncio.to_thread(stack.cookies, clients)
    stack.idle()
    assert stack.daphne is not None
    recorder = Recorder(stack.daphne.pid, f"connect-{stack.variant}")
    windows, seconds, failed = await load.open_windows(stack.base, cookies)
    cores = recorder.stop()
    print(
        f"{len(windows)} connected in {seconds:.2f} s ({failed} failed), daphne {cores:.2f} cores"
    )
    print(summarize(recorder.path))
    await load.close_windows(windows)


async def fanout(stack: Stack, clients: int, messages: int, driver: Driver) -> None:
    cookies = await asyncio.to_thread(stack.cookies, clients)
    windows, _, _ = await load.open_windows(stack.base, cookies)
    stack.idle()
    assert stack.daphne is not None
    recorder = Recorder(stack.daphne.pid, f"fanout-{stack.variant}")

    async def send() -> None:
        variant = stack.variant.partition("+")[0]
        await asyncio.to_thread(driver.call, "broadcast", variant, messages)

    result = await load.fan_out(windows, messages, send, 120)
    cores = recorder.stop()
    print(
        f"{result['deliveries']:.0f} deliveries in {result['seconds']:.2f} s "
        f"({result['deliveries_per_s']:.0f}/s, lost {result['lost']:.0f}), daphne {cores:.2f} cores"
    )
    print(summarize(recorder.path))
    await load.close_windows(windows)


async def roundtrip(stack: Stack, clients: int, calls: int) -> None:
    stack.start_worker()
    cookies = await asyncio.to_thread(stack.cookies, clients)
    windows, _, _ = await load.open_windows(stack.base, cookies)
    frames = load.CallFrames(with_call_id=stack.variant.startswith("dfws"))
    for _ in range(60):
        n, text = frames.new()
        if await windows[0].call(n, text, 1.0) is not None:
            break
    await load.concurrent_calls(windows, frames, 10, 30)
    assert stack.daphne is not None and stack.worker is not None
    web = Recorder(stack.daphne.pid, f"roundtrip-{stack.variant}-daphne")
    worker = Recorder(stack.worker.pid, f"roundtrip-{stack.variant}-worker", children=True)
    latencies, seconds = await load.concurrent_calls(windows, frames, calls, 10)
    web_cores, worker_cores = web.stop(), worker.stop()
    done = [x for x in latencies if x is not None]
    print(
        f"{len(done)} round trips in {seconds:.2f} s ({len(done) / seconds:.0f}/s, "
        f"lost {len(latencies) - len(done)}); daphne {web_cores:.2f} cores, "
        f"worker {worker_cores:.2f} cores"
    )
    print(summarize(web.path))
    print(summarize(worker.path))
    await load.close_windows(windows)


def publish(variant: str, calls: int) -> None:
    driver = Driver("old" if variant == "old" else "dfws")
    try:
        driver.call("s2", variant, 200)
        recorder = Recorder(driver.service.pid, f"publish-{variant}")
        result = driver.call("s2", variant, calls)
        cores = recorder.stop()
        print(f"{result['rate']:.0f} publishes/s; driver {cores:.2f} cores")
        print(summarize(recorder.path))
    finally:
        driver.stop()


async def serve(args: argparse.Namespace) -> None:
    stack = stacks()[args.variant]
    driver = None
    try:
        stack.start()
        if args.scenario == "connect":
            await connect(stack, args.clients)
        elif args.scenario == "fanout":
            driver = Driver("old" if args.variant == "old" else "dfws")
            await fanout(stack, args.clients, args.messages, driver)
        else:
            await roundtrip(stack, args.clients, args.calls)
    finally:
        if driver is not None:
            driver.stop()
        stack.stop()


def snapshot(stack: Stack, directory: Path, number: int) -> Any:
    import tracemalloc

    assert stack.daphne is not None
    os.kill(stack.daphne.pid, signal.SIGUSR1)
    path = directory / f"{number}.pickle"
    procs.wait_until(path.exists, 120, "a tracemalloc snapshot")
    return tracemalloc.Snapshot.load(str(path))


async def memory(variant: str, clients: int, top: int) -> None:
    """Which code holds the memory of idle connections (tracemalloc, by package and line).

    As S7 runs it: a redis-server of its own (``procs.private_redis``), one fresh daphne
    (under ``memtrace``), a warm-up, then ``clients`` windows opened between two snapshots.
    Each allocation still alive is charged to its innermost frame outside the stdlib, and
    also (second list) to the innermost dfws frame on its traceback, if any: what dfws's
    code caused, wherever the bytes were allocated.
    """
    real = stacks()[variant]
    directory = PROFILES / f"memory-{variant}"
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.pickle"):
        old.unlink()
    redis, url = procs.private_redis(f"redis-memory-{variant}")
    base = procs.env_for(real.side)["PYTHONPATH"]
    env = {
        "BENCH_ASGI_APP": real.app,
        "BENCH_SNAPSHOT_DIR": str(directory),
        "PYTHONPATH": f"{base}:{procs.BENCH}",
        "BENCH_REDIS_URL": url,
        **real.env,
    }
    stack = Stack(variant, real.side, "memtrace:application", env)
    try:
        stack.start()
        warm, _, _ = await load.open_windows(stack.base, stack.cookies(2))
        await load.close_windows(warm)
        cookies = await asyncio.to_thread(stack.cookies, clients)
        stack.idle()
        before = snapshot(stack, directory, 1)
        windows, _, _ = await load.open_windows(stack.base, cookies)
        await asyncio.sleep(1)
        stack.idle()
        after = snapshot(stack, directory, 2)
        count = max(1, len(windows))
        await load.close_windows(windows)
    finally:
        stack.stop()
        redis.stop()
    packages: Counter[str] = Counter()
    sites: Counter[str] = Counter()
    caused: Counter[str] = Counter()
    blocks = 0
    for stat in after.compare_to(before, "traceback"):
        frames = [f"line {f.lineno} ({f.filename}:{f.lineno})" for f in stat.traceback]
        package, function = owner(frames)  # tracemalloc's tracebacks: innermost last
        packages[package] += stat.size_diff
        sites[f"{package}: {function}"] += stat.size_diff
        blocks += stat.count_diff
        ours = [f for f in reversed(stat.traceback) if "/dfws_" in f.filename]
        if ours:
            name = ours[0].filename.split("/dfws_", 1)[1]
            caused[f"dfws_{name}:{ours[0].lineno} -> {package}: {function}"] += stat.size_diff
    total = sum(packages.values())
    print(
        f"{variant}: {count} idle connections, Python heap +{total / count / 1024:.2f} KiB "
        f"each ({blocks / count:.0f} blocks)"
    )
    for name, size in packages.most_common(12):
        print(f"  {size / count / 1024:6.2f} KiB  {name}")
    print("  biggest sites:")
    for name, size in sites.most_common(top):
        print(f"  {size / count / 1024:6.2f} KiB  {name}")
    print(f"  caused by dfws code, {sum(caused.values()) / count / 1024:.2f} KiB in all:")
    for name, size in caused.most_common(top):
        print(f"  {size / count / 1024:6.2f} KiB  {name}")


async def ab(variants: list[str], clients: int, messages: int, reps: int) -> None:
    """No profiler: connect + fan-out for each variant in turn, CPU of daphne per operation."""
    servers = {v: stacks()[v] for v in variants}
    driver = Driver("dfws")
    rows: dict[str, list[tuple[float, float, float, float]]] = {v: [] for v in variants}
    try:
        for stack in servers.values():
            stack.start()
        for rep in range(reps):
            for variant, stack in servers.items():
                assert stack.daphne is not None
                cookies = await asyncio.to_thread(stack.cookies, clients)
                stack.idle()
                cpu = procs.cpu_seconds(stack.daphne.pid)
                windows, connect_s, _ = await load.open_windows(stack.base, cookies)
                cpu_connect = (procs.cpu_seconds(stack.daphne.pid) - cpu) * 1000 / len(windows)
                stack.idle()
                cpu = procs.cpu_seconds(stack.daphne.pid)

                async def send(sender: str = variant.partition("+")[0]) -> None:
                    await asyncio.to_thread(driver.call, "broadcast", sender, messages)

                result = await load.fan_out(windows, messages, send, 120)
                cpu_delivery = (
                    (procs.cpu_seconds(stack.daphne.pid) - cpu) * 1e6 / max(1, result["deliveries"])
                )
                rows[variant].append(
                    (connect_s, cpu_connect, result["deliveries_per_s"], cpu_delivery)
                )
                print(
                    f"rep {rep + 1} {variant:14} connect {connect_s:5.2f} s "
                    f"({cpu_connect:5.2f} ms CPU each); {result['deliveries_per_s']:6.0f} "
                    f"deliveries/s ({cpu_delivery:4.0f} µs CPU each), lost {result['lost']:.0f}",
                    flush=True,
                )
                await load.close_windows(windows)
                stack.idle()
    finally:
        driver.stop()
        for stack in servers.values():
            stack.stop()
    from bench.stats import median

    for variant, values in rows.items():
        columns = list(zip(*values, strict=True))
        print(
            f"{variant:14} median: connect {median(columns[0]):.2f} s, {median(columns[1]):.2f} ms "
            f"CPU/connect, {median(columns[2]):.0f} deliveries/s, {median(columns[3]):.0f} "
            "µs CPU/delivery"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "scenario", choices=["connect", "fanout", "roundtrip", "publish", "ab", "memory"]
    )
    parser.add_argument(
        "--variant",
        default="dfws",
        help="dfws, bare, old, dfws+dispatch|cache|both (publish: warm, a2s)",
    )
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--top", type=int, default=25, help="memory: sites listed")
    parser.add_argument("--reps", type=int, default=3, help="ab: repetitions")
    parser.add_argument("--variants", default="dfws,dfws+dispatch,dfws+cache,dfws+both")
    args = parser.parse_args()
    procs.raise_open_files_limit(16384)
    if args.scenario == "publish":
        publish(args.variant, args.calls)
    elif args.scenario == "memory":
        asyncio.run(memory(args.variant, args.clients, args.top))
    elif args.scenario == "ab":
        variants = args.variants.split(",")
        asyncio.run(ab(variants, args.clients, args.messages, args.reps))
    else:
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
