"""The load: asyncio websocket clients that behave like browser windows (S3, S4, S5).

A window first GETs a page (which binds it to its topics and sets the
``dfwskey``/``dfwsurl`` cookies), then opens the websocket with those
cookies.  It counts as connected once a heartbeat sent after the handshake
is echoed: consumers handle messages in order, so the echo also proves that
``connect()`` (and its ``group_add``) has finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.request
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

HEARTBEAT = "--heartbeat--"
CONNECT_CONCURRENCY = 32


def fetch_cookies(base: str, count: int, threads: int = 8, path: str = "/") -> list[dict[str, str]]:
    """GET the page ``count`` times; the cookies each response set."""

    def one(_: int) -> dict[str, str]:
        with urllib.request.urlopen(base + path, timeout=30) as response:
            response.read()
            headers = response.headers.get_all("Set-Cookie") or []
        cookies = {}
        for header in headers:
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return cookies

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


class Refused(Exception):
    """The server answered a call with an error frame (counted as lost, without waiting)."""


@dataclass
class FanOut:
    """Deliveries of the S3 broadcasts, counted as they arrive."""

    expected: int
    received: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self) -> None:
        self.received += 1
        if self.received >= self.expected:
            self.done.set()


class Window:
    """One websocket client and the task that reads it."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seqs: set[int] = set()
        self.pending: dict[int, asyncio.Future[float]] = {}
        self.heartbeat: asyncio.Future[None] | None = None
        self.fanout: FanOut | None = None
        self.refused: list[str] = []
        # bench/swarm.py: told of every broadcast frame's opts as it arrives
        self.recorder: Callable[[dict[str, Any]], None] | None = None
        self.closed = False
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for text in self.ws:
                if text == HEARTBEAT:
                    if self.heartbeat is not None and not self.heartbeat.done():
                        self.heartbeat.set_result(None)
                    continue
                frame = json.loads(text)
                signal = frame.get("signal")
                if signal == "bench.bcast":
                    if self.recorder is not None:
                        self.recorder(frame["opts"])
                    seq = frame["opts"]["seq"]
                    if seq not in self.seqs:
                        self.seqs.add(seq)
                        if self.fanout is not None:
                            self.fanout.add()
                elif signal == "bench.pong":
                    future = self.pending.pop(frame["opts"]["n"], None)
                    if future is not None and not future.done():
                        future.set_result(time.perf_counter())
                elif "result" in frame and str(frame.get("call_id", "")).startswith("c"):
                    # bench.reply answers with its result (bench.echo's result, None, comes
                    # after its pong: the call is no longer pending then)
                    future = self.pending.pop(int(frame["call_id"][1:]), None)
                    if future is not None and not future.done():
                        future.set_result(time.perf_counter())
                elif "error" in frame and str(frame.get("call_id", "")).startswith("c"):
                    self.refused.append(frame["error"].get("type", "?"))
                    future = self.pending.pop(int(frame["call_id"][1:]), None)
                    if future is not None and not future.done():
                        future.set_exception(Refused(frame["error"].get("type", "?")))
        except ConnectionClosed:
            pass
        finally:
            self.closed = True
            # a socket the server refused (closed after the handshake) fails its connect now
            if self.heartbeat is not None and not self.heartbeat.done():
                self.heartbeat.set_exception(ConnectionError("closed by the server"))

    async def echo_heartbeat(self, timeout: float) -> None:
        self.heartbeat = asyncio.get_running_loop().create_future()
        await self.ws.send(HEARTBEAT)
        await asyncio.wait_for(self.heartbeat, timeout)

    async def call(self, n: int, text: str, timeout: float) -> float | None:
        """Send a call frame; seconds until its ``bench.pong`` arrives (``None``: lost)."""
        future = asyncio.get_running_loop().create_future()
        self.pending[n] = future
        start = time.perf_counter()
        await self.ws.send(text)
        try:
            return await asyncio.wait_for(future, timeout) - start
        except (TimeoutError, Refused):
            self.pending.pop(n, None)
            return None

    async def close(self) -> None:
        await self.ws.close()
        await self.reader


async def open_window(
    base: str,
    cookies: dict[str, str] | None,
    timeout: float,
    path: str = "/ws/",
    source: str | None = None,
) -> Window:
    if cookies:
        url = unquote_plus(cookies["dfwsurl"].strip('"'))
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    else:  # the bare Channels consumer needs no page
        url, headers = base.replace("http://", "ws://") + path, {}
    ws = await connect(
        url,
        additional_headers=headers,
        origin=base,  # type: ignore[arg-type]
        open_timeout=timeout,
        ping_interval=None,
        close_timeout=2,
        compression=None,
        max_queue=None,
        # a loopback source address of its own: 28,000 ephemeral ports each (bench/swarm.py)
        **({"local_addr": (source, 0)} if source else {}),
    )
    window = Window(ws)
    await window.echo_heartbeat(timeout)
    return window


async def open_windows(
    base: str,
    cookie_list: list[dict[str, str] | None],
    timeout: float = 60,
    path: str = "/ws/",
    source: str | None = None,
) -> tuple[list[Window], float, int]:
    """Connect every window, at most ``CONNECT_CONCURRENCY`` handshakes in flight.

    Returns the windows, the seconds until all were connected and the number that failed.
    """
    semaphore = asyncio.Semaphore(CONNECT_CONCURRENCY)
    errors: list[str] = []

    async def one(cookies: dict[str, str] | None) -> Window | None:
        async with semaphore:
            try:
                return await open_window(base, cookies, timeout, path, source)
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                return None

    start = time.perf_counter()
    results = await asyncio.gather(*(one(c) for c in cookie_list))
    seconds = time.perf_counter() - start
    windows = [w for w in results if w is not None]
    if errors:
        print(f"  {len(errors)} window(s) failed to connect, first: {errors[0]}", flush=True)
    return windows, seconds, len(errors)


CLOSE_CONCURRENCY = 25


async def close_windows(windows: list[Window]) -> None:
    """Close the windows, a few at a time.

    All at once, a daphne process runs one ``group_discard`` per group per socket
    concurrently, and redis-py 8's asyncio pool (100 connections, raising instead of
    waiting, which channels_redis does not configure) refuses the excess: the groups
    keep dead members that later broadcasts still carry (see RESULTS.md).
    """
    semaphore = asyncio.Semaphore(CLOSE_CONCURRENCY)

    async def one(window: Window) -> None:
        async with semaphore:
            await window.close()

    await asyncio.gather(*(one(w) for w in windows), return_exceptions=True)


async def fan_out(
    windows: list[Window], messages: int, send: Callable[[], Awaitable[Any]], timeout: float
) -> dict[str, float]:
    """Have ``send`` broadcast ``messages`` frames; wait until every window has every one."""
    fanout = FanOut(len(windows) * messages)
    for window in windows:
        window.seqs.clear()
        window.fanout = fanout
    start = time.perf_counter()
    await send()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(fanout.done.wait(), timeout)
    seconds = time.perf_counter() - start
    for window in windows:
        window.fanout = None
    return {
        "seconds": seconds,
        "deliveries": fanout.received,
        "deliveries_per_s": fanout.received / seconds,
        "lost": fanout.expected - fanout.received,
    }


class CallFrames:
    """The browser's call frame: dfws sends a ``call_id`` (and gets an ack), 1.2.6 does not.

    ``bench.echo`` answers with a ``bench.pong`` signal to the window (what 1.2.6 can do);
    ``bench.reply`` with the call's result (dfws's own way: the floor's equivalent).
    """

    def __init__(self, with_call_id: bool, signal: str = "bench.echo") -> None:
        self.with_call_id = with_call_id
        self.signal = signal  # bench.echo: a pong to the window; bench.reply: the call's result
        self.next_n = 0

    def new(self) -> tuple[int, str]:
        self.next_n += 1
        n = self.next_n
        frame: dict[str, Any] = {"signal": self.signal, "opts": {"n": n}}
        if self.with_call_id:
            frame["call_id"] = f"c{n}"
        return n, json.dumps(frame)


async def sequential_calls(
    window: Window, frames: CallFrames, calls: int, timeout: float
) -> list[float | None]:
    latencies = []
    for _ in range(calls):
        n, text = frames.new()
        latencies.append(await window.call(n, text, timeout))
    return latencies


async def concurrent_calls(
    windows: list[Window], frames: CallFrames, calls: int, timeout: float
) -> tuple[list[float | None], float]:
    """Every window makes ``calls`` sequential calls, all windows at once."""
    start = time.perf_counter()
    results = await asyncio.gather(*(sequential_calls(w, frames, calls, timeout) for w in windows))
    seconds = time.perf_counter() - start
    return [latency for one in results for latency in one], seconds
