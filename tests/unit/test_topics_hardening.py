"""Issue 11, topic namespaces: a plain topic never shares the group of a hashed one.

Topics that are not group-safe (a user keyed by e-mail, any text with
spaces) are hashed into ``dfws.h.<digest>``; a plain string topic
``"h.<digest>"`` must not land in that same group.
"""

from __future__ import annotations

import hashlib

import pytest
from channels.layers import BaseChannelLayer

from dfws_celery.topics import group_name, serialize_topic

LAYER = BaseChannelLayer()


def digest_of(serialized_topic: str) -> str:
    return hashlib.blake2b(serialized_topic.encode(), digest_size=20).hexdigest()


def valid_for_channels(name: str) -> bool:
    """Channels' own rule for group names (regex and length)."""
    # Channels 4.2.1 moved the raising check to require_valid_group_name; 4.2.0 has only
    # valid_group_name, which raises
    check = getattr(LAYER, "require_valid_group_name", LAYER.valid_group_name)
    try:
        return bool(check(name))
    except TypeError:
        return False


@pytest.mark.parametrize("hashed", ["ann@example.com", "a b", "é" * 10, "x" * 91])
def test_a_plain_h_digest_topic_and_the_hashed_topic_get_different_groups(hashed):
    topic = serialize_topic(None, hashed)
    forged = serialize_topic(None, f"h.{digest_of(topic)}")
    assert forged == f"h.{digest_of(topic)}"  # a plain string topic, not a special one
    assert group_name(topic) == f"dfws.h.{digest_of(topic)}"
    assert group_name(forged) != group_name(topic)


def test_no_plain_topic_produces_a_hashed_group_name():
    for topic in ["h.x", "h.", "h." + "0" * 40, "h." + "f" * 88, "h.-window.k"]:
        assert group_name(topic) == f"dfws.h.{digest_of(topic)}"
    # readable names stay readable, including those merely starting with an h
    for topic in ["h", "hx", "h-x", "hello.world", "-h.x", "news", "-window.k1"]:
        assert group_name(topic) == f"dfws.{topic}"


TOPICS = [
    "news",
    "-window.k1",
    "-user.42",
    "-session." + "0" * 32,
    "-broadcast",
    "ann@example.com",
    "a b",
    "é",
    "x" * 90,
    "x" * 91,
    "y" * 1000,
    "h.",
    "h." + "a" * 88,
    "h." + "a" * 200,
    "-str.-x",
    "-tuple.('a', 2)",
    "",
    "\x00",
    "!" * 90,
]


@pytest.mark.parametrize("topic", TOPICS)
def test_every_group_name_is_valid_for_channels(topic):
    name = group_name(topic)
    assert valid_for_channels(name), name
    assert BaseChannelLayer.group_name_regex.match(name)
    assert len(name) < BaseChannelLayer.MAX_NAME_LENGTH


def test_the_names_of_different_topics_are_all_different():
    names = [group_name(topic) for topic in TOPICS]
    names += [group_name(f"h.{digest_of(topic)}") for topic in TOPICS]
    assert len(set(names)) == len(names)
