"""dfws' sync Pub/Sub publisher against channels_redis' own RedisPubSubChannelLayer.

Two real Redis servers make two shards: a frame published on the wrong
shard, or on a channel name the layer does not subscribe to, never arrives.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer

from dfws_celery.layers import redis_pubsub_channel_layer
from dfws_celery.pubsub import SyncPubSub, sync_publisher
from tests import services


@pytest.fixture(scope="module")
def second_redis(log_dir: Path) -> Iterator[str]:
    port = services.free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no"]
    process = services.Process(f"redis-{port}", args, services.test_env(), log_dir)
    try:
        services.wait_until(lambda: services.port_open("127.0.0.1", port), 10, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.stop()


def numsub(url: str, channel: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(dict(client.pubsub_numsub(channel)).get(channel.encode(), 0))
    finally:
        client.close()


def test_sync_publish_reaches_layer_subscribers_on_every_shard(second_redis):
    urls = ["redis://127.0.0.1:6379/0", second_redis]
    config = {
        "hosts": [redis_pubsub_channel_layer(url)["CONFIG"]["hosts"][0] for url in urls],
        "prefix": f"dfws-shards-{uuid.uuid4().hex[:8]}",
    }
    layer = RedisPubSubChannelLayer(**config)
    publisher = SyncPubSub(layer, config)
    by_shard: dict[int, list[str]] = {0: [], 1: []}
    for _ in range(200):  # three groups on each server
        group = f"group-{uuid.uuid4().hex[:6]}"
        by_shard[publisher.shard(publisher.channel(group))].append(group)
    groups = by_shard[0][:3] + by_shard[1][:3]
    assert len(groups) == 6
    message = {"type": "dfws.frame", "text": '{"signal": "demo.shards"}'}

    async def scenario() -> list[dict[str, str]]:
        channels = {}
        for group in groups:
            channels[group] = await layer.new_channel()
            await layer.group_add(group, channels[group])
        for group in groups:
            channel = publisher.channel(group)
            url = urls[publisher.shard(channel)]
            while numsub(url, channel) == 0:
                await asyncio.sleep(0.01)
        await asyncio.to_thread(publisher.group_send, groups, message)
        received = [await asyncio.wait_for(layer.receive(channels[group]), 5) for group in groups]
        await layer.flush()
        return received

    assert asyncio.run(scenario()) == [message] * len(groups)


def test_sync_publisher_follows_the_configured_layer(settings):
    assert isinstance(sync_publisher(get_channel_layer()), SyncPubSub) == (
        settings.LAYER == "pubsub"
    )
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer()
    assert isinstance(layer, InMemoryChannelLayer) and sync_publisher(layer) is None


def test_a_publishing_connection_closed_by_redis_is_reopened(settings):
    settings.CHANNEL_LAYERS = {  # this test's subject, whichever layer the run uses
        "default": redis_pubsub_channel_layer(settings.REDIS_URL, prefix=f"{settings.PREFIX}:ps")
    }
    from dfws_celery import trigger
    from dfws_celery.topics import group_name

    layer = get_channel_layer()
    publisher = sync_publisher(layer)
    admin = redis.Redis.from_url(settings.REDIS_URL)
    listener = admin.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(publisher.channel(group_name("revive")))

    def publish_and_read(n: int) -> object:
        trigger(None, "demo.revive", to="revive", n=n)  # on this thread's connection
        for _ in range(10):
            message = listener.get_message(timeout=0.5)
            if message is not None:
                break
        else:
            raise AssertionError(f"publish {n} never arrived")
        return json.loads(layer.deserialize(message["data"])["text"])["opts"]

    try:
        listener.get_message(timeout=1)  # the subscription is confirmed
        assert publish_and_read(1) == {"n": 1}
        connection = publisher.checkout(0)  # the one the next publish takes
        host, port = connection._sock.getsockname()
        publisher.checkin(0, connection)
        assert admin.client_kill(f"{host}:{port}")
        assert publish_and_read(2) == {"n": 2}
    finally:
        listener.close()
        admin.close()


def start_redis(port: int, log_dir: Path, name: str) -> services.Process:
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no"]
    process = services.Process(name, args, services.test_env(), log_dir)
    services.wait_until(lambda: services.port_open("127.0.0.1", port), 10, "redis-server")
    return process


def test_windows_hear_again_after_redis_restarts(log_dir):
    """daphne's subscriptions come back, and the sync publisher reconnects by itself."""
    port = services.free_port()
    server = start_redis(port, log_dir, f"redis-restart-{port}")
    config = {
        "hosts": redis_pubsub_channel_layer(f"redis://127.0.0.1:{port}/0")["CONFIG"]["hosts"],
        "prefix": "dfws-restart",
    }
    layer = RedisPubSubChannelLayer(**config)  # what a daphne process holds
    publisher = SyncPubSub(layer, config)  # what a worker holds

    async def scenario() -> list[int]:
        nonlocal server
        channel = await layer.new_channel()
        await layer.group_add("window", channel)
        while numsub(f"redis://127.0.0.1:{port}/0", publisher.channel("window")) == 0:
            await asyncio.sleep(0.01)
        heard = []
        await asyncio.to_thread(publisher.group_send, ["window"], {"type": "t", "n": 1})
        heard.append((await asyncio.wait_for(layer.receive(channel), 5))["n"])
        server.stop()
        server = start_redis(port, log_dir, f"redis-restart-{port}-again")
        # one receive kept waiting, as a consumer does: cancelling it would make channels_redis
        # drop the channel's queue (it takes a cancelled receive for a closing consumer)
        pending = asyncio.ensure_future(layer.receive(channel))
        deadline = asyncio.get_running_loop().time() + 30  # it resubscribes in a few seconds
        n = 1
        while not pending.done() and asyncio.get_running_loop().time() < deadline:
            n += 1
            await asyncio.to_thread(publisher.group_send, ["window"], {"type": "t", "n": n})
            await asyncio.wait({pending}, timeout=0.5)
        if pending.done():
            heard.append(pending.result()["n"])
        else:
            pending.cancel()
        await layer.flush()
        return heard

    try:
        heard = asyncio.run(scenario())
    finally:
        server.stop()
        publisher.close()
    assert heard[0] == 1 and len(heard) == 2
