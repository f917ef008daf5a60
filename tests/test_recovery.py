"""A window that reconnects misses nothing (real daphne, Redis Pub/Sub, history in Redis).

Frames are triggered from this process, as a view or a task would; the
socket is a plain websocket client that keeps the last position per topic
(``"o"``) and sends them back when it reconnects, as the TypeScript client
does.
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest

from dfws_celery import WINDOW, WindowInfo, trigger
from dfws_celery.history import history
from dfws_celery.topics import group_name
from dfws_web.recovery import topic_tag
from tests.layer import window_joined
from tests.wsclient import connect_window, frames_until_quiet, open_page, window_key

pytestmark = pytest.mark.django_db(transaction=True)


def sender(cookies: dict[str, str]) -> WindowInfo:
    return WindowInfo.from_dict({"window_key": window_key(cookies)})


def send(cookies: dict[str, str], *values: int) -> None:
    info = sender(cookies)
    for value in values:
        trigger(info, "html.text", to=WINDOW, selector="#n", content=str(value))


def contents(frames: list[dict]) -> list[int]:
    return [int(f["opts"]["content"]) for f in frames if f.get("signal") == "html.text"]


def last_positions(frames: list[dict], positions: dict | None = None) -> dict:
    positions = dict(positions or {})
    for frame in frames:
        positions.update(frame.get("o", {}))
    return positions


def pos_query(positions: dict) -> str:
    return "dfwspos=" + quote(json.dumps(positions))


def test_a_reconnecting_window_gets_everything_it_missed_in_order_exactly_once(server):
    cookies = open_page(server)
    with connect_window(server, cookies) as ws:
        window_joined(ws, window_key(cookies))
        send(cookies, 1, 2, 3)
        seen = frames_until_quiet(ws)
    assert contents(seen) == [1, 2, 3]
    positions = last_positions(seen)
    own = topic_tag(group_name(f"-window.{window_key(cookies)}"))
    assert list(positions) == [own]  # the window's own topic
    send(cookies, *range(4, 104))  # 100 signals while the socket is down
    with connect_window(server, cookies, query=pos_query(positions)) as ws:
        again = frames_until_quiet(ws)
        send(cookies, 104)  # live traffic after the seam
        again += frames_until_quiet(ws)
    assert contents(again) == list(range(4, 105))
    recovered = [f["recovered"] for f in again if "recovered" in f]
    assert recovered == [{"frames": 100, "resync": []}]
    offsets = [int(f["o"][own].split(".")[1]) for f in again if "o" in f]
    assert offsets == list(range(4, 105))


def test_signals_sent_before_the_first_connect_reach_the_window(server):
    cookies = open_page(server)
    send(cookies, 7, 8)  # e.g. from the view that rendered the page
    with connect_window(server, cookies) as ws:
        frames = frames_until_quiet(ws)
    assert contents(frames) == [7, 8]
    assert frames[-1] == {"recovered": {"frames": 2, "resync": []}}


def test_a_position_from_a_lost_history_asks_the_page_to_resync(server):
    cookies = open_page(server)
    send(cookies, 1)
    own = topic_tag(group_name(f"-window.{window_key(cookies)}"))
    stale = {own: "0badc0de.1"}  # another epoch: that history is gone
    with connect_window(server, cookies, query=pos_query(stale)) as ws:
        frames = frames_until_quiet(ws)
        assert frames == [{"recovered": {"frames": 0, "resync": [own]}}]
        send(cookies, 2)  # and the socket goes on from the current position
        assert contents(frames_until_quiet(ws)) == [2]


def test_a_frame_lost_between_redis_and_daphne_is_filled_from_the_history(server):
    cookies = open_page(server)
    group = group_name(f"-window.{window_key(cookies)}")
    with connect_window(server, cookies) as ws:
        window_joined(ws, window_key(cookies))
        send(cookies, 1)
        assert contents(frames_until_quiet(ws)) == [1]
        # numbered and kept, never published: what a Pub/Sub reconnect loses
        lost = '{"signal":"html.text","opts":{"selector":"#n","content":"2"},"signal_id":"x"}'
        history().append([group], lost)
        send(cookies, 3)
        assert contents(frames_until_quiet(ws)) == [2, 3]


@pytest.mark.parametrize(
    "query",
    [
        "dfwspos=not-json",
        "dfwspos=" + quote('{"0": "zz.1", "99": "ab.1", "-1": "ab.1", "0x": 5}'),
        "dfwspos=" + quote(json.dumps({"0": "ab." + "9" * 40})),
        "dfwspos=" + quote(json.dumps({str(i): "ab.1" for i in range(400)})),  # > 4 KB
        "dfwspos=" + quote("[" * 5000),
    ],
)
def test_hostile_positions_are_ignored_and_the_socket_works(server, query):
    cookies = open_page(server)
    with connect_window(server, cookies, query=query) as ws:
        window_joined(ws, window_key(cookies))
        send(cookies, 5)
        assert contents(frames_until_quiet(ws)) == [5]


def test_the_answer_to_a_call_sent_while_the_socket_was_down_arrives_after_reconnect(
    server, worker
):
    cookies = open_page(server)
    with connect_window(server, cookies) as ws:
        window_joined(ws, window_key(cookies))
        call = {"signal": "tests.sleepy", "opts": {"seconds": 0.5}, "call_id": "c1"}
        ws.send(json.dumps(call))
        assert json.loads(ws.recv(timeout=10))["ack"]["handlers"]
    # the socket is gone before the worker answers; the page reconnects a little later
    time.sleep(2)
    with connect_window(server, cookies) as ws:
        frames = frames_until_quiet(ws)
    answers = [f for f in frames if f.get("call_id") == "c1" and "result" in f]
    assert len(answers) == 1 and answers[0]["result"] is None  # sleepy returns nothing
    # the ack was kept too (the page ignores an ack it has): replayed before the result
    assert next(sorted(f) for f in frames if f.get("call_id") == "c1") == ["ack", "call_id", "o"]
    assert frames[-1] == {"recovered": {"frames": 2, "resync": []}}


def test_a_call_whose_socket_closed_before_its_ack_gets_ack_and_answer_after_reconnect(
    server, worker
):
    cookies = open_page(server)
    with connect_window(server, cookies) as ws:
        window_joined(ws, window_key(cookies))
        ws.send(json.dumps({"signal": "tests.ping", "opts": {"value": 4}, "call_id": "c2"}))
    # the socket is gone without reading anything: the ack may never have reached it.
    # Reconnect as the client does, with the positions of what arrived so far (on a busy
    # machine the worker may answer only after the first reconnect went quiet)
    deadline = time.monotonic() + 10
    frames: list[dict] = []
    while time.monotonic() < deadline:
        query = pos_query(last_positions(frames)) if frames else ""
        with connect_window(server, cookies, query=query) as ws:
            frames += frames_until_quiet(ws, quiet=1.0)
        if any("result" in f for f in frames):
            break
    kinds = [("ack" if "ack" in f else "result") for f in frames if f.get("call_id") == "c2"]
    assert kinds == ["ack", "result"]
    assert [f["result"] for f in frames if "result" in f] == [5]


def test_the_in_memory_mode_keeps_its_history_in_the_process(log_dir):
    """The demo's shape: in-memory layer and cache, handlers in threads, one daphne."""
    settings_json = json.dumps(
        {
            "CHANNEL_LAYERS": {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
            "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
            "WEBSOCKET_WORKERS": "thread",
            "WEBSOCKET_PRESENCE": None,
        }
    )
    from tests import services

    daphne = services.daphne(
        None, services.test_env(DFWS_TEST_SETTINGS=settings_json), log_dir, name="daphne-memory"
    )
    try:
        cookies = open_page(daphne.url)
        with connect_window(daphne.url, cookies) as ws:
            ws.send(
                json.dumps({"signal": "tests.echo", "opts": {"content": "one"}, "call_id": "e"})
            )
            seen = frames_until_quiet(ws)
            call = {"signal": "tests.sleepy", "opts": {"seconds": 0.5}, "call_id": "s"}
            ws.send(json.dumps(call))
            assert json.loads(ws.recv(timeout=5))["ack"]["handlers"]
        # answered while the socket is away: kept in the process's history
        time.sleep(1.5)
        positions = last_positions(seen)
        assert positions, seen
        with connect_window(daphne.url, cookies, query=pos_query(positions)) as ws:
            again = frames_until_quiet(ws)
        assert [f["result"] for f in again if f.get("call_id") == "s" and "result" in f] == [None]
        assert again[-1]["recovered"]["resync"] == []
    finally:
        daphne.stop()
