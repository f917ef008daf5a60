"""Topics: serialized the same way in every process, mapped to valid group names."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from dfws_celery import BROADCAST, SERVER, SESSION, SYNC, USER, WINDOW, WindowInfo
from dfws_celery.topics import group_name, serialize_topic, topic_kind

GROUP_RE = re.compile(r"^[A-Za-z0-9._-]{1,99}$")


def window(**values):
    return WindowInfo.from_dict({"window_key": "k1", "session_hash": "s1", **values})


class Room:
    def __init__(self, n):
        self.n = n

    def __repr__(self):
        return f"Room({self.n})"


def test_special_targets_name_the_callers_windows():
    info = window(user_pk=7)
    assert [serialize_topic(info, t) for t in (BROADCAST, WINDOW, USER, SESSION)] == [
        "-broadcast", "-window.k1", "-user.7", "-session.s1",
    ]  # fmt: skip


def test_user_falls_back_to_the_session_then_the_window_then_nothing():
    assert serialize_topic(window(), USER) == "-session.s1"
    assert serialize_topic(WindowInfo.from_dict({"window_key": "k2"}), USER) == "-window.k2"
    assert serialize_topic(WindowInfo.from_dict({"window_key": "k2"}), SESSION) == "-window.k2"
    assert serialize_topic(WindowInfo.from_dict({}), USER) is None
    assert serialize_topic(None, WINDOW) is None
    assert serialize_topic(None, BROADCAST) == "-broadcast"


@pytest.mark.parametrize("target", [SERVER, SYNC])
def test_handler_targets_are_not_topics(target):
    with pytest.raises(ValueError, match=f"{target!r} is not a browser target"):
        serialize_topic(window(), target)


def test_strings_cannot_impersonate_special_topics():
    assert serialize_topic(None, "news") == "news"
    assert serialize_topic(None, "-broadcast") == "-str.-broadcast"


def test_models_classes_and_scalars():
    assert serialize_topic(None, Group(pk=42)) == "-auth.group.42"
    assert serialize_topic(None, Group) == "-auth.group"
    assert serialize_topic(None, Room) == f"-cls.{__name__}.Room"
    assert serialize_topic(None, 1) == "-int.1"
    assert serialize_topic(None, True) == "-bool.True"
    assert serialize_topic(None, None) == "-NoneType.None"
    assert serialize_topic(None, ("a", 2)) == "-tuple.('a', 2)"


def test_objects_with_their_own_repr_are_accepted():
    assert serialize_topic(None, Room(3)) == f"-{__name__}.Room.Room(3)"
    assert serialize_topic(None, Decimal("1.5")) == "-decimal.Decimal.Decimal('1.5')"


def test_an_object_whose_repr_changes_between_processes_is_refused():
    with pytest.raises(TypeError, match=r"repr\(\) changes between processes"):
        serialize_topic(None, object())


def test_safe_topics_keep_a_readable_group_name():
    assert group_name("-window.k1") == "dfws.-window.k1"
    assert group_name("news") == "dfws.news"


@pytest.mark.parametrize("topic", ["a b", "-tuple.('a', 2)", "é" * 10, "x" * 91, "x" * 300])
def test_other_topics_are_hashed_into_a_valid_name(topic):
    name = group_name(topic)
    assert GROUP_RE.match(name) and name.startswith("dfws.h.")
    assert group_name(topic) == name


def test_different_topics_get_different_groups():
    assert group_name("a b") != group_name("a  b")
    assert group_name("x" * 90) == "dfws." + "x" * 90


def test_each_serialized_topic_has_a_kind_from_a_few_names():
    info = window(user_pk=7)
    kinds = {
        WINDOW: "window", SESSION: "session", USER: "user", BROADCAST: "broadcast",
        Group(pk=3): "object", Group: "model", Room(2): "object", Room: "class",
        "shop": "string", "-leading-dash": "string", 4: "value", (1, 2): "value",
    }  # fmt: skip
    for topic, kind in kinds.items():
        serialized = serialize_topic(info, topic)
        assert topic_kind(serialized) == kind, (topic, serialized)
