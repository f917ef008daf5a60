"""One fan-out per process per topic message (real Redis, the Pub/Sub layer of the test project).

The process subscribes once per group; a frame is decoded once and handed to
each registered socket by a function call, while members that did not
register, and messages that are not frames, keep the layer's own queues.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import ExitStack

import pytest
import redis

from dfws_celery.history import history
from dfws_celery.publisher import asend
from dfws_celery.topics import group_name
from dfws_celery.wire import layer_frame, revoke_message
from dfws_web import fanout
from tests.layer import wait_subscribed
from tests.wsclient import connect_window, open_page, window_key

pytestmark = pytest.mark.django_db(transaction=True)


def test_frames_reach_registered_sockets_by_call_and_the_others_by_their_queue():
    from channels.layers import get_channel_layer

    group = f"dfws.fanout-{uuid.uuid4().hex[:8]}"

    async def scenario():
        layer = get_channel_layer()
        fast, slow = await layer.new_channel(), await layer.new_channel()
        for channel in (fast, slow):
            await layer.group_add(group, channel)
        got: list[dict] = []

        class Socket:
            def deliver(self, event):
                got.append(event)
                return True

        process = fanout.register(layer, fast, Socket())
        assert process is not None
        await asend([group], layer_frame('{"signal":"x"}'))
        slow_message = await asyncio.wait_for(layer.receive(slow), 5)
        await asyncio.sleep(0.1)
        assert [e["text"] for e in got] == ['{"signal":"x"}']
        assert slow_message["text"] == '{"signal":"x"}'
        assert process.channels[fast].empty()  # nothing went through its queue
        await asend([group], revoke_message())  # a control message: every queue
        assert (await asyncio.wait_for(layer.receive(fast), 5))["type"] == "dfws.revoke"
        assert (await asyncio.wait_for(layer.receive(slow), 5))["type"] == "dfws.revoke"
        fanout.unregister(process, fast)
        await asend([group], layer_frame('{"signal":"y"}'))
        assert (await asyncio.wait_for(layer.receive(fast), 5))["text"] == '{"signal":"y"}'
        assert len(got) == 1
        await layer.flush()

    asyncio.run(scenario())


def test_a_broadcast_to_many_windows_of_one_process_is_one_subscription(server):
    from django.conf import settings

    from dfws_celery import BROADCAST, WindowInfo, trigger
    from dfws_celery._compat import pubsub_group_channel

    assert settings.LAYER == "pubsub"  # this module is not in the list layer's rerun
    pages = [open_page(server) for _ in range(20)]
    with ExitStack() as stack:
        sockets = [stack.enter_context(connect_window(server, cookies)) for cookies in pages]
        for ws, cookies in zip(sockets, pages, strict=True):
            ws.send("--heartbeat--")
            assert ws.recv(timeout=5) == "--heartbeat--"
            wait_subscribed([group_name(f"-window.{window_key(cookies)}")])
        client = redis.Redis.from_url(settings.REDIS_URL)
        prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
        channel = pubsub_group_channel(prefix, group_name("-broadcast"))
        [(_, subscribers)] = client.pubsub_numsub(channel)
        assert subscribers == 1  # daphne's one subscription, whatever its number of windows
        marker = uuid.uuid4().hex
        trigger(WindowInfo(), "html.text", to=BROADCAST, selector="#b", content=marker)
        for ws in sockets:
            while True:
                frame = json.loads(ws.recv(timeout=5))
                if frame.get("opts", {}).get("content") == marker:
                    break


def test_a_sync_publish_numbers_and_publishes_in_one_script_the_layer_can_read():
    """Redis packs the layer message itself (cmsgpack): what channels_redis decodes."""
    from channels.layers import get_channel_layer
    from django.conf import settings

    from dfws_celery._compat import pubsub_group_channel
    from dfws_celery.publisher import publish

    assert settings.LAYER == "pubsub"  # this module is not in the list layer's rerun
    import redis

    layer = get_channel_layer()
    group = f"dfws.one-script-{uuid.uuid4().hex[:8]}"
    channel = pubsub_group_channel(settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"], group)
    client = redis.Redis.from_url(settings.REDIS_URL)
    listener = client.pubsub()
    listener.subscribe(channel)
    listener.get_message(timeout=2)  # the subscription's confirmation
    text = '{"signal":"x","opts":{"é":"\\u2603 ☃"},"signal_id":"s"}'
    publish([group], text)
    publish([group], text)
    seen = []
    while len(seen) < 2:
        raw = listener.get_message(timeout=2)
        assert raw is not None, "nothing published"
        seen.append(layer.deserialize(raw["data"]))
    epoch = seen[0]["o"][group][0]
    assert [m["o"] for m in seen] == [{group: [epoch, 1]}, {group: [epoch, 2]}]
    assert all(m == {"type": "dfws.frame", "text": text, "o": m["o"]} for m in seen)
    missed = asyncio.run(history().missed(group, (epoch, 0)))
    assert [t for _, t in missed.frames] == [text, text]
    listener.close()
