"""The distributed shape (issue 14): nginx, two daphne processes, two Redis shards, workers.

The cluster (tests/cluster.py, the ``cluster`` fixture) starts once for the module. Each window is a
page opened through nginx and a plain websocket client through nginx; nginx
names the daphne that took each socket (``X-Upstream``), so every test
knows it has windows on both processes. The client keeps the last position
per topic tag (``"o"``) and reconnects with ``?dfwspos=``, as the TypeScript
client does. This process publishes on the cluster's sharded layer
(``CHANNEL_LAYERS`` overridden for the module), as a view or a task would.
``make test`` runs it on the Pub/Sub layer, then on the list layer.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from http.cookiejar import CookieJar
from typing import Any
from urllib.parse import quote

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user_model
from kombu import Connection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from dfws_celery import BROADCAST, USER, WINDOW, WindowInfo, presence, trigger
from dfws_celery._compat import pubsub_group_channel
from dfws_celery.pubsub import sync_publisher
from dfws_celery.relay import window_group
from dfws_celery.topics import group_name, serialize_topic
from tests import cluster as cluster_module
from tests import services
from tests.settings import LAYER
from tests.testapp.models import Article
from tests.wsclient import connect_window, open_page, window_key

pytestmark = pytest.mark.django_db(transaction=True)

PROCESS_TTL = 3  # DFWS_TEST_PRESENCE_PROCESS_TTL of the cluster (tests/cluster.py)


class Window:
    """A page opened through nginx and its socket, with the positions the client keeps."""

    def __init__(self, cluster: cluster_module.Cluster, path: str, jar: CookieJar | None) -> None:
        self.cluster = cluster
        self.cookies = open_page(cluster.url, path, jar)
        self.key = window_key(self.cookies)
        self.positions: dict[str, str] = {}
        self.frames: list[dict[str, Any]] = []
        self.ws: Any = None
        self.upstreams: list[int] = []  # the daphne ports of each socket, in order
        self.connect()

    @property
    def daphne(self) -> int:
        """The index of the daphne holding the current socket."""
        return self.cluster.daphne_at(self.upstreams[-1])

    def connect(self) -> None:
        query = "dfwspos=" + quote(json.dumps(self.positions)) if self.positions else ""
        # entered by hand: websockets wants its connections used as context managers
        self.ws = connect_window(self.cluster.url, self.cookies, query=query).__enter__()
        # "127.0.0.1:A" or, when nginx found A down and went on, "127.0.0.1:A, 127.0.0.1:B"
        upstream = self.ws.response.headers["X-Upstream"]
        self.upstreams.append(int(upstream.rsplit(":", 1)[1]))

    def reconnect(self, timeout: float = 15) -> None:
        """What the client does after its socket closed: again, through nginx, until it opens."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.connect()
                return
            except (OSError, InvalidStatus, ConnectionClosed, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def ready(self) -> None:
        """The consumer has joined its groups: a heartbeat sent now comes back after it."""
        self.ws.send("--heartbeat--")
        while (text := self.ws.recv(timeout=10)) != "--heartbeat--":
            self.keep(json.loads(text))

    def read(self, timeout: float = 1.5) -> bool:
        """Read frames until ``timeout`` s of quiet; ``False`` when the socket closed."""
        while True:
            try:
                text = self.ws.recv(timeout=timeout)
            except TimeoutError:
                return True
            except ConnectionClosed:
                return False
            if text != "--heartbeat--":
                self.keep(json.loads(text))

    def keep(self, frame: dict[str, Any]) -> None:
        self.positions.update(frame.get("o", {}))
        self.frames.append(frame)

    def texts(self, selector: str = "#n") -> list[str]:
        """The contents of the ``html.text`` frames received for ``selector``."""
        return [
            f["opts"]["content"]
            for f in self.frames
            if f.get("signal") == "html.text" and f["opts"]["selector"] == selector
        ]

    def close(self) -> None:
        self.ws.close()


def read_all(windows: list[Window], quiet: float = 1.0) -> None:
    """Every window reads what it was sent: the first until ``quiet`` s pass without a frame,
    the others (whose frames arrived meanwhile) what is waiting."""
    for index, window in enumerate(windows):
        window.read(timeout=quiet if index == 0 else 0.1)


def open_windows(
    cluster: cluster_module.Cluster,
    stack: ExitStack,
    count: int,
    path: str = "/",
    jar: CookieJar | None = None,
) -> list[Window]:
    """``count`` windows through nginx, with at least one on each daphne (a few more if
    needed), each ready."""
    windows: list[Window] = []
    while len(windows) < count or len({w.daphne for w in windows}) < 2:
        assert len(windows) < count + 6, "nginx sent every socket to one daphne"
        window = Window(cluster, path, jar)
        stack.callback(window.close)
        windows.append(window)
    for window in windows:
        window.ready()
    return windows


def subscribers(cluster: cluster_module.Cluster, group: str) -> list[int]:
    """Per shard, how many daphne processes Redis counts subscribed to ``group``."""
    channel = pubsub_group_channel(settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"], group)
    counts = []
    for url in cluster.layer_hosts:
        client = redis.Redis.from_url(url)
        try:
            counts.append(int(dict(client.pubsub_numsub(channel)).get(channel.encode(), 0)))
        finally:
            client.close()
    return counts


def wait_subscribed(cluster: cluster_module.Cluster, group: str, processes: int) -> None:
    """Until ``processes`` daphne processes subscribed to ``group`` (``group_add`` returns once
    SUBSCRIBE is written, before Redis has read it). On the list layer the join is a ``ZADD``
    awaited before the heartbeat's echo: nothing to wait for."""
    if LAYER != "pubsub":
        return
    services.wait_until(
        lambda: sum(subscribers(cluster, group)) >= processes, 10, f"{processes} on {group}"
    )


def own_group(window: Window) -> str:
    group = window_group(WindowInfo.from_dict({"window_key": window.key}))
    assert group is not None
    return group


def send_to_window(window: Window, content: str, selector: str = "#n") -> None:
    info = WindowInfo.from_dict({"window_key": window.key})
    trigger(info, "html.text", to=WINDOW, selector=selector, content=content)


def test_broadcast_and_topics_reach_windows_on_both_processes(cluster):
    article = Article.objects.create(title="cluster")
    room = f"c{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        readers = open_windows(cluster, stack, 2, f"/article/{article.pk}/")
        members = open_windows(cluster, stack, 2, f"/room/{room}/")
        everyone = readers + members
        for group in ("-broadcast", serialize_topic(None, article), f"room-{room}"):
            wait_subscribed(cluster, group_name(group), processes=2)
        source = WindowInfo.from_dict({})
        trigger(source, "html.text", to=BROADCAST, selector="#all", content="everyone")
        trigger(source, "html.text", to=article, selector="#article", content="article")
        trigger(source, "html.text", to=f"room-{room}", selector="#room", content="room")
        read_all(everyone)
        assert {w.daphne for w in readers} == {w.daphne for w in members} == {0, 1}
        assert [w.texts("#all") for w in everyone] == [["everyone"]] * len(everyone)
        assert [w.texts("#article") for w in readers] == [["article"]] * len(readers)
        assert [w.texts("#room") for w in members] == [["room"]] * len(members)
        assert [w.texts("#article") for w in members] == [[]] * len(members)
        assert [w.texts("#room") for w in readers] == [[]] * len(readers)


def test_a_windows_call_is_answered_wherever_the_window_is_connected(cluster):
    """tests.multi has a handler on ``celery`` and one on ``slow``: each worker answers."""
    with ExitStack() as stack:
        windows = open_windows(cluster, stack, 2)
        for number, window in enumerate(windows, start=1):
            call = {"signal": "tests.multi", "opts": {"value": number}, "call_id": f"c{number}"}
            window.ws.send(json.dumps(call))
        for window in windows:
            deadline = time.monotonic() + 20
            while len([f for f in window.frames if "result" in f]) < 2:
                assert time.monotonic() < deadline, window.frames
                window.read(timeout=0.5)
        assert {w.daphne for w in windows} == {0, 1}
        for number, window in enumerate(windows, start=1):
            answers = [f for f in window.frames if f.get("call_id") == f"c{number}"]
            [ack] = [f["ack"] for f in answers if "ack" in f]
            assert len(ack["handlers"]) == 2
            results = sorted(
                (f["result"]["queue"], f["result"]["value"]) for f in answers if "result" in f
            )
            assert results == [("celery", number), ("slow", 2 * number)]


def test_user_reaches_the_same_users_windows_on_both_processes(cluster):
    name = f"ada-{uuid.uuid4().hex[:8]}"
    jar = CookieJar()
    open_page(cluster.url, f"/login/{name}/", jar=jar)
    with ExitStack() as stack:
        ada = open_windows(cluster, stack, 2, "/", jar)
        other = Window(cluster, "/login/bob-" + name[4:] + "/", None)  # another user
        stack.callback(other.close)
        other.ready()
        pk = get_user_model().objects.get(username=name).pk
        wait_subscribed(cluster, group_name(f"-user.{pk}"), processes=2)
        info = WindowInfo.from_dict({"user_pk": pk, "is_authenticated": True})
        trigger(info, "html.text", to=USER, selector="#user", content="ada")
        read_all([*ada, other])
        assert {w.daphne for w in ada} == {0, 1}
        assert [w.texts("#user") for w in ada] == [["ada"]] * len(ada)
        assert other.texts("#user") == []


@pytest.mark.pubsub_only  # the list layer publishes with channels_redis
def test_sync_publish_picks_the_shard_channels_redis_subscribed_on(cluster):
    """Each window's group is subscribed, by the daphne holding it, on the shard this
    process's sync publisher chose for it: and the frame published there arrives."""
    publisher = sync_publisher(get_channel_layer())
    assert publisher is not None and len(publisher.hosts) == 2
    with ExitStack() as stack:
        windows = open_windows(cluster, stack, 4)
        while len({publisher.shard(publisher.channel(own_group(w))) for w in windows}) < 2:
            assert len(windows) < 16, "every window's group on one shard"
            windows += open_windows(cluster, stack, 1)
        for window in windows:
            group = own_group(window)
            counts = subscribers(cluster, group)
            chosen = publisher.shard(publisher.channel(group))
            assert counts[chosen] == 1 and counts[1 - chosen] == 0, (group, counts)
            send_to_window(window, window.key)
        read_all(windows)
        assert [w.texts() for w in windows] == [[w.key] for w in windows]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_windows_of_a_stopped_daphne_reconnect_to_the_other_and_miss_nothing(cluster, signum):
    """50 signals to each window of the stopped process, sent while it goes away and its
    sockets reconnect through nginx: each arrives once, in order."""
    with ExitStack() as stack:
        windows = open_windows(cluster, stack, 4)
        victim = windows[0].daphne
        gone = [w for w in windows if w.daphne == victim]
        staying = [w for w in windows if w.daphne != victim]
        for window in windows:
            wait_subscribed(cluster, own_group(window), processes=1)

        def send() -> None:
            for number in range(1, 51):
                for window in windows:
                    send_to_window(window, str(number))
                time.sleep(0.01)

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(0.1)  # some frames arrive before the stop
        cluster.kill(victim, signum)
        try:
            for window in gone:
                closed_by = time.monotonic() + 20
                while window.read(timeout=1):  # until the socket closes
                    assert time.monotonic() < closed_by, "the socket stayed open"
                window.reconnect()
        finally:
            sender.join()
        read_all(windows)
        expected = [str(n) for n in range(1, 51)]
        assert [w.texts() for w in windows] == [expected] * len(windows)
        assert all(w.daphne != victim for w in windows)
        assert all(len(w.upstreams) == 2 for w in gone)
        assert all(len(w.upstreams) == 1 for w in staying)
        recovered = [f["recovered"] for w in gone for f in w.frames if "recovered" in f]
        assert all(r["resync"] == [] for r in recovered), recovered


def room_members(room: str) -> int:
    return len(presence(f"room-{room}"))


def test_presence_spans_both_processes_and_forgets_a_killed_ones_members(cluster):
    room = f"p{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        windows = open_windows(cluster, stack, 4, f"/room/{room}/")
        services.wait_until(lambda: room_members(room) == len(windows), 5, "every member")
        pids = [d.popen.pid for d in cluster.daphnes]  # each member names its process
        held = sorted(pids[w.daphne] for w in windows)
        assert sorted(cluster_module.presence_pids(f"room-{room}")) == held
        assert set(held) == set(pids)
        victim = windows[0].daphne
        gone = [w for w in windows if w.daphne == victim]
        cluster.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        services.wait_until(
            lambda: room_members(room) == len(windows) - len(gone), PROCESS_TTL + 5, "ghosts gone"
        )
        assert time.monotonic() - killed_at < PROCESS_TTL + 1.5  # process_ttl, a little slack
        for window in gone:  # the client comes back, on the other process
            window.reconnect()
        services.wait_until(lambda: room_members(room) == len(windows), 5, "members back")
        assert {w.daphne for w in windows} == {1 - victim}


RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.mark.pubsub_only  # the broker does not depend on the layer
def test_with_the_broker_on_rabbitmq_a_call_is_answered_over_the_shards(cluster, log_dir):
    """The same shards, a daphne and a worker whose broker is RabbitMQ (a queue of this run's
    own, deleted afterwards): the call goes through RabbitMQ, the answer through the layer."""
    if not services.port_open("127.0.0.1", 5672):
        subprocess.run(["rabbitmq-server", "-detached"], check=False)
        services.wait_until(lambda: services.port_open("127.0.0.1", 5672), 60, "RabbitMQ")
    queue = f"{settings.PREFIX}-cluster-amqp"
    env = {**cluster.env, "DFWS_TEST_BROKER": RABBITMQ, "DFWS_TEST_QUEUE": queue}
    with ThreadPoolExecutor(2) as pool:
        started = [
            pool.submit(services.celery_worker, "cluster-amqp", queue, env, log_dir),
            pool.submit(services.daphne, None, env, log_dir, "cluster-daphne-amqp"),
        ]
    processes = [f.result() for f in started if f.exception() is None]
    try:
        worker, daphne = (f.result() for f in started)
        cookies = open_page(daphne.url)
        with connect_window(daphne.url, cookies) as ws:
            ws.send(json.dumps({"signal": "tests.ping", "opts": {"value": 41}, "call_id": "r"}))
            frames = []
            while not any("result" in f for f in frames):
                text = ws.recv(timeout=20)
                if text != "--heartbeat--":
                    frames.append(json.loads(text))
        assert [f["result"] for f in frames if "result" in f] == [42]
        assert "amqp://guest:**@127.0.0.1:5672//" in worker.output()
    finally:
        for process in processes:
            process.stop()
        with Connection(RABBITMQ) as connection, suppress(Exception):  # it may not exist
            connection.default_channel.queue_delete(queue)
