from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from dfws_celery import DynamicQueue, everyone, signal
from dfws_celery.registry import REGISTRY
from dfws_celery.routing import declared_queues_of


def test_decorator_returns_the_function_unchanged(declared):
    def handler(window_info, value=None):
        return value

    assert signal("reg.same")(handler) is handler


def test_path_defaults_to_module_and_function(declared):
    @signal()
    def my_handler(window_info):
        pass

    assert REGISTRY.by_path[f"{__name__}.my_handler"][0].function is my_handler


def test_several_handlers_share_a_path_on_different_queues(declared):
    @signal("reg.shared")
    def first(window_info):
        pass

    @signal("reg.shared", queue="slow")
    def second(window_info):
        pass

    connections = REGISTRY.get("reg.shared")
    assert [c.function for c in connections] == [first, second]
    assert [declared_queues_of(c) for c in connections] == [{"celery"}, {"slow"}]


def test_task_name_contains_path_and_handler(declared):
    @signal("reg.named")
    def handler(window_info):
        pass

    name = REGISTRY.get("reg.named")[0].task_name
    assert name.startswith("reg.named:")
    assert name.endswith("test_task_name_contains_path_and_handler.<locals>.handler")


def test_name_option_pins_the_task_name(declared):
    @signal("reg.pinned", name="shop.pinned")
    def handler(window_info):
        pass

    assert REGISTRY.get("reg.pinned")[0].task_name == "shop.pinned"


def test_duplicate_task_name_is_refused(declared):
    @signal("reg.dup1", name="dup.task")
    def one(window_info):
        pass

    def two(window_info):
        pass

    with pytest.raises(ImproperlyConfigured, match=r"Task name 'dup.task'.*already used.*pass a distinct"):
        signal("reg.dup2", name="dup.task")(two)


@pytest.mark.parametrize("path", ["", "a..b", "a.b.", "1abc", "a b", "a/b"])
def test_invalid_path_is_refused(path):
    def handler(window_info):
        pass

    with pytest.raises(ImproperlyConfigured, match=r"handler: invalid dfws signal path .*dot-separated"):
        signal(path)(handler)


def test_first_parameter_must_be_window_info():
    def handler(request, value):
        pass

    with pytest.raises(ImproperlyConfigured, match=r"handler: the first parameter must be 'window_info'"):
        signal("reg.bad")(handler)


def test_star_args_are_refused():
    def handler(window_info, *values):
        pass

    with pytest.raises(ImproperlyConfigured, match=r"\*values is not allowed.*use \*\*kwargs"):
        signal("reg.bad")(handler)


def test_unknown_task_option_lists_the_allowed_ones():
    def handler(window_info):
        pass

    with pytest.raises(
        ImproperlyConfigured,
        match=r"unknown option 'rate_limt' for dfws signal 'reg.bad': expected .*rate_limit",
    ):
        signal("reg.bad", rate_limt="1/s")(handler)


def test_dynamic_queue_must_return_a_declared_queue():
    queue = DynamicQueue(lambda wi, kw: kw["q"], queues=["celery", "slow"])
    assert queue(None, {"q": "slow"}) == "slow"
    with pytest.raises(
        ImproperlyConfigured, match=r"chose 'fast', which is not among .*\['celery', 'slow'\]"
    ):
        queue(None, {"q": "fast"})


def test_permission_names_are_readable(declared):
    @signal("reg.perm", is_allowed_to=everyone)
    def handler(window_info):
        pass

    assert REGISTRY.get("reg.perm")[0].permission_name == "everyone"
    assert REGISTRY.get("reg.perm")[0].browser_callable
