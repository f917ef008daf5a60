"""Capacity (issue 14): S6 windows at the knee, S7 idle windows, S8 two daphne behind nginx.

These scenarios run on a redis-server of the bench's own (``procs.private_redis``), so
that its CPU and its commands (``INFO commandstats``) are the bench's alone, with the
windows spread over several load processes (``bench/swarm.py``) whose CPU is measured
apart from the server's. ``bench.run`` calls :func:`run` before S1-S5.

* **S6** (the WebSocket shootout's question): how many windows one daphne process holds
  while 95 % of broadcasts reach every window within 500 ms. Windows are added in steps;
  at each step ``s6_messages`` broadcasts are sent ``s6_interval`` apart, each stamped
  with its send time; a message's latency is its last arrival, over every window, less
  that time. The knee is the largest step whose p95 stays under 500 ms before two steps
  in a row miss it (one can miss by a neighbour's doing on a shared machine). dfws against the
  bare Channels consumer and the floor (``bench/floor.py``, S3's raw asyncio ``websockets``
  server writing each Redis message to every client: what one Python process holds with
  nothing of a framework), with the CPU of the server, Redis, the load and the sender.
  ``BENCH_S6=dfws,floor`` runs some of the three only.
* **S7**: ``s7_windows`` idle windows on one fresh daphne: RSS per window, connect time
  and CPU, the CPU of a quiet period and of one with every window beating once (the
  browser's heartbeat is every 30 s), dfws against bare, both opened as a browser would:
  the page first, then the socket with the URL and cookies it set. Per heartbeat: the ones sent and
  echoed per load process, the Redis commands counted once daphne is idle again (a
  heartbeat is echoed before its commands are sent) less the quiet period's rate, and for
  dfws the sockets whose expiry in the limits' sets the beats pushed forward.
* **S8**: one daphne behind nginx, then two (``least_conn``), on the same Redis and
  worker: deliveries/s of back-to-back broadcasts and call round trips/s, with each
  process's CPU; nothing may be lost.

``BENCH_ONLY=capacity BENCH_CAPACITY=s7 make bench`` (or ``python -m bench.run``) runs one
or some of them (``s6,s8``), written to ``bench/.work``. Where S7's memory per window
goes: ``python -m bench.profile memory --variant dfws|bare --clients 1500`` (tracemalloc
in the same setup: a redis-server of its own, one fresh daphne, the bench's pages).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procs
from bench.stats import median, percentile, spread
from bench.swarm import Swarm

KNEE_SECONDS = 0.5
SOCKET_TTL = 90.0  # dfws_web.limits.SOCKET_TTL: a heartbeat renews a socket for that long
SWARM_PROCESSES = 4


@dataclass(frozen=True)
class CapacityPlan:
    s6_steps: tuple[int, ...]
    s6_messages: int
    s6_interval: float
    s7_windows: int
    s7_quiet: float
    s7_beat: float
    s8_reps: int
    s8_windows: int
    s8_broadcasts: int
    s8_callers: int  # per load process
    s8_calls: int
    s7_reps: int = 1  # S7's RSS per window moves by ~0.5 KiB between runs: the median of these


FULL = CapacityPlan(
    (100, 250, 500, 1000, 2000, 4000, 8000), 25, 0.2, 10_000, 10, 30, 4, 1000, 50, 10, 50, 2
)
SMOKE = CapacityPlan((50, 100, 250, 500), 10, 0.2, 1000, 5, 10, 1, 200, 20, 5, 20)


class Redis:
    """The private Redis: its CPU (psutil, its own process) and its command counts."""

    def __init__(self, service: procs.Service, url: str) -> None:
        import redis

        self.service, self.url = service, url
        self.client = redis.Redis.from_url(url)

    def cpu(self) -> float:
        return procs.cpu_seconds(self.service.pid)

    def commands(self) -> Counter[str]:
        stats = self.client.info("commandstats")
        return Counter({k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()})

    def renewed_after(self, epoch: float) -> tuple[int, int]:
        """Members of dfws's per-window socket sets (the limits) whose expiry was pushed past
        ``epoch``, and all of them: a heartbeat renews its socket to ``now + SOCKET_TTL``."""
        renewed = total = 0
        keys = list(self.client.scan_iter(match="*limits:sockets:w:*", count=1000))
        for first in range(0, len(keys), 500):
            pipe = self.client.pipeline(transaction=False)
            for key in keys[first : first + 500]:
                pipe.zrange(key, 0, -1, withscores=True)
            for members in pipe.execute():
                total += len(members)
                renewed += sum(1 for _, score in members if score > epoch * 1000)
        return renewed, total

    def since(self, before: Counter[str]) -> Counter[str]:
        """Commands run since ``before`` (the ``INFO`` calls themselves left out)."""
        delta = self.commands() - before
        delta.pop("info", None)
        return delta


class Meter:
    """CPU seconds of named processes between ``start`` and ``stop``, as % of one core."""

    def __init__(self, sources: dict[str, Callable[[], float]]) -> None:
        self.sources = sources
        self.begin: dict[str, float] = {}
        self.wall = 0.0
        self.wall_seconds = 0.0  # between start and stop
        self.used: dict[str, float] = {}

    def start(self) -> None:
        self.begin = {name: read() for name, read in self.sources.items()}
        self.wall = time.perf_counter()

    def stop(self) -> dict[str, float]:
        wall = self.wall_seconds = time.perf_counter() - self.wall
        self.used = {name: read() - self.begin[name] for name, read in self.sources.items()}
        return {name: 100 * seconds / wall for name, seconds in self.used.items()}


def fmt_cores(usage: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.0f} %" for name, value in usage.items())


def run(
    results: Any,
    quick: bool,
    say: Callable[[str], None],
    make_driver: Callable[[dict[str, str], str], Any],
) -> list[str]:
    """S6, S7, S8; their rows go to ``results``; returns the markdown of their detail."""
    plan = SMOKE if quick else FULL
    service, url = procs.private_redis("redis-capacity")
    redis = Redis(service, url)
    env = {"BENCH_REDIS_URL": url, "BENCH_PREFIX": f"{procs.PREFIX}-cap"}
    driver = make_driver(env, "driver-capacity")
    swarm = Swarm(SWARM_PROCESSES)
    lines: list[str] = []
    # BENCH_CAPACITY=s6,s8: some of them only (with BENCH_ONLY=capacity, to bench/.work)
    wanted = os.environ.get("BENCH_CAPACITY", "s6,s7,s8").split(",")
    try:
        if "s6" in wanted:
            lines += s6(results, plan, say, redis, env, driver, swarm)
        if "s7" in wanted:
            lines += s7(results, plan, say, redis, env, swarm)
        if "s8" in wanted:
            lines += s8(results, plan, say, redis, env, driver, swarm)
    finally:
        swarm.stop()
        driver.stop()
        redis.client.close()
        service.stop()
    return lines


S6_VARIANTS = ("dfws", "bare", "floor")


def start_server(
    variant: str, env: dict[str, str], name: str, redis_url: str
) -> tuple[procs.Service, str]:
    """daphne (dfws or bare) or the floor (a raw websockets server on ``redis_url``)."""
    if variant == "floor":
        service, port = procs.floor_server(name, redis_url)
        return service, f"http://127.0.0.1:{port}"
    return start_daphne(variant, env, name)


class FloorSender:
    """The floor's broadcasts: one pre-encoded frame per ``PUBLISH``, paced like the driver's
    (sent from this process: ``cpu`` is this thread's CPU time)."""

    def __init__(self, redis: Redis) -> None:
        self.client = redis.client
        self.channel = f"{procs.PREFIX}:{procs.FLOOR_CHANNEL}"

    @staticmethod
    def cpu() -> float:
        return time.thread_time()

    def paced(self, n: int, interval: float) -> None:
        import json

        start = time.perf_counter()
        for i in range(n):
            time.sleep(max(0.0, start + i * interval - time.perf_counter()))
            frame = {"signal": "bench.bcast", "opts": {"seq": i, "t": time.time()}}
            self.client.publish(self.channel, json.dumps(frame))


def start_daphne(variant: str, env: dict[str, str], name: str) -> tuple[procs.Service, str]:
    app = "bench.project.bare:application" if variant == "bare" else "dfws_web.asgi:application"
    service, port = procs.daphne("dfws", app, name, env)
    return service, f"http://127.0.0.1:{port}"


# ---------------------------------------------------------------- S6


def s6(
    results: Any,
    plan: CapacityPlan,
    say: Callable[[str], None],
    redis: Redis,
    env: dict[str, str],
    driver: Any,
    swarm: Swarm,
) -> list[str]:
    say(
        f"S6 knee: windows in steps {plan.s6_steps}, {plan.s6_messages} broadcasts "
        f"{plan.s6_interval * 1000:.0f} ms apart per step, p95 of the last arrival < 500 ms"
    )
    lines = [
        "",
        f"**S6 steps** ({plan.s6_messages} broadcasts {plan.s6_interval * 1000:.0f} ms apart "
        "per step; latency of a message = its last arrival over every window less its send "
        "time; CPU as % of one core over the step, the machine has "
        f"{os.cpu_count()} cores):",
        "",
        "| server | windows | p50 / p95 / max of a message's last arrival, ms | lost | "
        "deliveries/s | server CPU per delivery, µs | CPU: server (daphne, or the floor's "
        "process), Redis, load (4 processes), sender; the server's wait for a CPU | "
        "machine load average (1 min) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    wanted = os.environ.get("BENCH_S6", ",".join(S6_VARIANTS)).split(",")
    floor = FloorSender(redis)
    for variant in [v for v in S6_VARIANTS if v in wanted]:
        server, base = start_server(variant, env, f"server-s6-{variant}", redis.url)
        sender = floor.cpu if variant == "floor" else lambda: procs.cpu_seconds(driver.service.pid)
        sources = {
            "server": lambda pid=server.pid: procs.cpu_seconds(pid),
            "Redis": redis.cpu,
            "load": swarm.cpu_seconds,
            "sender": sender,
            # not CPU used: the time the server's loop was ready to run but had no CPU
            "server waiting for a CPU": lambda pid=server.pid: procs.cpu_wait_seconds(pid),
        }
        knee, limit = 0, ""
        connected = missed = 0
        try:
            for step in plan.s6_steps:
                opened = swarm.open(base, step - connected, page=variant == "dfws", path="/ws/")
                connected += opened["opened"]
                if opened["failed"]:
                    say(f"  {variant} {step}: {opened['failed']} windows failed to connect")
                procs.wait_idle(server.pid)
                swarm.all("listen")
                meter = Meter(sources)
                meter.start()
                start = time.time()
                if variant == "floor":
                    floor.paced(plan.s6_messages, plan.s6_interval)
                else:
                    driver.call("paced", variant, plan.s6_messages, interval=plan.s6_interval)
                timeout = 30 + connected * plan.s6_messages / 2000
                got = swarm.collect(plan.s6_messages, timeout)
                usage = meter.stop()
                latencies = [x * 1000 for x in got["last_latency"]]
                p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
                rate = got["deliveries"] / max(1e-3, got["latest"] - start)
                # paced, each frame is a write per socket of its own (S3's bursts share them)
                per_delivery = meter.used["server"] * 1e6 / max(1, got["deliveries"])
                results.add("S6", f"p95_{step}", variant, p95)
                results.add("S6", f"cpu_delivery_{step}", variant, per_delivery)
                held = p95 < KNEE_SECONDS * 1000 and got["lost"] == 0
                lines.append(
                    f"| {variant} | {connected} | {p50:.0f} / {p95:.0f} / {max(latencies):.0f} | "
                    f"{got['lost']} | {rate:.0f} | {per_delivery:.0f} | {fmt_cores(usage)} | "
                    f"{os.getloadavg()[0]:.1f} |"
                )
                say(
                    f"  {variant:5} {connected:6} windows: p50/p95 {p50:6.0f}/{p95:6.0f} ms, "
                    f"lost {got['lost']}; CPU {fmt_cores(usage)}"
                )
                if not held:
                    used = {k: v for k, v in usage.items() if "waiting" not in k}
                    busiest = max(used, key=lambda name: used[name])
                    limit = f"{busiest} ({fmt_cores(usage)})"
                    # on a shared machine one step can miss by its neighbours' doing: the
                    # knee is the largest step held before two missed in a row
                    missed += 1
                    if missed == 2:
                        break
                    continue
                missed = 0
                knee = connected
                limit = f"not reached (last step: {fmt_cores(usage)})"
                if connected < step:
                    limit = "windows failed to connect"
                    break
        finally:
            try:
                swarm.all("close")
            finally:
                server.stop()
        results.add("S6", "knee", variant, knee)
        results.notes[f"S6 limit {variant}"] = limit
        say(f"  {variant}: knee at {knee} windows; past it: {limit}")
    return lines


# ---------------------------------------------------------------- S7


def s7(
    results: Any,
    plan: CapacityPlan,
    say: Callable[[str], None],
    redis: Redis,
    env: dict[str, str],
    swarm: Swarm,
) -> list[str]:
    count = plan.s7_windows
    say(f"S7 idle: {count} windows on one daphne process, quiet {plan.s7_quiet:.0f} s, "
        f"then each beats once in {plan.s7_beat:.0f} s")  # fmt: skip
    lines: list[str] = []
    # each repetition on fresh daphne processes, the order alternating
    runs = [v for rep in range(plan.s7_reps) for v in (("dfws", "bare"), ("bare", "dfws"))[rep % 2]]
    for variant in runs:
        daphne, base = start_daphne(variant, env, f"daphne-s7-{variant}")
        try:
            results.notes["S7 daphne open files"] = str(procs.open_files_limit(daphne.pid))
            # the same handshake for both: each window GETs the page (whose view binds it)
            # and opens the socket at the URL and with the cookies that page set (the bare
            # consumer ignores them): the memory the page views leave behind, and the
            # request each socket keeps (its URL, its Cookie header), count for both
            page = True
            swarm.open(base, 4, page=page)
            swarm.all("close")
            procs.wait_idle(daphne.pid)
            before_rss = procs.rss(daphne.pid)
            commands = redis.commands()
            # the pages are fetched in chunks between the connects, which alone are measured
            # (time, CPU, RSS: what serving pages costs is not a window's)
            meters = {
                "cpu": lambda pid=daphne.pid: procs.cpu_seconds(pid),
                "rss": lambda pid=daphne.pid: float(procs.rss(pid)),
            }
            opened = swarm.open(base, count, page=page, meters=meters)
            connected_rss = procs.rss(daphne.pid)
            cpu_connect = opened["cpu"]
            connect_commands = redis.since(commands)
            time.sleep(2)
            procs.wait_idle(daphne.pid)
            after_rss = procs.rss(daphne.pid)
            windows = max(1, opened["opened"])
            grown = opened["rss"] + after_rss - connected_rss  # the connects, then settling
            kib = grown / windows / 1024
            sources = {"daphne": lambda pid=daphne.pid: procs.cpu_seconds(pid), "Redis": redis.cpu}
            quiet = Meter(sources)
            commands = redis.commands()
            quiet.start()
            time.sleep(plan.s7_quiet)
            quiet_usage = quiet.stop()
            # what Redis runs with no window saying anything (the queue watch's inspect
            # broadcasts, presence's liveness key...), per second: left out of the heartbeats'
            quiet_commands = redis.since(commands)
            # the sockets still counted by the limits: a socket silent for SOCKET_TTL
            # (here, from its connect to its beat) has expired from them
            counted = redis.renewed_after(0)[1] if variant == "dfws" else 0
            beat = Meter(sources)
            beat_start = time.time()
            beat.start()
            cpu = procs.cpu_seconds(daphne.pid)
            commands = redis.commands()
            answers = swarm.all("beat", seconds=plan.s7_beat)
            beat_usage = beat.stop()
            per_beat_cpu = procs.cpu_seconds(daphne.pid) - cpu
            # a heartbeat is echoed before its Redis commands are sent: they are counted
            # once daphne has finished them, not at the last echo
            procs.wait_idle(daphne.pid)
            beat_seconds = time.perf_counter() - beat.wall
            beat_commands = redis.since(commands)
            for name, n in quiet_commands.items():
                background = round(n * beat_seconds / quiet.wall_seconds)
                beat_commands[name] -= min(background, beat_commands[name])
            beat_commands = +beat_commands
            echoed = sum(a["echoed"] for a in answers)
            heartbeats = ", ".join(
                f"{a['echoed']}/{a['sent']} ({a['windows']} windows"
                + "".join(f", {a[k]} {k}" for k in ("timed out", "closed") if a[k])
                + f"; last echo at {a['last_echo']:.1f} s)"
                for a in answers
            )
            per_beat = per_beat_cpu * 1e6 / max(1, echoed)
            # proof on Redis's side: the sockets whose expiry a heartbeat of this phase pushed
            # past what any connect before it could have set
            renewals = ""
            if variant == "dfws":  # (the bare consumer keeps nothing in Redis)
                renewed, members = redis.renewed_after(beat_start + SOCKET_TTL)
                renewals = (
                    f"; sockets in the limits' window sets: {counted} of {windows} before the "
                    f"beats, {renewed} renewed by them of {members} after"
                )
            for metric, value in (
                ("kib_per_window", kib),
                ("rss_mib", after_rss / 2**20),
                ("connect_seconds", opened["seconds"]),
                ("cpu_connect_ms", cpu_connect * 1000 / windows),
                ("quiet_cpu", quiet_usage["daphne"]),
                ("beat_cpu", beat_usage["daphne"]),
                ("us_per_beat", per_beat),
                ("redis_per_connect", sum(connect_commands.values()) / windows),
                ("redis_per_beat", sum(beat_commands.values()) / max(1, echoed)),
                ("connected", opened["opened"]),
                ("failed", opened["failed"]),
            ):
                results.add("S7", metric, variant, value)
            top = ", ".join(f"{k} {v / windows:.1f}" for k, v in connect_commands.most_common(6))
            beats = ", ".join(
                f"{k} {v / max(1, echoed):.1f}" for k, v in beat_commands.most_common(6)
            )
            if variant == "dfws":
                results.notes["S7 redis per beat"] = (beats or "none") + renewals
            idle_rates = ", ".join(
                f"{k} {v / quiet.wall_seconds:.1f}" for k, v in quiet_commands.most_common(4)
            )
            lines.append(
                f"- S7 {variant}: Redis commands per connect: {top or 'none'}; per heartbeat "
                f"echoed: {beats or 'none'} (less what Redis runs per second with every "
                f"window quiet: {idle_rates or 'none'}); heartbeats echoed / sent per load "
                f"process: {heartbeats}{renewals}."
            )
            say(
                f"  {variant:5} {opened['opened']} windows ({opened['failed']} failed) in "
                f"{opened['seconds']:.1f} s, {cpu_connect * 1000 / windows:.2f} ms CPU each; "
                f"RSS {before_rss / 2**20:.0f} -> {after_rss / 2**20:.0f} MiB, of which the "
                f"connects {grown / 2**20:.0f} MiB = {kib:.1f} KiB per window; "
                f"quiet: {fmt_cores(quiet_usage)}; beating: "
                f"{fmt_cores(beat_usage)}, {per_beat:.0f} µs per heartbeat ({echoed} echoed: "
                f"{heartbeats}); Redis commands per heartbeat: {beats or 'none'}{renewals}"
            )
        finally:
            try:
                swarm.all("close")
            finally:
                daphne.stop()
    return lines


# ---------------------------------------------------------------- S8


def s8(
    results: Any,
    plan: CapacityPlan,
    say: Callable[[str], None],
    redis: Redis,
    env: dict[str, str],
    driver: Any,
    swarm: Swarm,
) -> list[str]:
    from tests import services  # the cluster's private nginx (tests/cluster.py)

    say(
        f"S8 behind nginx, one daphne against two: {plan.s8_windows} windows, "
        f"{plan.s8_broadcasts} broadcasts, {plan.s8_callers * SWARM_PROCESSES} callers x "
        f"{plan.s8_calls} calls, x {plan.s8_reps}"
    )
    log_dir = procs.WORK / "logs"
    daphnes = [start_daphne("dfws", env, f"daphne-s8-{i}") for i in range(2)]
    worker = procs.celery_worker("dfws", "worker-s8", env)
    ports = [int(base.rsplit(":", 1)[1]) for _, base in daphnes]
    connections = 4 * plan.s8_windows + 1024  # a proxied websocket holds two
    proxies = {
        "one": services.nginx(ports[:1], Path(log_dir), "nginx-s8-one", connections),
        "two": services.nginx(ports, Path(log_dir), "nginx-s8-two", connections),
    }
    lines: list[str] = []
    try:
        warm_up(proxies["two"].url, swarm)
        for rep in range(plan.s8_reps):
            # alternate which shape goes first: a machine busy in one half does not always
            # weigh on the same shape
            for shape in ("one", "two") if rep % 2 == 0 else ("two", "one"):
                lines.append(
                    s8_once(
                        results,
                        plan,
                        say,
                        redis,
                        driver,
                        swarm,
                        shape,
                        rep,
                        proxies[shape].url,
                        daphnes,
                        worker,
                    )
                )
    finally:
        for proxy in proxies.values():
            proxy.stop()
        worker.stop()
        for service, _ in daphnes:
            service.stop()
    return [
        "",
        "**S8 runs** (CPU as % of one core over each phase):",
        "",
        "| run | windows per daphne | deliveries/s, lost | CPU while broadcasting | "
        "round trips/s, p50/p99 ms, lost | CPU while calling |",
        "|---|---|---|---|---|---|",
        *lines,
    ]


def warm_up(base: str, swarm: Swarm) -> None:
    """The worker answers before anything is timed: calls until one comes back (60 s)."""
    swarm.open(base, len(swarm.services) * 2)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            answers = swarm.all("calls", windows=1, calls=1, timeout=2)
            if all(a["lost"] == 0 for a in answers):
                return
            time.sleep(0.5)
        raise RuntimeError("S8: no answer from the worker in 60 s")
    finally:
        swarm.all("close")


def s8_once(
    results: Any,
    plan: CapacityPlan,
    say: Callable[[str], None],
    redis: Redis,
    driver: Any,
    swarm: Swarm,
    shape: str,
    rep: int,
    base: str,
    daphnes: list[tuple[procs.Service, str]],
    worker: procs.Service,
) -> str:
    pids = [service.pid for service, _ in daphnes]
    sources: dict[str, Callable[[], float]] = {
        f"daphne{i + 1}": (lambda pid=pid: procs.cpu_seconds(pid)) for i, pid in enumerate(pids)
    }
    sources.update(Redis=redis.cpu, load=swarm.cpu_seconds,
                   worker=lambda: procs.cpu_seconds(worker.pid))  # fmt: skip
    opened = swarm.open(base, plan.s8_windows)
    per_daphne = [
        established(pid, int(b.rsplit(":", 1)[1]))
        for pid, (_, b) in zip(pids, daphnes, strict=True)
    ]
    for pid in pids:
        procs.wait_idle(pid)
    # broadcasts, back to back
    swarm.all("listen")
    commands = redis.commands()
    meter = Meter(sources)
    meter.start()
    start = time.time()
    driver.call("paced", "dfws", plan.s8_broadcasts, interval=0.0)
    got = swarm.collect(plan.s8_broadcasts, 60 + plan.s8_windows * plan.s8_broadcasts / 1000)
    cast_usage = meter.stop()
    cast_commands = redis.since(commands)
    rate = got["deliveries"] / max(1e-3, got["latest"] - start)
    lost = got["lost"] + opened["failed"] * plan.s8_broadcasts
    for pid in pids:
        procs.wait_idle(pid)
    # calls: callers per load process, each calling in sequence, all at once
    commands = redis.commands()
    meter.start()
    answers = swarm.all("calls", windows=plan.s8_callers, calls=plan.s8_calls, timeout=10)
    call_usage = meter.stop()
    call_commands = redis.since(commands)
    done = [ms for a in answers for ms in a["ms"]]
    calls_lost = sum(a["lost"] for a in answers)
    call_rate = len(done) / max(1e-3, max(a["seconds"] for a in answers))
    swarm.all("close")
    for metric, value in (
        ("deliveries_per_s", rate),
        ("lost", lost + calls_lost),
        ("calls_per_s", call_rate),
        ("call_p50", percentile(done, 50)),
        ("call_p99", percentile(done, 99)),
    ):
        results.add("S8", metric, shape, value)
    if shape == "one":  # Redis commands per broadcast and per call, through one process
        results.add("S8", "redis_per_broadcast", "dfws",
                    sum(cast_commands.values()) / plan.s8_broadcasts)  # fmt: skip
        results.add("S8", "redis_per_call", "dfws", sum(call_commands.values()) / max(1, len(done)))
        results.notes["S8 redis per broadcast"] = ", ".join(
            f"{k} {v / plan.s8_broadcasts:.1f}" for k, v in cast_commands.most_common(6)
        )
        results.notes["S8 redis per call"] = ", ".join(
            f"{k} {v / max(1, len(done)):.1f}" for k, v in call_commands.most_common(8)
        )
    say(
        f"  rep {rep + 1} {shape}: windows per daphne {per_daphne}; {rate:6.0f} deliveries/s "
        f"(lost {lost}); {call_rate:5.0f} round trips/s (lost {calls_lost}); CPU broadcasting "
        f"{fmt_cores(cast_usage)}; calling {fmt_cores(call_usage)}"
    )
    return (
        f"| {rep + 1} {shape} | {' / '.join(map(str, per_daphne))} | {rate:.0f}, {lost} | "
        f"{fmt_cores(cast_usage)} | {call_rate:.0f}, {percentile(done, 50):.0f}/"
        f"{percentile(done, 99):.0f}, {calls_lost} | {fmt_cores(call_usage)} |"
    )


def established(pid: int, port: int) -> int:
    """Sockets a daphne process holds open on its port (the windows nginx gave it)."""
    import psutil

    try:
        connections = psutil.Process(pid).net_connections("tcp")
    except psutil.Error:
        return -1
    return sum(
        1 for c in connections if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
    )


def rows(r: Any, quick: bool) -> list[tuple[str, str, str, str, str, str, str, str]]:
    """The S6-S8 rows of the main table (same columns as bench.run's)."""
    plan = SMOKE if quick else FULL
    g = r.get
    out = []

    def ratio(metric_scenario: str, metric: str, a: str, b: str) -> list[float]:
        return r.ratio(metric_scenario, metric, a, b)

    knee = ratio("S6", "knee", "dfws", "bare")

    def at_end(variant: str) -> bool:  # held every step: the knee lies beyond the last
        held = g("S6", "knee", variant)
        return bool(held) and min(held) >= plan.s6_steps[-1]

    def windows(variant: str) -> str:  # 0: even the first step missed the 500 ms
        held = g("S6", "knee", variant)
        if at_end(variant):
            return "≥ " + spread(held, ".0f")
        return spread(held, ".0f") if any(held) else f"< {plan.s6_steps[0]}" if held else "-"

    dfws_held, bare_held = g("S6", "knee", "dfws"), g("S6", "knee", "bare")
    holds = verdict(knee, lambda x: x >= 1)
    if dfws_held and bare_held and not any(bare_held):  # bare missed its first step
        holds = "yes" if any(dfws_held) else "**no**"
    out.append((
        f"S6 windows one daphne holds with p95 of a broadcast's last arrival < 500 ms "
        f"({1 / plan.s6_interval:.0f} broadcasts/s)", windows("dfws"),
        "bare Channels consumer: " + windows("bare"), "",
        fmt(knee), "", "≥ 1x", holds,
    ))  # fmt: skip
    floor_knee = ratio("S6", "knee", "dfws", "floor")
    out.append((
        "S6 … against the floor (a raw asyncio websockets server, one process), windows",
        windows("dfws"), "floor: " + windows("floor"), "",
        ("≤ " if at_end("floor") and not at_end("dfws") else "") + fmt(floor_knee)
        + " (dfws / floor)" if floor_knee else "-", "", "", "",
    ))  # fmt: skip
    # CPU per paced delivery at the largest step every server measured
    measured = [
        step for step in plan.s6_steps
        if all(g("S6", f"cpu_delivery_{step}", v) for v in S6_VARIANTS)
    ]  # fmt: skip
    if measured:
        step = measured[-1]
        metric = f"cpu_delivery_{step}"
        out.append((
            f"S6 server CPU per paced delivery at {step} windows (dfws and bare: daphne), µs",
            spread(g("S6", metric, "dfws"), ".0f"),
            f"bare: {spread(g('S6', metric, 'bare'), '.0f')}; "
            f"floor: {spread(g('S6', metric, 'floor'), '.0f')}", "",
            fmt(ratio("S6", metric, "dfws", "bare")) + " (dfws / bare); "
            + fmt(ratio("S6", metric, "dfws", "floor")) + " (dfws / floor)", "", "", "",
        ))  # fmt: skip
    mem = ratio("S7", "kib_per_window", "dfws", "bare")
    n = plan.s7_windows
    out.append((
        f"S7 daphne RSS per idle window ({n}), KiB",
        spread(g("S7", "kib_per_window", "dfws"), ".1f"),
        "bare: " + spread(g("S7", "kib_per_window", "bare"), ".1f"), "", fmt(mem), "",
        "≤ 1.1x", verdict(mem, lambda x: x <= 1.1),
    ))  # fmt: skip
    for metric, title, digits in (
        ("connect_seconds", f"S7 time to connect {n} windows, s", ".1f"),
        ("cpu_connect_ms", "S7 daphne CPU per connect, ms", ".2f"),
        ("quiet_cpu", "S7 daphne CPU with every window quiet, % of a core", ".1f"),
        ("beat_cpu", f"S7 daphne CPU with every window beating once in {plan.s7_beat:.0f} s, "
                     "% of a core", ".1f"),
        ("us_per_beat", "S7 daphne CPU per heartbeat, µs", ".0f"),
        ("redis_per_connect", "S7 Redis commands per connect", ".1f"),
    ):  # fmt: skip
        out.append((
            title, spread(g("S7", metric, "dfws"), digits),
            "bare: " + spread(g("S7", metric, "bare"), digits), "",
            fmt(ratio("S7", metric, "dfws", "bare")), "", "", "",
        ))  # fmt: skip
    # the bare consumer's echo runs no Redis command: no ratio, what dfws's are instead
    out.append((
        "S7 Redis commands per heartbeat (echoed; less what Redis runs with every window "
        "quiet)", spread(g("S7", "redis_per_beat", "dfws"), ".2f"),
        "bare: " + spread(g("S7", "redis_per_beat", "bare"), ".2f") + "; dfws's: "
        + r.notes.get("S7 redis per beat", "-"), "", "", "", "", "",
    ))  # fmt: skip
    deliveries = ratio("S8", "deliveries_per_s", "two", "one")
    calls = ratio("S8", "calls_per_s", "two", "one")
    lost = sum(g("S8", "lost", "one")) + sum(g("S8", "lost", "two"))
    out.append((
        f"S8 {plan.s8_windows} windows behind nginx, deliveries/s: two daphne against one",
        spread(g("S8", "deliveries_per_s", "two"), ".0f"),
        "one daphne: " + spread(g("S8", "deliveries_per_s", "one"), ".0f"), "",
        fmt(deliveries) + " (two / one)", "", "≥ 1x", verdict(deliveries, lambda x: x >= 1),
    ))  # fmt: skip
    out.append((
        "S8 call round trips/s: two daphne against one",
        spread(g("S8", "calls_per_s", "two"), ".0f"),
        "one daphne: " + spread(g("S8", "calls_per_s", "one"), ".0f"), "",
        fmt(calls) + " (two / one)", "", "≥ 1x", verdict(calls, lambda x: x >= 1),
    ))  # fmt: skip
    out.append((
        "S8 lost deliveries and round trips (both shapes, every run)", f"{lost:.0f}", "", "",
        "", "", "0", ("yes" if lost == 0 else "**no**") if g("S8", "lost", "one") else "-",
    ))  # fmt: skip
    out.append((
        "Redis commands per broadcast (any number of windows) / per call (S8, one daphne)",
        spread(g("S8", "redis_per_broadcast", "dfws"), ".1f") + " / "
        + spread(g("S8", "redis_per_call", "dfws"), ".1f"),
        "per broadcast: " + r.notes.get("S8 redis per broadcast", "-") + "; per call: "
        + r.notes.get("S8 redis per call", "-"), "", "", "", "", "",
    ))  # fmt: skip
    return out


def fmt(values: list[float]) -> str:
    return spread(values, ".2f") + "x" if values else "-"


def verdict(values: list[float], ok: Callable[[float], bool]) -> str:
    return ("yes" if ok(median(values)) else "**no**") if values else "-"
