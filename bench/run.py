"""``make bench``: dfws side by side with raw Celery, raw Channels and df-websockets 1.2.6.

Every scenario runs dfws and its baselines alternately, several times, and
reports medians with their spread; ratios are taken per repetition (dfws
against the baseline measured right next to it) and their median reported.
``BENCH_QUICK=1`` makes a smoke run of a few minutes (written to
``bench/.work/RESULTS-quick-pubsub.md``); a full run rewrites the generated
part of ``bench/RESULTS.md`` and keeps the hand-written findings around it.
``BENCH_LAYER=list`` runs dfws on the list-based ``RedisChannelLayer``
instead of Redis Pub/Sub (written to ``bench/.work/RESULTS-*-list.md``).
S6-S8 (capacity, ``bench/capacity.py``) run before S1-S5; ``BENCH_ONLY=capacity`` or
``BENCH_ONLY=classic`` runs one part alone (written to ``bench/.work``, never to RESULTS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import capacity, load, procs
from bench.stats import median, percentile, spread

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
ONLY = os.environ.get("BENCH_ONLY", "")  # "classic" (S1-S5) or "capacity" (S6-S8): one part
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


@dataclass(frozen=True)
class Plan:
    reps: int
    s1_calls: int
    s2_fast_calls: int  # publishes that reuse a loop (dfws, warm group_send)
    s2_slow_calls: int  # publishes that build a loop per call (async_to_sync, 1.2.6)
    s3_reps: int
    s3_clients: int
    s3_broadcasts: int
    s4_runs: int
    s4_sequential: int
    s4_clients: int
    s4_calls: int
    s5_connections: int


# (S6-S8 take ~10 min since issue 14: fewer repetitions of S1-S4 keep the run under 25 min)
FULL = Plan(3, 1500, 2000, 400, 2, 500, 50, 3, 300, 20, 100, 1000)
SMOKE = Plan(2, 300, 400, 100, 1, 100, 20, 2, 60, 10, 20, 200)
PLAN = SMOKE if QUICK else FULL
CALL_TIMEOUT = 10.0


def say(text: str) -> None:
    print(text, flush=True)


# ---------------------------------------------------------------- results


class Results:
    """``values[(scenario, metric)][variant]`` = one value per repetition."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.notes: dict[str, str] = {}  # words beside the numbers (S6's limit, S8's commands)

    def add(self, scenario: str, metric: str, variant: str, value: float) -> None:
        self.values[(scenario, metric)][variant].append(value)

    def get(self, scenario: str, metric: str, variant: str) -> list[float]:
        return self.values[(scenario, metric)][variant]

    def ratio(self, scenario: str, metric: str, variant: str, other: str) -> list[float]:
        """dfws-side value / baseline value, per repetition (pairs measured side by side)."""
        mine, theirs = self.get(scenario, metric, variant), self.get(scenario, metric, other)
        return [a / b for a, b in zip(mine, theirs, strict=False) if b]

    def as_json(self) -> dict[str, Any]:
        return {f"{s}/{m}": dict(v) for (s, m), v in self.values.items()}


# ---------------------------------------------------------------- drivers


class Driver:
    """A ``bench/driver.py`` process, one JSON line per command."""

    def __init__(self, side: str, extra_env: dict[str, str] | None = None, name: str = "") -> None:
        self.side = side
        cwd = procs.OLD_PROJECT if side == "old" else procs.ROOT
        args = [procs.python_for(side), str(procs.BENCH / "driver.py"), side]
        env = procs.env_for(side, **(extra_env or {}))
        name = name or f"driver-{side}"
        self.service = procs.Service(name, args, env, cwd, pipes=True)
        ready = self._read()
        if ready.get("ready") != side:
            raise RuntimeError(f"driver {side} did not start: {self.service.output()}")

    def _read(self) -> dict[str, Any]:
        assert self.service.popen.stdout is not None
        line = self.service.popen.stdout.readline()
        if not line:
            raise RuntimeError(f"driver {self.side} died:\n{self.service.output()}")
        result: dict[str, Any] = json.loads(line)
        if "error" in result:
            raise RuntimeError(f"driver {self.side}: {result['error']}")
        return result

    def call(self, op: str, variant: str, n: int, **extra: Any) -> dict[str, Any]:
        assert self.service.popen.stdin is not None
        command = {"op": op, "variant": variant, "n": n, **extra}
        self.service.popen.stdin.write(json.dumps(command) + "\n")
        self.service.popen.stdin.flush()
        return self._read()

    def stop(self) -> None:
        if self.service.alive() and self.service.popen.stdin is not None:
            self.service.popen.stdin.write('{"op": "quit"}\n')
            self.service.popen.stdin.flush()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.service.popen.wait(10)
        self.service.stop()


# ---------------------------------------------------------------- S1, S2


def s1_s2(results: Results, main: Driver, old: Driver) -> None:
    say(f"S1 enqueue: {PLAN.s1_calls} calls x {PLAN.reps} repetitions")
    for rep in range(PLAN.reps):
        for driver, variant in ((main, "dfws"), (main, "raw"), (old, "old")):
            r = driver.call("s1", variant, PLAN.s1_calls)
            results.add("S1", "rate", variant, r["rate"])
            results.add("S1", "cpu", variant, r["cpu_us_per_call"])
            say(f"  rep {rep + 1} {variant:5} {r['rate']:8.0f} enqueues/s")
    say(f"S2 publish: {PLAN.s2_fast_calls}/{PLAN.s2_slow_calls} calls x {PLAN.reps} repetitions")
    plan = (
        (main, "dfws", PLAN.s2_fast_calls),
        (main, "a2s", PLAN.s2_slow_calls),
        (main, "warm", PLAN.s2_fast_calls),
        (old, "old", PLAN.s2_slow_calls),
    )
    for rep in range(PLAN.reps):
        for driver, variant, calls in plan:
            r = driver.call("s2", variant, calls)
            results.add("S2", "rate", variant, r["rate"])
            results.add("S2", "cpu", variant, r["cpu_us_per_call"])
            results.add("S2", "connects", variant, r["connects_per_1000"])
            results.add("S2", "server_connects", variant, r["server_connects_per_1000"])
            say(
                f"  rep {rep + 1} {variant:5} {r['rate']:8.0f} publishes/s, "
                f"{r['connects_per_1000']:6.1f} new Redis connections per 1,000 "
                f"(server-wide INFO: {r['server_connects_per_1000']:.1f})"
            )


# ---------------------------------------------------------------- servers


@dataclass
class Stack:
    """One daphne (and maybe a Celery worker) for one variant."""

    variant: str
    side: str
    app: str
    env: dict[str, str] = field(default_factory=dict)
    daphne: procs.Service | None = None
    port: int = 0
    worker: procs.Service | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def needs_page(self) -> bool:
        return self.variant not in ("bare", "floor")

    def start(self) -> None:
        if self.variant == "floor":  # not daphne: the raw websockets floor (bench/floor.py)
            self.daphne, self.port = procs.floor_server("floor")
            return
        if self.variant == "dfws-uvicorn":  # the same application under uvicorn
            self.daphne, self.port = procs.uvicorn(self.app, "uvicorn-dfws")
            return
        self.daphne, self.port = procs.daphne(
            self.side, self.app, f"daphne-{self.variant}", self.env
        )

    def start_worker(self) -> None:
        self.worker = procs.celery_worker(self.side, f"worker-{self.variant}", self.env)

    def stop(self) -> None:
        for service in (self.worker, self.daphne):
            if service is not None:
                service.stop()

    def cookies(self, count: int, path: str = "/") -> list[dict[str, str] | None]:
        if not self.needs_page:
            return [None] * count
        return list(load.fetch_cookies(self.base, count, path=path))

    def idle(self) -> None:
        assert self.daphne is not None
        procs.wait_idle(self.daphne.pid)

    def errors(self) -> int:
        """Tracebacks daphne logged (each is an exception inside the application)."""
        if self.daphne is None:
            return 0
        self.daphne.log.flush()
        return self.daphne.log_path.read_text(errors="replace").count("Traceback (most recent")


EXPERIMENTS_APP = "bench.project.experiments:application"
S3_VARIANTS = ("dfws", "dfws-nolimits", "dfws-nohistory", "dfws-uvicorn", "bare", "floor", "old")
NO_HISTORY = {"BENCH_HISTORY": "off", "BENCH_PREFIX": f"{procs.PREFIX}-nh"}


def stacks() -> dict[str, Stack]:
    """The servers compared; ``dfws+...`` are dfws with the changes proposed in RESULTS.md."""
    return {
        "dfws": Stack("dfws", "dfws", "dfws_web.asgi:application"),
        # the same with every limit switched off: what the limits cost, on vs off
        "dfws-nolimits": Stack(
            "dfws-nolimits", "dfws", "dfws_web.asgi:application", {"BENCH_LIMITS": "off"}
        ),
        # the same without the per-topic history, on its own prefix (daphne, driver, worker)
        "dfws-nohistory": Stack("dfws-nohistory", "dfws", "dfws_web.asgi:application", NO_HISTORY),
        "bare": Stack("bare", "dfws", "bench.project.bare:application"),
        # dfws under uvicorn --ws websockets (same prefix, driver and worker as dfws)
        "dfws-uvicorn": Stack("dfws-uvicorn", "dfws", "dfws_web.asgi:application"),
        # the floor: a raw asyncio websockets server writing each Redis message to its clients
        "floor": Stack("floor", "dfws", "bench/floor.py"),
        "old": Stack("old", "old", "df_websockets.routing:application"),
        "dfws+dispatch": Stack(
            "dfws+dispatch", "dfws", EXPERIMENTS_APP, {"BENCH_EXPERIMENTS": "dispatch"}
        ),
        "dfws+cache": Stack("dfws+cache", "dfws", EXPERIMENTS_APP, {"BENCH_EXPERIMENTS": "cache"}),
        "dfws+both": Stack(
            "dfws+both", "dfws", EXPERIMENTS_APP, {"BENCH_EXPERIMENTS": "dispatch,cache"}
        ),
    }


# ---------------------------------------------------------------- S5


async def s5(results: Results, servers: dict[str, Stack]) -> None:
    count = PLAN.s5_connections
    say(f"S5 memory: {count} idle connections to a fresh daphne")
    for variant in ("dfws", "bare", "old"):
        stack = servers[variant]
        assert stack.daphne is not None
        warm = await load.open_windows(stack.base, stack.cookies(2))
        await load.close_windows(warm[0])
        cookies = await asyncio.to_thread(stack.cookies, count)
        await asyncio.sleep(1)
        stack.idle()
        before = procs.rss(stack.daphne.pid)
        windows, seconds, failed = await load.open_windows(stack.base, cookies)
        await asyncio.sleep(2)
        stack.idle()
        after = procs.rss(stack.daphne.pid)
        per_connection = (after - before) / max(1, len(windows)) / 1024
        results.add("S5", "kib_per_connection", variant, per_connection)
        results.add("S5", "rss_mib", variant, after / 2**20)
        results.add("S5", "connect_seconds", variant, seconds)
        say(
            f"  {variant:5} {per_connection:6.1f} KiB per connection "
            f"(RSS {before / 2**20:.0f} -> {after / 2**20:.0f} MiB, {len(windows)} connected "
            f"in {seconds:.1f} s, {failed} failed)"
        )
        await load.close_windows(windows)
        stack.idle()


# ---------------------------------------------------------------- S3


def floor_broadcaster(count: int) -> Callable[[], Any]:
    """The S3 broadcasts of the floor: one pre-encoded frame per PUBLISH."""
    import redis

    def publish() -> None:
        client = redis.Redis.from_url(procs.REDIS_URL)
        channel = f"{procs.PREFIX}:{procs.FLOOR_CHANNEL}"
        for i in range(count):
            client.publish(channel, json.dumps({"signal": "bench.bcast", "opts": {"seq": i}}))
        client.close()

    async def send() -> None:
        await asyncio.to_thread(publish)

    return send


def broadcaster(drivers: dict[str, Driver], variant: str, count: int) -> Callable[[], Any]:
    if variant == "floor":
        return floor_broadcaster(count)
    driver = drivers.get(variant) or (drivers["old"] if variant == "old" else drivers["dfws"])
    variant = variant.partition("+")[0].partition("-")[0]  # a dfws variant: the same sender

    async def send() -> None:
        await asyncio.to_thread(driver.call, "broadcast", variant, count)

    return send


async def s3(results: Results, servers: dict[str, Stack], drivers: dict[str, Driver]) -> None:
    clients, messages = PLAN.s3_clients, PLAN.s3_broadcasts
    say(f"S3 fan-out: {clients} clients, {messages} broadcasts x {PLAN.s3_reps} repetitions")
    for rep in range(PLAN.s3_reps):
        for variant in S3_VARIANTS:
            stack = servers[variant]
            cookies = await asyncio.to_thread(stack.cookies, clients)
            stack.idle()
            assert stack.daphne is not None
            cpu = procs.cpu_seconds(stack.daphne.pid)
            windows, connect_seconds, failed = await load.open_windows(stack.base, cookies)
            cpu_connect = procs.cpu_seconds(stack.daphne.pid) - cpu
            await asyncio.sleep(0.5)
            stack.idle()
            timeout = max(60.0, clients * messages / 200)
            cpu = procs.cpu_seconds(stack.daphne.pid)
            r = await load.fan_out(
                windows, messages, broadcaster(drivers, variant, messages), timeout
            )
            cpu_fan_out = procs.cpu_seconds(stack.daphne.pid) - cpu
            results.add("S3", "cpu_connect", variant, cpu_connect * 1000 / max(1, len(windows)))
            results.add("S3", "cpu_delivery", variant, cpu_fan_out * 1e6 / max(1, r["deliveries"]))
            lost = r["lost"] + failed * messages
            results.add("S3", "connect_seconds", variant, connect_seconds)
            results.add("S3", "deliveries_per_s", variant, r["deliveries_per_s"])
            results.add("S3", "all_delivered_seconds", variant, r["seconds"])
            results.add("S3", "lost", variant, lost)
            say(
                f"  rep {rep + 1} {variant:5} connect {connect_seconds:5.1f} s, all delivered in "
                f"{r['seconds']:5.1f} s, {r['deliveries_per_s']:6.0f} deliveries/s, lost {lost:.0f}"
            )
            await load.close_windows(windows)
            stack.idle()


async def s3_sessions(results: Results, stack: Stack) -> None:
    """What checking the session and the user costs at connect: logged-in vs anonymous pages."""
    clients = PLAN.s3_clients
    say(f"S3 connect of logged-in pages: {clients} clients x {PLAN.s3_reps} repetitions")
    await asyncio.to_thread(stack.cookies, 1, "/login/")  # the bench user exists from now on
    for rep in range(PLAN.s3_reps):
        for kind, path in (("anonymous", "/"), ("session", "/login/")):
            cookies = await asyncio.to_thread(stack.cookies, clients, path)
            stack.idle()
            assert stack.daphne is not None
            cpu = procs.cpu_seconds(stack.daphne.pid)
            windows, seconds, failed = await load.open_windows(stack.base, cookies)
            per_connect = (procs.cpu_seconds(stack.daphne.pid) - cpu) * 1000 / max(1, len(windows))
            results.add("S3", f"cpu_connect_{kind}", "dfws", per_connect)
            say(
                f"  rep {rep + 1} {kind:9} connect {seconds:5.1f} s, "
                f"{per_connect:.2f} ms CPU each, {failed} failed"
            )
            await load.close_windows(windows)
            stack.idle()


# ---------------------------------------------------------------- S4


S4_BLOCKS = 6  # the sequential calls of each run, in this many blocks per variant


async def s4(results: Results, servers: dict[str, Stack]) -> None:
    say(
        f"S4 round trip: {PLAN.s4_sequential} sequential calls (in {S4_BLOCKS} blocks, the "
        "variants interleaved), "
        f"{PLAN.s4_clients} clients x {PLAN.s4_calls} calls, x {PLAN.s4_runs} runs"
    )
    # "bare": the floor, the round trip written by hand (bench/project/bare.py, /ws/call/);
    # "dfws-reply": dfws's daphne and worker, the handler answering with its result (the
    # floor's equivalent); the others answer with a pong signal, as df-websockets 1.2.6 can
    variants = ("dfws", "dfws-reply", "dfws-nolimits", "dfws-nohistory", "bare", "old")
    servers = {**servers, "dfws-reply": servers["dfws"]}
    windows: dict[str, list[load.Window]] = {}
    frames: dict[str, load.CallFrames] = {}
    for variant in variants:
        stack = servers[variant]
        cookies = await asyncio.to_thread(stack.cookies, PLAN.s4_clients + 1)
        path = "/ws/call/" if variant == "bare" else "/ws/"
        windows[variant], _, failed = await load.open_windows(stack.base, cookies, path=path)
        if failed:
            raise RuntimeError(f"S4 {variant}: {failed} windows could not connect")
        signal = "bench.reply" if variant == "dfws-reply" else "bench.echo"
        frames[variant] = load.CallFrames(with_call_id=variant.startswith("dfws"), signal=signal)
        first = windows[variant][0]
        # the worker is starting: wait for a first answer, then warm both pool processes (a
        # call refused at once — no_consumer until daphne's queue watch has seen the worker —
        # is retried after a pause, for 60 s in all)
        deadline = time.monotonic() + 60
        while True:
            n, text = frames[variant].new()
            if await first.call(n, text, 1.0) is not None:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"S4 {variant}: no answer from the worker in 60 s")
            await asyncio.sleep(0.5)
        warm = await load.concurrent_calls(windows[variant][1:5], frames[variant], 10, 30)
        if any(x is None for x in warm[0]):
            raise RuntimeError(f"S4 {variant}: warm-up calls were lost")
    for run in range(PLAN.s4_runs):
        # the sequential calls of every variant interleaved in blocks, so that what the
        # machine does meanwhile (other engineers' runs, a worker's housekeeping) weighs on
        # each variant alike: the p50 ratios are taken between neighbours
        refused_before = {v: sum(len(w.refused) for w in windows[v]) for v in variants}
        sequentials: dict[str, list[float | None]] = {v: [] for v in variants}
        block = max(1, PLAN.s4_sequential // S4_BLOCKS)
        for _ in range(S4_BLOCKS):
            for variant in variants:
                sequentials[variant] += await load.sequential_calls(
                    windows[variant][0], frames[variant], block, CALL_TIMEOUT
                )
        for variant in variants:
            others = windows[variant][1:]
            sequential = sequentials[variant]
            ok = [x * 1000 for x in sequential if x is not None]
            for q in (50, 90, 99):
                results.add("S4", f"seq_p{q}", variant, percentile(ok, q))
            stack = servers[variant]
            worker = stack.worker or servers["dfws"].worker  # nolimits and bare share dfws's
            assert stack.daphne is not None and worker is not None
            cpu_web, cpu_worker = (
                procs.cpu_seconds(stack.daphne.pid),
                procs.cpu_seconds(worker.pid),
            )
            cpu_client, cpu_redis = time.process_time(), redis_cpu_seconds()
            latencies, seconds = await load.concurrent_calls(
                others, frames[variant], PLAN.s4_calls, CALL_TIMEOUT
            )
            done = [x * 1000 for x in latencies if x is not None]
            cpu_web = procs.cpu_seconds(stack.daphne.pid) - cpu_web
            cpu_worker = procs.cpu_seconds(worker.pid) - cpu_worker
            # the same two cores also run the load's websocket clients and Redis
            cpu_client = time.process_time() - cpu_client
            cpu_redis = redis_cpu_seconds() - cpu_redis
            per_call = 1000 / max(1, len(done))
            results.add("S4", "cpu_daphne", variant, cpu_web * per_call)
            results.add("S4", "cpu_worker", variant, cpu_worker * per_call)
            results.add("S4", "cpu_client", variant, cpu_client * per_call)
            results.add("S4", "cpu_redis", variant, cpu_redis * per_call)
            lost = len(latencies) - len(done) + len(sequential) - len(ok)
            results.add("S4", "rate", variant, len(done) / seconds)
            results.add("S4", "conc_p50", variant, percentile(done, 50))
            results.add("S4", "conc_p99", variant, percentile(done, 99))
            results.add("S4", "lost", variant, lost)
            refused = sum(len(w.refused) for w in windows[variant]) - refused_before[variant]
            say(
                f"  run {run + 1} {variant:5} sequential p50/p90/p99 "
                f"{percentile(ok, 50):5.1f}/{percentile(ok, 90):5.1f}/{percentile(ok, 99):5.1f} "
                f"ms; concurrent {len(done) / seconds:5.0f} round trips/s, p50/p99 "
                f"{percentile(done, 50):5.1f}/{percentile(done, 99):6.1f} ms, lost {lost} "
                f"(refused by the server: {refused})"
            )
    for variant in variants:
        await load.close_windows(windows[variant])


# ---------------------------------------------------------------- report


def versions() -> dict[str, str]:
    names = ["Django", "celery", "kombu", "redis", "channels", "channels_redis", "daphne"]
    names += ["Twisted", "websockets"]
    mine = {name: metadata.version(name) for name in names}
    script = (
        "import json, importlib.metadata as m; print(json.dumps({n: m.version(n) for n in "
        + repr(["df_websockets", *names[:7]])
        + "}))"
    )
    old = subprocess.run([procs.OLD_PYTHON, "-c", script], capture_output=True, text=True)
    theirs = json.loads(old.stdout) if old.returncode == 0 else {}
    mine["df-websockets venv"] = ", ".join(f"{k} {v}" for k, v in theirs.items())
    return mine


def redis_cpu_seconds() -> float:
    """CPU used by the whole Redis server so far (other users of this Redis included)."""
    import redis

    client = redis.Redis(host=procs.REDIS_HOST, port=procs.REDIS_PORT)
    try:
        info = client.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    finally:
        client.close()


def redis_version() -> str:
    import redis

    client = redis.Redis(host=procs.REDIS_HOST, port=procs.REDIS_PORT)
    try:
        return str(client.info("server")["redis_version"])
    finally:
        client.close()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> str:
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=procs.ROOT, capture_output=True, text=True)
        return result.stdout.strip()

    dirty = (
        " (with uncommitted changes)"
        if git("status", "--porcelain", "dfws_celery", "dfws_web")
        else ""
    )
    return git("rev-parse", "--short", "HEAD") + dirty


Row = tuple[str, str, str, str, str, str, str, str]


def fmt_ratio(values: list[float]) -> str:
    return spread(values, ".2f") + "x" if values else "-"


def check(values: list[float], ok: Callable[[float], bool]) -> str:
    return ("yes" if ok(median(values)) else "**no**") if values else "-"


def table(r: Results) -> list[Row]:
    g = r.get
    rows: list[Row] = []

    # S1
    ratio = r.ratio("S1", "rate", "dfws", "raw")
    rows.append((
        "S1 enqueue to SERVER, calls/s", spread(g("S1", "rate", "dfws"), ".0f"),
        "raw `apply_async`: " + spread(g("S1", "rate", "raw"), ".0f"),
        spread(g("S1", "rate", "old"), ".0f"),
        fmt_ratio(ratio), fmt_ratio(r.ratio("S1", "rate", "dfws", "old")),
        "vs raw ≥ 0.83x (time ≤ 1.2x)", check(ratio, lambda x: x >= 1 / 1.2),
    ))  # fmt: skip
    rows.append((
        "S1 driver CPU per enqueue, µs", spread(g("S1", "cpu", "dfws"), ".0f"),
        "raw: " + spread(g("S1", "cpu", "raw"), ".0f"), spread(g("S1", "cpu", "old"), ".0f"),
        fmt_ratio(r.ratio("S1", "cpu", "dfws", "raw")),
        fmt_ratio(r.ratio("S1", "cpu", "dfws", "old")), "", "",
    ))  # fmt: skip
    # S2
    warm = r.ratio("S2", "rate", "dfws", "warm")
    rows.append((
        "S2 publish to a topic from sync code, calls/s", spread(g("S2", "rate", "dfws"), ".0f"),
        "`async_to_sync(group_send)`: " + spread(g("S2", "rate", "a2s"), ".0f"),
        spread(g("S2", "rate", "old"), ".0f"),
        fmt_ratio(r.ratio("S2", "rate", "dfws", "a2s")),
        fmt_ratio(r.ratio("S2", "rate", "dfws", "old")), "", "",
    ))  # fmt: skip
    rows.append((
        "S2 … against the warm-loop ceiling, calls/s", spread(g("S2", "rate", "dfws"), ".0f"),
        "`group_send` in one warm loop: " + spread(g("S2", "rate", "warm"), ".0f"), "",
        fmt_ratio(warm), "", "vs warm loop ≥ 0.8x", check(warm, lambda x: x >= 0.8),
    ))  # fmt: skip
    rows.append((
        "S2 driver CPU per publish, µs", spread(g("S2", "cpu", "dfws"), ".0f"),
        f"async_to_sync: {spread(g('S2', 'cpu', 'a2s'), '.0f')}; "
        f"warm: {spread(g('S2', 'cpu', 'warm'), '.0f')}",
        spread(g("S2", "cpu", "old"), ".0f"), fmt_ratio(r.ratio("S2", "cpu", "dfws", "warm"))
        + " (vs warm)", fmt_ratio(r.ratio("S2", "cpu", "dfws", "old")), "", "",
    ))  # fmt: skip
    conns = g("S2", "connects", "dfws")
    rows.append((
        "S2 new Redis connections per 1,000 publishes", spread(conns, ".1f"),
        f"async_to_sync: {spread(g('S2', 'connects', 'a2s'), '.0f')}; "
        f"warm: {spread(g('S2', 'connects', 'warm'), '.1f')}",
        spread(g("S2", "connects", "old"), ".0f"), "", "",
        "does not grow with calls (≤ 1)", check(conns, lambda x: x <= 1),
    ))  # fmt: skip
    # S3
    clients, messages = PLAN.s3_clients, PLAN.s3_broadcasts
    c_old = r.ratio("S3", "connect_seconds", "dfws", "old")
    rows.append((
        f"S3 connect {clients} clients, s", spread(g("S3", "connect_seconds", "dfws"), ".1f"),
        "bare Channels consumer: " + spread(g("S3", "connect_seconds", "bare"), ".1f"),
        spread(g("S3", "connect_seconds", "old"), ".1f"),
        fmt_ratio(r.ratio("S3", "connect_seconds", "dfws", "bare")), fmt_ratio(c_old),
        "vs 1.2.6 ≤ 0.33x (≥ 3x faster)", check(c_old, lambda x: x <= 1 / 3),
    ))  # fmt: skip
    d_old = r.ratio("S3", "deliveries_per_s", "dfws", "old")
    d_bare = r.ratio("S3", "deliveries_per_s", "dfws", "bare")
    rows.append((
        f"S3 {messages} broadcasts to {clients} clients, deliveries/s",
        spread(g("S3", "deliveries_per_s", "dfws"), ".0f"),
        "bare Channels consumer: " + spread(g("S3", "deliveries_per_s", "bare"), ".0f"),
        spread(g("S3", "deliveries_per_s", "old"), ".0f"),
        fmt_ratio(d_bare), fmt_ratio(d_old), "vs bare ≥ 0.77x (≤ 1.3x slower); vs 1.2.6 ≥ 3x",
        "yes" if d_bare and d_old and median(d_bare) >= 1 / 1.3 and median(d_old) >= 3
        else "**no**",
    ))  # fmt: skip
    rows.append((
        "S3 time until every client has every message, s",
        spread(g("S3", "all_delivered_seconds", "dfws"), ".1f"),
        "bare: " + spread(g("S3", "all_delivered_seconds", "bare"), ".1f"),
        spread(g("S3", "all_delivered_seconds", "old"), ".1f"), "", "", "", "",
    ))  # fmt: skip
    rows.append((
        "S3 daphne CPU per connect, ms", spread(g("S3", "cpu_connect", "dfws"), ".2f"),
        "bare: " + spread(g("S3", "cpu_connect", "bare"), ".2f"),
        spread(g("S3", "cpu_connect", "old"), ".2f"),
        fmt_ratio(r.ratio("S3", "cpu_connect", "dfws", "bare")),
        fmt_ratio(r.ratio("S3", "cpu_connect", "dfws", "old")), "", "",
    ))  # fmt: skip
    rows.append((
        "S3 daphne CPU per delivery, µs", spread(g("S3", "cpu_delivery", "dfws"), ".0f"),
        "bare: " + spread(g("S3", "cpu_delivery", "bare"), ".0f"),
        spread(g("S3", "cpu_delivery", "old"), ".0f"),
        fmt_ratio(r.ratio("S3", "cpu_delivery", "dfws", "bare")),
        fmt_ratio(r.ratio("S3", "cpu_delivery", "dfws", "old")), "", "",
    ))  # fmt: skip
    lost3 = g("S3", "lost", "dfws")
    rows.append((
        "S3 lost messages (sum over repetitions)", f"{sum(lost3):.0f}",
        f"bare: {sum(g('S3', 'lost', 'bare')):.0f}", f"{sum(g('S3', 'lost', 'old')):.0f}",
        "", "", "0", "yes" if lost3 and sum(lost3) == 0 else "**no**",
    ))  # fmt: skip
    # S4
    p50 = r.ratio("S4", "seq_p50", "dfws", "old")
    seq = "/".join(f"{median(g('S4', f'seq_p{q}', 'dfws')):.1f}" for q in (50, 90, 99))
    seq_old = "/".join(f"{median(g('S4', f'seq_p{q}', 'old')):.1f}" for q in (50, 90, 99))
    rows.append((
        f"S4 {PLAN.s4_sequential} sequential round trips, p50/p90/p99 ms", seq, "", seq_old, "",
        fmt_ratio(p50) + " (p50)", "p50 vs 1.2.6 ≤ 0.5x", check(p50, lambda x: x <= 0.5),
    ))  # fmt: skip
    rate = r.ratio("S4", "rate", "dfws", "old")
    rows.append((
        f"S4 {PLAN.s4_clients} clients x {PLAN.s4_calls} calls, round trips/s",
        spread(g("S4", "rate", "dfws"), ".0f"), "", spread(g("S4", "rate", "old"), ".0f"), "",
        fmt_ratio(rate), "vs 1.2.6 ≥ 2x", check(rate, lambda x: x >= 2),
    ))  # fmt: skip
    rows.append((
        "S4 concurrent p50/p99 ms",
        f"{median(g('S4', 'conc_p50', 'dfws')):.0f}/{median(g('S4', 'conc_p99', 'dfws')):.0f}",
        "", f"{median(g('S4', 'conc_p50', 'old')):.0f}/{median(g('S4', 'conc_p99', 'old')):.0f}",
        "", fmt_ratio(r.ratio("S4", "conc_p50", "dfws", "old")) + " (p50)", "", "",
    ))  # fmt: skip
    # the floor of a round trip: a bare consumer, a plain task, group_send (bench/project/bare.py),
    # against dfws's own reply (the handler's result: bench.reply); then dfws answering with a
    # pong signal (bench.echo: one more frame published, kept and delivered per call)
    p50_floor = r.ratio("S4", "seq_p50", "dfws-reply", "bare")
    rows.append((
        "S4 sequential round trip p50 against the floor (bare consumer → plain task → "
        "group_send; dfws: the handler's result), ms",
        spread(g("S4", "seq_p50", "dfws-reply"), ".2f"),
        "floor: " + spread(g("S4", "seq_p50", "bare"), ".2f"), "",
        fmt_ratio(p50_floor) + " (dfws / floor)", "", "≤ 1.2x",
        check(p50_floor, lambda x: x <= 1.2),
    ))  # fmt: skip
    rate_floor = r.ratio("S4", "rate", "bare", "dfws-reply")  # floor / dfws: time per round trip
    rows.append((
        "S4 concurrent round trips/s against the floor (dfws: the handler's result)",
        spread(g("S4", "rate", "dfws-reply"), ".0f"),
        "floor: " + spread(g("S4", "rate", "bare"), ".0f"), "",
        fmt_ratio(rate_floor) + " (time: floor's rate / dfws's)", "", "≤ 1.2x",
        check(rate_floor, lambda x: x <= 1.2),
    ))  # fmt: skip
    for metric, label in (("cpu_daphne", "daphne"), ("cpu_worker", "worker")):
        rows.append((
            f"S4 {label} CPU per round trip against the floor (dfws: the handler's result), ms",
            spread(g("S4", metric, "dfws-reply"), ".2f"),
            "floor: " + spread(g("S4", metric, "bare"), ".2f"), "",
            fmt_ratio(r.ratio("S4", metric, "dfws-reply", "bare")) + " (dfws / floor)", "", "",
            "",
        ))  # fmt: skip
    pong_floor = r.ratio("S4", "seq_p50", "dfws", "bare")
    rows.append((
        "S4 … dfws answering with a pong signal instead (3 frames per call: ack, pong, result), "
        "sequential p50, ms", spread(g("S4", "seq_p50", "dfws"), ".2f"),
        "floor: " + spread(g("S4", "seq_p50", "bare"), ".2f"), "",
        fmt_ratio(pong_floor) + " (dfws / floor)", "", "", "",
    ))  # fmt: skip
    rows.append(cpu_pair_row(
        r, "S4 CPU per round trip, ms (daphne + worker)", ("cpu_daphne", "daphne"),
        ("cpu_worker", "worker"),
    ))  # fmt: skip
    rows.append(cpu_pair_row(
        r, "S4 … CPU of the load's clients + Redis (whole server) per round trip, ms",
        ("cpu_client", "clients"), ("cpu_redis", "Redis"),
    ))  # fmt: skip
    lost4 = g("S4", "lost", "dfws")
    rows.append((
        f"S4 lost round trips (sum over {PLAN.s4_runs} runs)", f"{sum(lost4):.0f}", "",
        f"{sum(g('S4', 'lost', 'old')):.0f}", "", "", "0",
        "yes" if lost4 and sum(lost4) == 0 else "**no**",
    ))  # fmt: skip
    # the limits, on vs off (dfws with every limit switched off, measured beside it)
    for scenario, metric, title, unit in (
        ("S3", "cpu_connect", "daphne CPU per connect", "ms"),
        ("S3", "cpu_delivery", "daphne CPU per delivery", "µs"),
        ("S4", "cpu_daphne", "daphne CPU per round trip", "ms"),
        ("S4", "seq_p50", "sequential round trip p50", "ms"),
    ):
        rows.append((
            f"Limits on vs off: {scenario} {title}, {unit}",
            spread(g(scenario, metric, "dfws"), ".2f"),
            "limits off: " + spread(g(scenario, metric, "dfws-nolimits"), ".2f"), "",
            fmt_ratio(r.ratio(scenario, metric, "dfws", "dfws-nolimits")) + " (on / off)",
            "", "", "",
        ))  # fmt: skip
    # the floor of a delivery (issue 17): a raw websockets server, one pre-encoded frame
    floor = r.ratio("S3", "cpu_delivery", "dfws", "floor")
    rows.append((
        "S3 server CPU per delivery against the floor (raw asyncio websockets), µs",
        spread(g("S3", "cpu_delivery", "dfws"), ".1f"),
        "floor: " + spread(g("S3", "cpu_delivery", "floor"), ".1f"), "",
        fmt_ratio(floor) + " (dfws / floor)", "", "≤ 3x", check(floor, lambda x: x <= 3),
    ))  # fmt: skip
    rows.append((
        "S3 server CPU per delivery, daphne against uvicorn (--ws websockets), µs",
        spread(g("S3", "cpu_delivery", "dfws"), ".1f"),
        "uvicorn: " + spread(g("S3", "cpu_delivery", "dfws-uvicorn"), ".1f"), "",
        fmt_ratio(r.ratio("S3", "cpu_delivery", "dfws", "dfws-uvicorn")) + " (daphne / uvicorn)",
        "", "", "",
    ))  # fmt: skip
    rows.append((
        "S3 server CPU per connect, daphne against uvicorn, ms",
        spread(g("S3", "cpu_connect", "dfws"), ".2f"),
        "uvicorn: " + spread(g("S3", "cpu_connect", "dfws-uvicorn"), ".2f"), "",
        fmt_ratio(r.ratio("S3", "cpu_connect", "dfws", "dfws-uvicorn")) + " (daphne / uvicorn)",
        "", "", "",
    ))  # fmt: skip
    rows.append((
        "S3 deliveries/s against the floor",
        spread(g("S3", "deliveries_per_s", "dfws"), ".0f"),
        "floor: " + spread(g("S3", "deliveries_per_s", "floor"), ".0f"), "",
        fmt_ratio(r.ratio("S3", "deliveries_per_s", "dfws", "floor")) + " (dfws / floor)",
        "", "", "",
    ))  # fmt: skip
    # the per-topic history, on vs off (dfws without WEBSOCKET_HISTORY, beside it)
    for scenario, metric, title, unit in (
        ("S3", "deliveries_per_s", "deliveries per second", "/s"),
        ("S3", "cpu_delivery", "daphne CPU per delivery", "µs"),
        ("S4", "seq_p50", "sequential round trip p50", "ms"),
        ("S4", "cpu_daphne", "daphne CPU per round trip", "ms"),
        ("S4", "cpu_worker", "worker CPU per round trip", "ms"),
    ):
        ratio = r.ratio(scenario, metric, "dfws", "dfws-nohistory")
        target, verdict = "", ""
        if metric == "deliveries_per_s":
            target, verdict = "≥ 0.7x", check(ratio, lambda x: x >= 0.7)
        elif metric == "seq_p50":
            target, verdict = "≤ 1.1x", check(ratio, lambda x: x <= 1.1)
        rows.append((
            f"History on vs off: {scenario} {title}, {unit}",
            spread(g(scenario, metric, "dfws"), ".2f"),
            "history off: " + spread(g(scenario, metric, "dfws-nohistory"), ".2f"), "",
            fmt_ratio(ratio) + " (on / off)", "", target, verdict,
        ))  # fmt: skip
    anonymous = g("S3", "cpu_connect_anonymous", "dfws")
    logged_in = g("S3", "cpu_connect_session", "dfws")
    session = [a / b for a, b in zip(logged_in, anonymous, strict=False) if b]
    rows.append((
        "S3 daphne CPU per connect of a logged-in page (session and user checked), ms",
        spread(logged_in, ".2f"), "anonymous page: " + spread(anonymous, ".2f"), "",
        fmt_ratio(session) + " (logged in / anonymous)", "", "", "",
    ))  # fmt: skip
    # S5
    mem = r.ratio("S5", "kib_per_connection", "dfws", "old")
    rows.append((
        f"S5 daphne RSS per idle connection ({PLAN.s5_connections}), KiB",
        spread(g("S5", "kib_per_connection", "dfws"), ".1f"),
        "bare Channels consumer: " + spread(g("S5", "kib_per_connection", "bare"), ".1f"),
        spread(g("S5", "kib_per_connection", "old"), ".1f"),
        fmt_ratio(r.ratio("S5", "kib_per_connection", "dfws", "bare")), fmt_ratio(mem),
        "vs 1.2.6 ≤ 1x", check(mem, lambda x: x <= 1),
    ))  # fmt: skip
    rows.append((
        f"S5 time to connect {PLAN.s5_connections} clients, s",
        spread(g("S5", "connect_seconds", "dfws"), ".1f"),
        "bare: " + spread(g("S5", "connect_seconds", "bare"), ".1f"),
        spread(g("S5", "connect_seconds", "old"), ".1f"),
        fmt_ratio(r.ratio("S5", "connect_seconds", "dfws", "bare")),
        fmt_ratio(r.ratio("S5", "connect_seconds", "dfws", "old")), "", "",
    ))  # fmt: skip
    return rows


def cpu_pair_row(r: Results, title: str, first: tuple[str, str], second: tuple[str, str]) -> Row:
    """Two S4 CPU measures side by side: ``a + b`` for dfws and 1.2.6, and both ratios."""

    def cell(variant: str) -> str:
        a, b = (spread(r.get("S4", metric, variant), ".2f") for metric, _ in (first, second))
        return f"{a} + {b}"

    ratios = "; ".join(
        f"{fmt_ratio(r.ratio('S4', metric, 'dfws', 'old'))} ({label})"
        for metric, label in (first, second)
    )
    return (title, cell("dfws"), "", cell("old"), "", ratios, "", "")


HEADER = ("measure", "dfws", "raw Celery / Channels baseline", "df-websockets 1.2.6",
          "dfws / raw", "dfws / 1.2.6", "target (on the ratio)", "holds")  # fmt: skip


def markdown(rows: list[Row], info: dict[str, Any]) -> str:
    lines = [
        f"Generated by `{info['command']}` on {info['date']} in {info['seconds']:.0f} s "
        f"({'smoke run' if QUICK else 'full run'}).",
        "",
        f"- Machine: {info['cores']} cores ({info['cpu']}), {info['memory_gib']:.0f} GiB, "
        f"{info['os']}; load average {info['load_before']} before, {info['load_after']} after "
        "(other engineers' test suites share this machine and this Redis).",
        f"- Python {info['python']}; Redis {info['redis']} at 127.0.0.1:6379 DB "
        f"{procs.REDIS_DB}; dfws at {info['revision']}, channel layer "
        f"{LAYERS[procs.LAYER]} (`BENCH_LAYER={procs.LAYER}`).",
        "- Versions (dfws venv): "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if k != "df-websockets venv")
        + ".",
        "- df-websockets venv (`bench/.work/venv-dfws-old`): "
        + info["versions"]["df-websockets venv"]
        + ".",
        f"- Plan: {info['plan']}.",
        "- Exceptions logged by the daphne processes: "
        + ", ".join(f"{v} {n:.0f}" for v, n in info["errors"].items())
        + ".",
        f"- Open files: the bench raises its soft `RLIMIT_NOFILE` to the hard limit, "
        f"{info['open_files']}, as an operator's `LimitNOFILE=` would; every daphne it "
        f"starts inherits it (read back from S7's daphne: "
        f"{info['notes'].get('S7 daphne open files', '-')}). S6-S8 run on a redis-server of "
        "the bench's own (its CPU and `INFO commandstats` are the bench's alone), with the "
        "windows spread over 4 load processes, each from its own loopback address "
        "(127.0.0.2-5).",
        "",
        "Cells are `median (min-max)` over the repetitions; ratios are dfws / the baseline "
        "measured right next to it in the same repetition, then the median of those.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    limits = [f"{k[9:]}: {v}" for k, v in info["notes"].items() if k.startswith("S6 limit")]
    if limits:
        lines += ["", "S6, the busiest process at the last step missed: " + "; ".join(limits)]
    lines += info["capacity"]
    return "\n".join(lines) + "\n"


LAYERS = {
    "pubsub": "`RedisPubSubChannelLayer` (`redis_pubsub_channel_layer()`, recommended)",
    "list": "`RedisChannelLayer` (`redis_channel_layer()`)",
}


def publish(text: str) -> Path:
    """Full runs on the recommended layer go to RESULTS.md, the others to bench/.work."""
    if QUICK or procs.LAYER != "pubsub" or ONLY:
        name = (
            f"RESULTS-{'quick' if QUICK else 'full'}-{procs.LAYER}{'-' + ONLY if ONLY else ''}.md"
        )
        path = procs.WORK / name
        path.write_text(f"# dfws bench — {name[8:-3]}\n\n{BEGIN}\n{text}{END}\n")
        return path
    path = procs.BENCH / "RESULTS.md"
    current = path.read_text() if path.exists() else f"# dfws bench results\n\n{BEGIN}\n{END}\n"
    head, _, rest = current.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{BEGIN}\n{text}{END}{tail}")
    return path


def print_table(rows: list[Row]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(HEADER, *rows, strict=True)]
    for row in (HEADER, *rows):
        say("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


# ---------------------------------------------------------------- main


def clean_redis() -> None:
    """Delete the bench's own keys (its prefixes, in its own DB) and nothing else."""
    import redis

    client = redis.Redis.from_url(procs.REDIS_URL)
    try:
        for prefix in (procs.PREFIX, procs.OLD_PREFIX):
            batch = list(client.scan_iter(f"{prefix}*", count=1000))
            for i in range(0, len(batch), 1000):
                client.delete(*batch[i : i + 1000])
    finally:
        client.close()


def migrate() -> None:
    for side, cwd in (("dfws", procs.ROOT), ("old", procs.OLD_PROJECT)):
        args = [procs.python_for(side), "-m", "django", "migrate", "-v", "0"]
        subprocess.run(args, env=procs.env_for(side), cwd=cwd, check=True)


async def with_servers(results: Results, drivers: dict[str, Driver]) -> None:
    wanted = S3_VARIANTS
    servers = {name: stack for name, stack in stacks().items() if name in wanted}
    try:
        procs.migrate_dfws()
        for stack in servers.values():
            stack.start()
        await s5(results, servers)
        await s3(results, servers, drivers)
        await s3_sessions(results, servers["dfws"])
        servers["dfws"].start_worker()
        servers["dfws-nohistory"].start_worker()
        servers["old"].start_worker()
        await s4(results, servers)
    finally:
        for stack in servers.values():
            errors = stack.errors()
            if errors:
                say(f"  daphne-{stack.variant} logged {errors} exception(s), see bench/.work/logs")
            results.add("all", "server_errors", stack.variant, errors)
            stack.stop()


def main() -> None:
    started = time.monotonic()
    revision = git_revision()  # the code the servers load, before anything else lands
    say(f"dfws bench ({'smoke run' if QUICK else 'full run'}): {PLAN}")
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    # as an operator's LimitNOFILE would: up to the hard limit, inherited by every process
    # the bench starts (daphne, the load, the drivers); S7 holds 10,000 sockets in one daphne
    open_files = procs.raise_open_files_limit()
    procs.WORK.mkdir(parents=True, exist_ok=True)
    procs.ensure_old_venv(say)
    redis_server = procs.ensure_redis()
    clean_redis()
    migrate()
    results = Results()
    drivers: dict[str, Driver] = {}
    capacity_lines: list[str] = []
    try:
        if ONLY != "classic":  # S6-S8 first: on a Redis of their own, the longest part
            procs.migrate_dfws()
            capacity_lines = capacity.run(
                results, QUICK, say, lambda env, name: Driver("dfws", env, name)
            )
        if ONLY != "capacity":
            drivers["dfws"] = Driver("dfws")
            drivers["old"] = Driver("old")
            drivers["dfws-nohistory"] = Driver("dfws", NO_HISTORY, "driver-dfws-nohistory")
            s1_s2(results, drivers["dfws"], drivers["old"])
            asyncio.run(with_servers(results, drivers))
    finally:
        for driver in drivers.values():
            driver.stop()
        clean_redis()
        if redis_server is not None:
            redis_server.stop()
    (procs.WORK / "results.json").write_text(json.dumps(results.as_json(), indent=1))
    import psutil

    info = {
        "command": "BENCH_QUICK=1 make bench" if QUICK else "make bench",
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "seconds": time.monotonic() - started,
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": psutil.virtual_memory().total / 2**30,
        "os": f"{platform.system()} {platform.release()}",
        "load_before": load_before,
        "load_after": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "redis": redis_version(),
        "revision": revision,
        "versions": versions(),
        "plan": ", ".join(f"{k}={v}" for k, v in PLAN.__dict__.items()),
        "errors": {v: sum(n) for v, n in results.values[("all", "server_errors")].items()},
        "open_files": open_files,
        "notes": results.notes,
        "capacity": capacity_lines,
    }
    rows = (table(results) if ONLY != "capacity" else []) + (
        capacity.rows(results, QUICK) if ONLY != "classic" else []
    )
    say("")
    print_table(rows)
    path = publish(markdown(rows, info))
    say(f"\nwritten to {path.relative_to(procs.ROOT)} in {info['seconds']:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
