"""A long-lived bench driver: one per side, commanded by ``bench.run`` over stdin/stdout.

``python bench/driver.py dfws`` (main virtualenv; variants ``dfws``, ``raw``,
``a2s``, ``warm``, ``bare``) or ``python bench/driver.py old`` (df-websockets'
virtualenv; variant ``old``).  Each command is one JSON line in, one JSON
line out; the measured loops run in this process so that dfws and its
baselines see the same warm state.  Only stdlib at import time: the old
side must not need anything from dfws.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

REDIS_PORT = 6379
S1_QUEUE = "bench-s1"
S2_TOPIC = "bench-topic"
BARE_GROUP = "bare.broadcast"
WARMUP = 30


class ConnectionCounter:
    """Counts TCP connections this process opens to Redis (``socket.connect`` audit events)."""

    def __init__(self) -> None:
        self.count = 0
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "socket.connect":
            address = args[1]
            if isinstance(address, tuple) and len(address) >= 2 and address[1] == REDIS_PORT:
                self.count += 1


def redis_total_connections() -> int:
    import redis

    client = redis.Redis.from_url(os.environ["BENCH_REDIS_URL"])
    try:
        return int(client.info("stats")["total_connections_received"])
    finally:
        client.close()


def timed(
    counter: ConnectionCounter, n: int, call: Callable[[int], None], warmup: int = WARMUP
) -> dict[str, float]:
    for i in range(warmup):
        call(-1 - i)
    server = redis_total_connections()
    connects = counter.count
    cpu = time.process_time()
    start = time.perf_counter()
    for i in range(n):
        call(i)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    return result(n, seconds, cpu, counter.count - connects, server)


def result(
    n: int, seconds: float, cpu: float, connects: int, server_before: int
) -> dict[str, float]:
    # INFO counts every client of the server (other users of this Redis too), and our own
    # INFO client once
    server_delta = redis_total_connections() - server_before - 1
    return {
        "n": n,
        "seconds": seconds,
        "rate": n / seconds,
        "cpu_us_per_call": cpu * 1e6 / n,  # this process, every thread
        "connects_per_1000": connects * 1000 / n,
        "server_connects_per_1000": server_delta * 1000 / n,
    }


class Listener:
    """One channel in the S2 group, as one idle window would be; emptied before each run."""

    def __init__(self, async_to_sync: Any, layer: Any, group: str) -> None:
        import redis

        self.layer = layer
        # Redis Pub/Sub keeps nothing for a subscriber: no channel to fill or empty
        self.pubsub = os.environ.get("BENCH_LAYER", "pubsub") != "list"
        if self.pubsub:
            return
        self.channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(group, self.channel)
        self.redis = redis.Redis.from_url(os.environ["BENCH_REDIS_URL"])

    def empty(self) -> None:
        if self.pubsub:
            return
        self.redis.delete(self.layer.prefix + self.layer.non_local_name(self.channel))


def frame(signal: str, **opts: Any) -> str:
    return json.dumps({"signal": signal, "opts": opts, "signal_id": uuid.uuid4().hex})


class DfwsSide:
    """dfws, and the raw Celery / raw Channels baselines, in the dfws bench project."""

    def __init__(self) -> None:
        import django

        django.setup()
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        from bench.project.tasks import raw_noop
        from dfws_celery import BROADCAST, SERVER, WindowInfo, trigger
        from dfws_celery.celery_app import get_celery_app

        self.async_to_sync = async_to_sync
        self.layer = get_channel_layer()
        self.raw_noop = raw_noop
        self.trigger = trigger
        self.SERVER, self.BROADCAST = SERVER, BROADCAST
        self.window_info = WindowInfo()
        self.info_dict = self.window_info.to_dict()
        self.app = get_celery_app()
        self.listener = Listener(async_to_sync, self.layer, "dfws." + S2_TOPIC)

    def purge(self) -> None:
        with self.app.connection_for_write() as conn:
            conn.default_channel.queue_purge(S1_QUEUE)

    def s1(self, variant: str, n: int, counter: ConnectionCounter) -> dict[str, float]:
        self.purge()
        info, trigger, server = self.window_info, self.trigger, self.SERVER
        if variant == "dfws":

            def call(i: int) -> None:
                trigger(info, "bench.noop", to=[server], value=i)

        else:
            task, info_dict = self.raw_noop, self.info_dict

            def call(i: int) -> None:
                task.apply_async((info_dict, {"value": i}), queue=S1_QUEUE)

        try:
            return timed(counter, n, call)
        finally:
            self.purge()

    def s2(self, variant: str, n: int, counter: ConnectionCounter) -> dict[str, float]:
        self.listener.empty()
        group, layer = "dfws." + S2_TOPIC, self.layer
        message = {"type": "dfws.frame", "text": frame("bench.pub", value=0)}
        if variant == "dfws":
            info, trigger = self.window_info, self.trigger

            def call(i: int) -> None:
                trigger(info, "bench.pub", to=[S2_TOPIC], value=i)

            return timed(counter, n, call)
        if variant == "tl":  # the alternative in RESULTS.md: a loop kept in the calling thread
            if not hasattr(self, "thread_loop"):
                self.thread_loop = asyncio.new_event_loop()
            run = self.thread_loop.run_until_complete

            def call(i: int) -> None:
                run(layer.group_send(group, message))

            return timed(counter, n, call)
        if variant == "a2s":
            send = self.async_to_sync(layer.group_send)

            def call(i: int) -> None:
                send(group, message)

            return timed(counter, n, call)

        async def warm() -> dict[str, float]:  # the channel layer's own ceiling
            for _ in range(WARMUP):
                await layer.group_send(group, message)
            server = await asyncio.to_thread(redis_total_connections)
            connects = counter.count
            cpu = time.process_time()
            start = time.perf_counter()
            for _ in range(n):
                await layer.group_send(group, message)
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu
            return result(n, seconds, cpu, counter.count - connects, server)

        return asyncio.run(warm())

    def broadcast(self, variant: str, n: int) -> dict[str, float]:
        start = time.perf_counter()
        if variant == "dfws":
            for i in range(n):
                self.trigger(self.window_info, "bench.bcast", to=[self.BROADCAST], seq=i)
        else:
            layer = self.layer

            async def send() -> None:
                for i in range(n):
                    text = frame("bench.bcast", seq=i)
                    await layer.group_send(BARE_GROUP, {"type": "bare.message", "text": text})

            asyncio.run(send())
        return {"seconds": time.perf_counter() - start}

    def paced(self, variant: str, n: int, interval: float) -> dict[str, float]:
        """``n`` broadcasts, one every ``interval`` seconds (0: back to back), each stamped
        with its send time (``opts.t``, this machine's clock) for the load to measure."""
        start = time.perf_counter()
        if variant == "dfws":
            for i in range(n):
                time.sleep(max(0.0, start + i * interval - time.perf_counter()))
                self.trigger(
                    self.window_info, "bench.bcast", to=[self.BROADCAST], seq=i, t=time.time()
                )
        else:
            layer = self.layer

            async def send() -> None:
                for i in range(n):
                    await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
                    text = frame("bench.bcast", seq=i, t=time.time())
                    await layer.group_send(BARE_GROUP, {"type": "bare.message", "text": text})

            asyncio.run(send())
        return {"seconds": time.perf_counter() - start}


class OldSide:
    """df-websockets 1.2.6, through its public API only."""

    def __init__(self) -> None:
        import django

        django.setup()
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer
        from df_websockets.tasks import BROADCAST, SERVER, trigger
        from df_websockets.topics import serialize_topic
        from df_websockets.utils import valid_topic_name
        from df_websockets.window_info import WindowInfo

        self.async_to_sync = async_to_sync
        self.layer = get_channel_layer()
        self.trigger = trigger
        self.SERVER, self.BROADCAST = SERVER, BROADCAST
        self.window_info = WindowInfo()
        group = valid_topic_name(serialize_topic(self.window_info, S2_TOPIC))
        self.listener = Listener(async_to_sync, self.layer, group)

    def purge(self) -> None:
        from celery import current_app

        with current_app.connection_for_write() as conn:
            conn.default_channel.queue_purge(S1_QUEUE)

    def s1(self, variant: str, n: int, counter: ConnectionCounter) -> dict[str, float]:
        self.purge()
        info, trigger, server = self.window_info, self.trigger, self.SERVER

        def call(i: int) -> None:
            trigger(info, "bench.noop", to=[server], value=i)

        try:
            return timed(counter, n, call)
        finally:
            self.purge()

    def s2(self, variant: str, n: int, counter: ConnectionCounter) -> dict[str, float]:
        self.listener.empty()
        info, trigger = self.window_info, self.trigger

        def call(i: int) -> None:
            trigger(info, "bench.pub", to=[S2_TOPIC], value=i)

        return timed(counter, n, call)

    def broadcast(self, variant: str, n: int) -> dict[str, float]:
        start = time.perf_counter()
        for i in range(n):
            self.trigger(self.window_info, "bench.bcast", to=[self.BROADCAST], seq=i)
        return {"seconds": time.perf_counter() - start}


def main() -> None:
    side_name = sys.argv[1]
    # the protocol owns stdout; anything printed by libraries goes to the log
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr
    counter = ConnectionCounter()
    side: Any = OldSide() if side_name == "old" else DfwsSide()
    out.write(json.dumps({"ready": side_name}) + "\n")
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "quit":
            break
        try:
            if op == "broadcast":
                result = side.broadcast(command["variant"], command["n"])
            elif op == "paced":
                result = side.paced(command["variant"], command["n"], command["interval"])
            else:
                result = getattr(side, op)(command["variant"], command["n"], counter)
        except Exception as exc:  # reported to the orchestrator, which stops the run
            result = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
