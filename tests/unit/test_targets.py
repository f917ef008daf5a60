"""Special targets: singletons that survive pickling and copying, found by name."""

from __future__ import annotations

import copy
import pickle

import pytest

from dfws_celery import BROADCAST, SERVER, SESSION, SYNC, USER, WINDOW
from dfws_celery.targets import BY_NAME, Target

ALL = [SERVER, SYNC, WINDOW, USER, SESSION, BROADCAST]


@pytest.mark.parametrize("target", ALL, ids=repr)
def test_a_target_comes_back_as_the_same_object(target):
    assert pickle.loads(pickle.dumps(target)) is target
    assert copy.copy(target) is target
    assert copy.deepcopy([target])[0] is target


def test_targets_print_as_their_name_and_are_found_by_it():
    assert [repr(t) for t in ALL] == ["SERVER", "SYNC", "WINDOW", "USER", "SESSION", "BROADCAST"]
    assert {t.name: t for t in ALL} == BY_NAME


def test_a_target_of_the_same_name_is_not_the_special_one():
    lookalike = Target("SERVER")
    assert lookalike is not SERVER and lookalike != SERVER
