from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group

from dfws_celery import BROADCAST, SESSION, USER, WINDOW, WindowInfo
from dfws_celery.topics import group_name, serialize_topic

GROUP_RE = re.compile(r"^[A-Za-z0-9._-]{1,99}$")


def window(**values):
    return WindowInfo.from_dict({"window_key": "k1", "session_hash": "s1", **values})


def test_special_targets():
    info = window(user_pk=7, is_authenticated=True)
    assert serialize_topic(info, BROADCAST) == "-broadcast"
    assert serialize_topic(info, WINDOW) == "-window.k1"
    assert serialize_topic(info, USER) == "-user.7"
    assert serialize_topic(info, SESSION) == "-session.s1"


def test_anonymous_user_falls_back_to_session_then_window():
    assert serialize_topic(window(), USER) == "-session.s1"
    assert serialize_topic(WindowInfo.from_dict({"window_key": "k2"}), USER) == "-window.k2"


def test_window_target_without_window_is_nothing():
    assert serialize_topic(WindowInfo(), WINDOW) is None
    assert serialize_topic(None, USER) is None


def test_strings_cannot_impersonate_special_topics():
    assert serialize_topic(None, "news") == "news"
    assert serialize_topic(None, "-broadcast") == "-str.-broadcast"


def test_model_instances_and_classes():
    assert serialize_topic(None, Group(pk=42)) == "-auth.group.42"
    assert serialize_topic(None, Group) == "-auth.group"


def test_builtin_hashables_are_stable():
    assert serialize_topic(None, 1) == "-int.1"
    assert serialize_topic(None, ("a", 2)) == "-tuple.('a', 2)"


def test_object_without_stable_repr_is_refused():
    with pytest.raises(TypeError, match="repr\\(\\) changes between processes"):
        serialize_topic(None, object())


@pytest.mark.parametrize("topic", ["news", "-broadcast", "-tuple.('a', 2)", "é" * 10, "x" * 300])
def test_group_names_are_valid_for_channel_layers(topic):
    assert GROUP_RE.match(group_name(topic))


def test_group_names_differ_for_different_topics():
    assert group_name("a b") != group_name("a  b")
