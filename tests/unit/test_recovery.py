"""Histories and positions, in this process (``LocalHistory``: the in-memory layer's)."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import pytest

from dfws_celery.conf import HistorySettings
from dfws_celery.history import LocalHistory, missed_from
from dfws_web.recovery import Recovery, asked_positions, topic_tag


def frames(*offsets: int) -> list[tuple[int, str]]:
    return [(o, f'{{"n":{o}}}') for o in offsets]


@pytest.mark.parametrize(
    ("position", "epoch", "last", "kept", "want", "complete"),
    [
        (("e", 2), "e", 4, frames(1, 2, 3, 4), [3, 4], True),
        (("e", 4), "e", 4, frames(1, 2, 3, 4), [], True),  # nothing missed
        (("e", 9), "e", 4, frames(1, 2, 3, 4), [], True),  # a position from the future
        (("e", 1), "e", 9, frames(5, 6, 7, 8, 9), [], False),  # 2-4 were trimmed
        (("old", 2), "e", 4, frames(1, 2, 3, 4), [], False),  # another epoch
        (("e", 2), None, 0, [], [], False),  # the history is gone
        (None, None, 0, [], [], True),  # nothing kept, nothing seen
        (None, "e", 2, frames(1, 2), [1, 2], True),  # a first connect takes everything
        (None, "e", 9, frames(8, 9), [], False),  # ...unless the start was trimmed
    ],
)
def test_what_a_reader_missed(position, epoch, last, kept, want, complete):
    missed = missed_from(position, epoch, last, kept)
    assert [o for o, _ in missed.frames] == want
    assert missed.complete is complete


def test_a_hole_is_read_up_to_the_live_frame():
    missed = missed_from(("e", 1), "e", 9, frames(1, 2, 3, 4, 5), before=4)
    assert [o for o, _ in missed.frames] == [2, 3] and missed.complete


def test_a_local_history_numbers_per_group_and_keeps_the_last_frames():
    store = LocalHistory(HistorySettings(size=3))
    first = store.append(["a", "b"], "x")
    assert first["a"][1] == first["b"][1] == 1 and first["a"][0] != first["b"][0]
    for n in range(2, 7):
        store.append(["a"], f'{{"n":{n}}}')
    missed = asyncio.run(store.missed("a", (first["a"][0], 2)))
    assert not missed.complete  # 3 was trimmed: only 4, 5, 6 are kept
    missed = asyncio.run(store.missed("a", (first["a"][0], 4)))
    assert [text for _, text in missed.frames] == ['{"n":5}', '{"n":6}']


def scope(query: str) -> dict:
    return {"query_string": query.encode()}


def test_positions_the_browser_sends_back_are_checked_one_by_one():
    tag = topic_tag("dfws.room")
    sent = {tag: "ab12.7", "0": "ab.1", "0" * 13: "ab.1", "f" * 12: "zz.1", "a" * 12: "ab.-1"}
    query = "dfwskey=k&dfwspos=" + quote(json.dumps(sent))
    assert asked_positions(scope(query)) == {tag: ("ab12", 7)}
    assert asked_positions(scope("dfwspos=%5B%5D")) == {}
    assert asked_positions(scope("dfwspos=" + "1" * 5000)) == {}


def test_a_topic_tag_is_short_stable_and_names_no_window_key():
    tag = topic_tag("dfws.-window.secretkey")
    assert tag == topic_tag("dfws.-window.secretkey") and len(tag) == 12
    assert "secret" not in tag and tag != topic_tag("dfws.-window.otherkey")


def test_live_frames_pass_once_in_order_and_holes_are_filled():
    store = LocalHistory(HistorySettings())

    def publish(groups, text):
        return {"type": "dfws.frame", "text": text, "o": store.append(groups, text)}

    recovery = Recovery(store, ["w", "u"], "w", {})
    assert asyncio.run(recovery.replay()) == ([], [])
    one = publish(["w", "u"], '{"n":1}')
    sent = recovery.live(one)
    assert len(sent) == 1 and json.loads(sent[0])["o"].keys() == {topic_tag("w"), topic_tag("u")}
    assert recovery.live(one) == []  # the copy through the other group
    store.append(["w"], '{"n":2}')  # kept, never delivered
    three = publish(["w"], '{"n":3}')
    assert recovery.live(three) is None  # a hole: the history first
    sent, resync = asyncio.run(recovery.alive(three))
    assert [json.loads(t)["n"] for t in sent] == [2, 3] and resync == []
    assert recovery.live(three) == []


def test_a_history_lost_while_connected_asks_for_a_resync():
    store = LocalHistory(HistorySettings())
    recovery = Recovery(store, ["w"], "w", {})
    recovery.live({"type": "dfws.frame", "text": "{}", "o": {"w": ("aaaa", 7)}})
    lost = {"type": "dfws.frame", "text": '{"n":1}', "o": {"w": ("bbbb", 1)}}
    assert recovery.live(lost) is None
    sent, resync = asyncio.run(recovery.alive(lost))
    assert resync == [topic_tag("w")] and json.loads(sent[0])["o"] == {topic_tag("w"): "bbbb.1"}


def test_an_answer_kept_by_the_edge_is_replayed_and_is_no_hole_for_the_next_frame():
    store = LocalHistory(HistorySettings())
    recovery = Recovery(store, ["w"], "w", {})
    assert asyncio.run(recovery.replay()) == ([], [])
    sent = asyncio.run(recovery.keep("w", '{"call_id":"c","ack":{"handlers":["h"]}}'))
    assert json.loads(sent)["o"] == {topic_tag("w"): f"{store.groups['w'][0]}.1"}  # its place
    result = store.append(["w"], '{"call_id":"c","handler":"h","result":1}')
    sent = recovery.live({"type": "dfws.frame", "text": "{}", "o": result})
    assert sent is not None and len(sent) == 1  # straight through: the ack was sent already
    replay = Recovery(store, ["w"], "w", {})  # the same window, reconnecting with no position
    frames, _ = asyncio.run(replay.replay())
    assert [json.loads(f).get("ack") is not None for f in frames] == [True, False]


def test_an_answer_numbered_before_the_kept_ack_still_reaches_the_socket():
    """A handler in the web process (``thread`` mode) can answer before the ack is kept:
    its result is numbered first, and must not be taken for a frame sent already."""
    store = LocalHistory(HistorySettings())
    recovery = Recovery(store, ["w"], "w", {})
    assert asyncio.run(recovery.replay()) == ([], [])
    result = store.append(["w"], '{"call_id":"c","handler":"h","result":1}')  # offset 1
    asyncio.run(recovery.keep("w", '{"call_id":"c","ack":{"handlers":["h"]}}'))  # offset 2
    sent = recovery.live({"type": "dfws.frame", "text": "{}", "o": result})
    assert sent is not None and len(sent) == 1, "the result was dropped as sent already"


def test_an_answer_kept_ahead_of_the_position_is_not_sent_twice():
    """Progress numbered before the kept ack, more progress after it: the ack, sent when it
    was kept, is no hole to fill from the history (a second ack would reach the page)."""
    store = LocalHistory(HistorySettings())
    recovery = Recovery(store, ["w"], "w", {})
    assert asyncio.run(recovery.replay()) == ([], [])
    first = store.append(["w"], '{"call_id":"c","handler":"h","progress":{}}')  # offset 1
    asyncio.run(recovery.keep("w", '{"call_id":"c","ack":{"handlers":["h"]}}'))  # offset 2
    second = store.append(["w"], '{"call_id":"c","handler":"h","result":1}')  # offset 3
    sent = [recovery.live({"type": "dfws.frame", "text": "{}", "o": o}) for o in (first, second)]
    assert [len(frames or []) for frames in sent] == [1, 1], sent
    later = store.append(["w"], '{"n":4}')
    assert len(recovery.live({"type": "dfws.frame", "text": "{}", "o": later}) or []) == 1


def test_an_ack_kept_by_the_previous_socket_after_this_one_connected_is_not_lost():
    """The socket that sent a call closes; the page reconnects before the old consumer has
    kept its ack: the new socket's replay finds the window's history empty, and the result
    that arrives live at offset 2 reveals the ack at offset 1 as a hole to fill."""
    store = LocalHistory(HistorySettings())
    recovery = Recovery(store, ["w"], "w", {})
    assert asyncio.run(recovery.replay()) == ([], [])  # nothing kept yet
    old_socket = Recovery(store, ["w"], "w", {})
    asyncio.run(old_socket.keep("w", '{"call_id":"c","ack":{"handlers":["h"]}}'))  # offset 1
    result = {
        "type": "dfws.frame",
        "text": '{"call_id":"c","handler":"h","result":1}',
        "o": store.append(["w"], '{"call_id":"c","handler":"h","result":1}'),
    }
    assert recovery.live(result) is None
    sent, resync = asyncio.run(recovery.alive(result))
    assert [sorted(json.loads(t)) for t in sent] == [
        ["ack", "call_id", "o"],
        ["call_id", "handler", "o", "result"],
    ]
    assert resync == []
    other = Recovery(store, ["u"], "w", {})  # a topic group with no position: live from now
    assert asyncio.run(other.replay()) == ([], [])
    store.append(["u"], '{"n":1}')
    later = store.append(["u"], '{"n":2}')
    assert len(other.live({"type": "dfws.frame", "text": '{"n":2}', "o": later}) or []) == 1


def test_an_idle_sockets_recovery_stays_small():
    """S7 (issue 14): thousands of idle windows each hold one ``Recovery``; after the
    replay it keeps its tags and positions only, and sockets of a group share its tag."""
    import sys
    import tracemalloc

    store = LocalHistory(HistorySettings())
    store.append(["dfws.-window.k"], '{"n":1}')
    groups = ["dfws.-window.k", "dfws.-session.s", "dfws.-broadcast"]
    recoveries = [Recovery(store, groups, "dfws.-window.k", {}) for _ in range(2)]
    for recovery in recoveries:
        frames, resync = asyncio.run(recovery.replay())
        assert len(frames) == 1 and resync == []
    first, second = (r.tag_of["dfws.-broadcast"] for r in recoveries)
    assert first is second  # one string for every socket of the process
    assert not hasattr(recoveries[0], "__dict__")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [Recovery(store, groups, "dfws.-window.k", {}) for _ in range(100)]
        for recovery in kept:
            asyncio.run(recovery.replay())
        size = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    finally:
        tracemalloc.stop()
    assert size < 1100, f"{size:.0f} bytes per socket"  # 1.6 KiB before issue 14
    assert sys.getsizeof(kept[0]) < 100
