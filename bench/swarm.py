"""Windows spread over several load processes (S6, S7, S8): `Swarm` here, `serve` in each.

One process of websocket clients cannot keep up with thousands of windows on its own, and
its CPU must be measured apart from the server's: ``Swarm`` starts ``processes`` copies of
``python -m bench.swarm SOURCE``, each with a loopback source address of its own
(127.0.0.2, 127.0.0.3…: 28,000 ephemeral ports each), and commands them over stdin and
stdout, one JSON line each way, all at once (every process works in parallel, the
answers are read afterwards).

Commands a process obeys:

* ``cookies`` ``{base, count, path}``: GET the page ``count`` times, keep the cookies;
* ``open`` ``{base, count, path}``: open ``count`` windows (with the kept cookies, or
  without any for a bare consumer's ``path``); the seconds it took and the failures;
* ``listen`` ``{messages}``: from now on, record each ``bench.bcast`` frame's arrival;
* ``collect`` ``{messages, timeout}``: wait until every window has every message (or the
  timeout); per message, the last arrival less its send time (``opts.t``, the sender's
  clock: the same machine), the deliveries, and the latest arrival;
* ``beat`` ``{seconds}``: each window sends one heartbeat at a random moment within
  ``seconds`` and waits for its echo (what browsers do every 30 s); the windows, the
  heartbeats sent, echoed and not (timed out, or the socket closed), the seconds until the
  last echo;
* ``calls`` ``{windows, calls, timeout}``: the first ``windows`` windows each make
  ``calls`` sequential calls, all at once; the latencies and the lost;
* ``close``: close every window.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import load, procs

CHUNK = 2000  # windows opened at a time (their pages fetched just before)


class Client:
    """The windows of one load process."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.cookies: list[dict[str, str]] = []
        self.windows: list[load.Window] = []
        self.last_latency: dict[int, float] = {}
        self.deliveries: dict[int, int] = defaultdict(int)
        self.latest = 0.0
        self.frames = load.CallFrames(with_call_id=True)

    def record(self, opts: dict[str, Any]) -> None:
        now = time.time()
        seq = opts["seq"]
        self.deliveries[seq] += 1
        latency = now - opts.get("t", now)
        if latency > self.last_latency.get(seq, -1.0):
            self.last_latency[seq] = latency
        self.latest = max(self.latest, now)

    async def run(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        if op == "cookies":
            cookies = await asyncio.to_thread(
                load.fetch_cookies, args["base"], args["count"], 4, args.get("path", "/")
            )
            self.cookies.extend(cookies)
            return {"cookies": len(self.cookies)}
        if op == "open":
            count = args["count"]
            cookie_list: list[dict[str, str] | None]
            if self.cookies:
                cookie_list = list(self.cookies[:count])
                del self.cookies[:count]
            else:
                cookie_list = [None] * count
            windows, seconds, failed = await load.open_windows(
                args["base"], cookie_list, 120, args.get("path", "/ws/"), self.source
            )
            self.windows.extend(windows)
            for window in windows:
                window.recorder = self.record
            return {"opened": len(windows), "failed": failed, "seconds": seconds}
        if op == "listen":
            self.last_latency.clear()
            self.deliveries.clear()
            self.latest = 0.0
            return {"windows": len(self.windows)}
        if op == "collect":
            wanted = len([w for w in self.windows if not w.closed])
            deadline = time.monotonic() + args["timeout"]
            messages = args["messages"]
            while time.monotonic() < deadline:
                if len(self.deliveries) >= messages and all(
                    n >= wanted for n in self.deliveries.values()
                ):
                    break
                await asyncio.sleep(0.05)
            return {
                "last_latency": {str(k): v for k, v in self.last_latency.items()},
                "deliveries": sum(self.deliveries.values()),
                "expected": wanted * messages,
                "latest": self.latest,
            }
        if op == "beat":
            seconds = args["seconds"]

            start = time.perf_counter()
            outcomes: Counter[str] = Counter()
            last_echo = 0.0

            async def beat(window: load.Window) -> None:
                nonlocal last_echo
                await asyncio.sleep(random.uniform(0, seconds))
                if window.closed:
                    outcomes["closed before"] += 1
                    return
                outcomes["sent"] += 1
                try:
                    await window.echo_heartbeat(30)
                except TimeoutError:
                    outcomes["timed out"] += 1
                except (ConnectionError, OSError, load.ConnectionClosed):
                    outcomes["closed"] += 1
                else:
                    outcomes["echoed"] += 1
                    last_echo = time.perf_counter() - start

            await asyncio.gather(*(beat(w) for w in self.windows))
            return {
                "windows": len(self.windows),
                **{k: outcomes[k] for k in ("sent", "echoed", "timed out", "closed")},
                "closed before": outcomes["closed before"],
                "last_echo": last_echo,
                "seconds": time.perf_counter() - start,
            }
        if op == "calls":
            callers = self.windows[: args["windows"]]
            latencies, seconds = await load.concurrent_calls(
                callers, self.frames, args["calls"], args["timeout"]
            )
            done = [x * 1000 for x in latencies if x is not None]
            return {"ms": done, "lost": len(latencies) - len(done), "seconds": seconds}
        if op == "close":
            await load.close_windows(self.windows)
            self.windows, self.cookies = [], []
            return {"closed": True}
        raise ValueError(f"unknown op {op!r}")


async def serve(source: str) -> None:
    client = Client(source)
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out.write(json.dumps({"ready": source}) + "\n")
    while line := await reader.readline():
        command = json.loads(line)
        if command["op"] == "quit":
            break
        try:
            result = await client.run(command["op"], command)
        except Exception as exc:  # reported to the bench, which stops the run
            result = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(result) + "\n")
    with contextlib.suppress(Exception):
        await load.close_windows(client.windows)


class Swarm:
    """``processes`` load processes; commands go to all of them at once."""

    def __init__(self, processes: int, name: str = "swarm") -> None:
        self.services: list[procs.Service] = []
        for i in range(processes):
            source = f"127.0.0.{2 + i}"
            args = [procs.MAIN_PYTHON, "-m", "bench.swarm", source]
            self.services.append(
                procs.Service(f"{name}{i}", args, procs.env_for("dfws"), pipes=True)
            )
        for service in self.services:
            self._read(service)

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.services]

    def cpu_seconds(self) -> float:
        return sum(procs.cpu_seconds(pid) for pid in self.pids)

    @staticmethod
    def _read(service: procs.Service) -> dict[str, Any]:
        assert service.popen.stdout is not None
        line = service.popen.stdout.readline()
        if not line:
            raise RuntimeError(f"{service.name} died:\n{service.output()}")
        result: dict[str, Any] = json.loads(line)
        if "error" in result:
            raise RuntimeError(f"{service.name}: {result['error']}")
        return result

    def each(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One command per process (``None``-free), sent together, answers in order."""
        for service, command in zip(self.services, commands, strict=True):
            assert service.popen.stdin is not None
            service.popen.stdin.write(json.dumps(command) + "\n")
            service.popen.stdin.flush()
        with ThreadPoolExecutor(len(self.services)) as pool:
            return list(pool.map(self._read, self.services))

    def all(self, op: str, **args: Any) -> list[dict[str, Any]]:
        return self.each([{"op": op, **args}] * len(self.services))

    def split(self, count: int) -> list[int]:
        """``count`` windows shared out over the processes."""
        n = len(self.services)
        return [count // n + (1 if i < count % n else 0) for i in range(n)]

    def open(
        self,
        base: str,
        count: int,
        path: str = "/ws/",
        page: bool = True,
        meters: dict[str, Callable[[], float]] | None = None,
    ) -> dict[str, Any]:
        """Open ``count`` more windows, GETting their pages first when ``page``.

        In chunks of ``CHUNK``: a page's window lives ``WEBSOCKET_UNCONNECTED_EXPIRE``
        (5 min) until its first connect, less than 10,000 pages take on a busy machine.
        ``seconds`` and each of ``meters`` (a daphne's CPU, its RSS) add up what changed
        during the connects alone, not during the pages.
        """
        meters = meters or {}
        opened = failed = 0
        totals = dict.fromkeys(["seconds", *meters], 0.0)
        for first in range(0, count, CHUNK):
            shares = self.split(min(CHUNK, count - first))
            if page:
                self.each([{"op": "cookies", "base": base, "count": c} for c in shares])
            before = {name: read() for name, read in meters.items()}
            start = time.perf_counter()
            answers = self.each(
                [{"op": "open", "base": base, "count": c, "path": path} for c in shares]
            )
            totals["seconds"] += time.perf_counter() - start
            for name, read in meters.items():
                totals[name] += read() - before[name]
            opened += sum(a["opened"] for a in answers)
            failed += sum(a["failed"] for a in answers)
        return {"opened": opened, "failed": failed, **totals}

    def collect(self, messages: int, timeout: float) -> dict[str, Any]:
        """Per message, the last arrival over every window; the deliveries and the lost."""
        answers = self.all("collect", messages=messages, timeout=timeout)
        last: dict[int, float] = {}
        for answer in answers:
            for seq, latency in answer["last_latency"].items():
                last[int(seq)] = max(last.get(int(seq), 0.0), latency)
        deliveries = sum(a["deliveries"] for a in answers)
        expected = sum(a["expected"] for a in answers)
        return {
            # a message that some window never got counts as never arrived
            "last_latency": [last[seq] if seq in last else float("inf") for seq in range(messages)],
            "deliveries": deliveries,
            "lost": expected - deliveries,
            "latest": max(a["latest"] for a in answers),
        }

    def stop(self) -> None:
        for service in self.services:
            if service.alive() and service.popen.stdin is not None:
                with contextlib.suppress(OSError):
                    service.popen.stdin.write('{"op": "quit"}\n')
                    service.popen.stdin.flush()
        for service in self.services:
            with contextlib.suppress(Exception):
                service.popen.wait(20)
            service.stop()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
