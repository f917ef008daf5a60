"""Contract tests of ``dfws_celery/_compat.py``: one per private API we lean on.

Each fails, naming the ``_compat`` function to mend, when an upgrade of
Django, Celery, Channels or channels_redis changes what dfws relies on.
``setup.cfg`` pins the ranges these tests cover.
"""

from __future__ import annotations

import inspect

import pytest
from celery import Celery
from channels.consumer import AsyncConsumer
from channels_redis.pubsub import RedisPubSubLoopLayer
from django.core.cache.backends.redis import RedisCache

from dfws_celery import _compat

HOSTS = [f"redis://127.0.0.1:{port}/0" for port in (7001, 7002, 7003)]


def test_active_celery_apps_lists_ours_without_celerys_fallback():
    app = Celery("dfws-compat", set_as_current=False)
    apps = _compat.active_celery_apps()
    assert app in apps, "_compat.active_celery_apps: Celery no longer lists its apps"
    assert all(a.main != "default" for a in apps)


def test_reset_celery_router_makes_a_new_route_effective():
    app = Celery("dfws-compat-routes", set_as_current=False)
    app.conf.task_routes = [{"a.task": {"queue": "first"}}]
    assert app.amqp.router.route({}, "a.task")["queue"].name == "first"  # now cached

    app.conf.task_routes = [lambda name, *args, **kw: {"queue": "second"}]
    _compat.reset_celery_router(app)
    route = app.amqp.router.route({}, "a.task")
    assert route["queue"].name == "second", (
        "_compat.reset_celery_router: Celery kept a stale router"
    )


def test_pubsub_group_channel_is_the_layers_own_name():
    layer = RedisPubSubLoopLayer(hosts=HOSTS, prefix="proj")
    for group in ("dfws.-broadcast", "dfws.h.0123abcd", "g"):
        expected = layer._get_group_channel_name(group)
        assert _compat.pubsub_group_channel("proj", group) == expected, (
            "_compat.pubsub_group_channel: channels_redis names group channels differently"
        )


def test_shard_of_is_the_layers_own_choice():
    layer = RedisPubSubLoopLayer(hosts=HOSTS, prefix="proj")
    names = [f"proj__group__dfws.-user.{n}" for n in range(200)]
    chosen = {_compat.shard_of(name, len(HOSTS)) for name in names}
    assert chosen == {0, 1, 2}  # the names spread over every shard
    for name in names:
        assert layer._get_shard(name) is layer._shards[_compat.shard_of(name, len(HOSTS))], (
            "_compat.shard_of: channels_redis chooses shards differently"
        )


def test_redis_cache_parts_are_what_the_backend_reads_with():
    backend = RedisCache(
        "redis://127.0.0.1:7001/2,redis://127.0.0.1:7002/2,redis://127.0.0.1:7003/2",
        {"OPTIONS": {"client_name": "dfws-compat", "db": 2}},
    )
    server, options, serializer = _compat.redis_cache_parts(backend)
    replicas = ["redis://127.0.0.1:7002/2", "redis://127.0.0.1:7003/2"]
    assert server in replicas, (
        "_compat.redis_cache_parts: reads go to a replica, as RedisCache does"
    )
    assert options == {"client_name": "dfws-compat", "db": 2}
    value = {"topics": ["-broadcast"], "window_info": {"n": 7}}
    assert serializer.loads(backend._cache._serializer.dumps(value)) == value
    assert serializer.loads(serializer.dumps(12)) == 12  # integers are stored unpickled
    assert _compat.redis_cache_options(backend) == options


def test_redis_cache_parts_of_one_server_is_that_server():
    backend = RedisCache("redis://127.0.0.1:7001/3", {})
    server, options, _ = _compat.redis_cache_parts(backend)
    assert (server, options) == ("redis://127.0.0.1:7001/3", {})


def test_handler_of_finds_the_method_as_channels_dispatch_does():
    class Consumer(AsyncConsumer):
        async def dfws_frame(self, message):
            pass

    consumer = Consumer()
    assert _compat.handler_of(consumer, {"type": "dfws.frame"}) == consumer.dfws_frame
    with pytest.raises(ValueError, match=r"No handler for message type 'dfws\.nothing'"):
        _compat.handler_of(consumer, {"type": "dfws.nothing"})


def test_channels_dispatch_still_closes_database_connections_per_message():
    # the reason SignalConsumer.dispatch skips Channels' own: when this fails, Channels
    # stopped doing it and the override can go
    source = inspect.getsource(AsyncConsumer.dispatch)
    assert "aclose_old_connections" in source


def test_pubsub_process_sees_the_loop_layers_queues_groups_and_receivers():
    import asyncio

    from channels_redis.pubsub import RedisPubSubChannelLayer

    layer = RedisPubSubChannelLayer(hosts=HOSTS[:2], prefix="compat")

    async def scenario():
        process = _compat.PubSubProcess(layer)
        channel = "compat.local!abc"
        process.channels[channel] = asyncio.Queue()  # what new_channel() keeps, minus Redis
        process.groups.setdefault("compat__group__g", set()).add(channel)
        seen = []
        process.hook_receivers(lambda shard, original: seen.append(original) or original)
        process.hook_receivers(lambda shard, original: seen.append(original) or original)
        assert len(seen) == 2, "_compat.PubSubProcess: a shard without _receive_message"
        data = layer.serialize({"type": "dfws.frame", "text": "x"})
        seen[0]({"channel": b"compat__group__g", "data": data})  # channels_redis' own spread
        assert process.deserialize(process.channels[channel].get_nowait())["text"] == "x"

    asyncio.run(scenario())


def test_plain_msgpack_tells_a_bare_msgpack_layer_from_an_encrypted_one():
    from channels_redis.pubsub import RedisPubSubChannelLayer

    plain = RedisPubSubChannelLayer(hosts=HOSTS[:1])
    assert _compat.plain_msgpack(plain), "_compat.plain_msgpack: channels_redis' serializer moved"
    encrypted = RedisPubSubChannelLayer(hosts=HOSTS[:1], symmetric_encryption_keys=["k" * 32])
    assert not _compat.plain_msgpack(encrypted)


def test_serve_async_consumer_sets_up_a_consumer_as_channels_call_does():
    """Run on a consumer, ``serve_async_consumer`` and Channels' own ``__call__`` must leave
    the same attributes and dispatch the same messages (the in-memory layer of the unit tier)."""
    import asyncio

    from channels.exceptions import StopConsumer

    class Probe(AsyncConsumer):
        async def websocket_connect(self, message):
            self.seen = message["type"]
            raise StopConsumer

    async def serve(run):
        consumer = Probe()
        queue: asyncio.Queue = asyncio.Queue()
        await queue.put({"type": "websocket.connect"})
        await run(consumer, {"type": "websocket", "path": "/"}, queue.get, queue.put)
        return consumer

    channels_way = asyncio.run(serve(lambda c, *args: c(*args)))
    ours = asyncio.run(serve(_compat.serve_async_consumer))
    assert sorted(vars(ours)) == sorted(vars(channels_way)), (
        "_compat.serve_async_consumer: AsyncConsumer.__call__ sets up its consumer otherwise"
    )
    assert ours.seen == channels_way.seen == "websocket.connect"
    source = inspect.getsource(AsyncConsumer.__call__)
    for step in ("new_channel", "await_many_dispatch", "StopConsumer"):
        assert step in source, f"_compat.serve_async_consumer: AsyncConsumer.__call__ lost {step}"


def test_serve_async_consumer_asks_the_consumer_when_its_channel_cannot_open(monkeypatch):
    import asyncio

    import channels.layers

    class Layer:
        async def new_channel(self):
            raise ConnectionError("Redis is down")

    class Probe(AsyncConsumer):
        async def channel_failed(self, exc, receive, send):
            self.answered = type(exc).__name__
            return isinstance(exc, ConnectionError)

    monkeypatch.setattr(channels.layers, "get_channel_layer", lambda alias=None: Layer())
    consumer = Probe()
    asyncio.run(_compat.serve_async_consumer(consumer, {"type": "websocket"}, None, None))
    assert consumer.answered == "ConnectionError"  # answered by the consumer, not raised
