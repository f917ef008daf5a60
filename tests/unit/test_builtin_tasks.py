"""``dfws.publish`` and ``dfws.trigger``: the two tasks dfws adds besides the handlers."""

from __future__ import annotations

import asyncio

import pytest

from dfws_celery import publisher
from dfws_celery.builtin_tasks import publish_frame, register, trigger_from_beat
from dfws_celery.registry import REGISTRY
from dfws_celery.testing import SignalQueue
from tests.celery_app import app


@pytest.fixture
def beat_signal(declared, request):
    from dfws_celery import signal

    # a task name per test: Celery keeps the task of a forgotten declaration
    @signal("unit.beat.tick", name=f"unit.beat.tick.{request.node.name}")
    def tick(window_info, zone="UTC"):
        pass

    return REGISTRY.get("unit.beat.tick")[0]


def test_both_tasks_are_registered_once_as_json_tasks():
    register()  # apps.ready() ran it already: again is a no-op
    for name in ("dfws.publish", "dfws.trigger"):
        task = app.tasks[name]
        assert (task.serializer, task.ignore_result) == ("json", True)


def test_beat_trigger_runs_on_the_server_by_default(beat_signal):
    with SignalQueue() as queue:
        trigger_from_beat("unit.beat.tick", kwargs={"zone": "CET"})
    [entry] = queue.python_signals["celery"]
    assert entry[0] == "unit.beat.tick" and entry[2] == {"zone": "CET"}
    assert dict(queue.ws_signals) == {}


def test_beat_target_names_are_special_targets_and_other_strings_topics(beat_signal):
    with SignalQueue() as queue:
        trigger_from_beat("unit.beat.tick", ["BROADCAST", "SERVER", "room", "USER"])
        trigger_from_beat("unit.beat.tick", "lobby")
    # USER of a blank window names no window: nothing is sent for it
    assert queue.ws_signals == {
        "-broadcast": [("unit.beat.tick", {})],
        "room": [("unit.beat.tick", {})],
        "lobby": [("unit.beat.tick", {})],
    }
    assert len(queue.python_signals["celery"]) == 1


def test_beat_trigger_may_name_a_window(beat_signal):
    with SignalQueue() as queue:
        trigger_from_beat("unit.beat.tick", ["WINDOW"], window_info={"window_key": "w1"})
    assert queue.ws_signals == {"-window.w1": [("unit.beat.tick", {})]}


def test_the_publish_task_sends_the_frame_to_each_group(monkeypatch):
    monkeypatch.setattr(publisher, "warm_loop", publisher.WarmLoop())

    async def scenario():
        publisher.warm_loop.adopt_current()  # as a connected consumer does
        layer = publisher.channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("dfws.room", channel)
        await asyncio.to_thread(publish_frame, ["dfws.room", "dfws.empty"], '{"signal":"x"}')
        return await asyncio.wait_for(layer.receive(channel), 1)

    message = asyncio.run(scenario())
    assert (message["type"], message["text"]) == ("dfws.frame", '{"signal":"x"}')
    assert set(message["o"]) == {"dfws.room", "dfws.empty"}  # numbered in both histories
