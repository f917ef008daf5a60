"""``@signal`` declarations: what is recorded, and what is refused at import time."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from dfws_celery import DynamicQueue, everyone, signal
from dfws_celery.registry import REGISTRY, SignalRegistry


def test_the_decorator_records_a_connection_and_returns_the_function(declared):
    def handler(window_info, count: int, label="x", **extra):
        return count

    assert (
        signal("unit.reg.record", is_allowed_to=everyone, queue="slow", max_retries=2)(handler)
        is handler
    )
    [connection] = REGISTRY.get("unit.reg.record")
    assert REGISTRY.by_task_name[connection.task_name] is connection
    assert connection.function is handler and connection.queue == "slow"
    assert list(connection.parameters) == ["count", "label"]  # window_info and **extra left out
    assert connection.accepts_kwargs and connection.task_options == {"max_retries": 2}
    assert connection.browser_callable and connection.permission_name == "everyone"
    assert connection.handler_name == f"{__name__}.{handler.__qualname__}"


def test_path_and_task_name_default_to_the_function(declared):
    @signal()
    def unit_default_path(window_info):
        pass

    [connection] = REGISTRY.get(f"{__name__}.unit_default_path")
    assert (
        connection.task_name
        == f"{__name__}.unit_default_path:{__name__}.{unit_default_path.__qualname__}"
    )
    assert not connection.browser_callable and connection.permission_name == "server_side"


def test_handlers_of_one_path_are_kept_in_declaration_order(declared):
    @signal("unit.reg.shared")
    def second(window_info):
        pass

    @signal("unit.reg.shared", name="unit.reg.first")
    def first(window_info):
        pass

    assert [c.function for c in REGISTRY.get("unit.reg.shared")] == [second, first]
    assert REGISTRY.get("unit.reg.nothing") == []


def test_the_same_function_declared_twice_is_kept_once(declared):
    def handler(window_info):
        pass

    signal("unit.reg.twice")(handler)
    signal("unit.reg.twice")(handler)  # a module imported under two names
    assert len(REGISTRY.get("unit.reg.twice")) == 1


def test_another_function_with_the_same_task_name_is_refused(declared):
    def one(window_info):
        pass

    def two(window_info):
        pass

    signal("unit.reg.a", name="unit.reg.dup")(one)
    with pytest.raises(
        ImproperlyConfigured,
        match=r"Task name 'unit.reg.dup' of dfws signal 'unit.reg.b' is already used by .*pass a distinct name=",
    ):
        signal("unit.reg.b", name="unit.reg.dup")(two)
    assert REGISTRY.get("unit.reg.b") == []


@pytest.mark.parametrize("path", ["", "a..b", "a.b.", "1abc", "a b", "a/b", ".a"])
def test_an_invalid_path_is_refused(path):
    with pytest.raises(ImproperlyConfigured, match=r"invalid dfws signal path .*dot-separated"):
        signal(path)(lambda window_info: None)


def test_a_path_may_hold_dashes_and_underscores(declared):
    def handler(window_info):
        pass

    signal("unit_reg.with-dash._x")(handler)
    assert REGISTRY.get("unit_reg.with-dash._x")


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda request: None, r"the first parameter must be 'window_info' \(got 'request'\)"),
        (lambda: None, r"the first parameter must be 'window_info' \(got 'no parameter'\)"),
        (lambda window_info, *rest: None, r"\*rest is not allowed: .*use \*\*kwargs"),
    ],
)
def test_a_handler_signature_that_cannot_work_is_refused(function, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        signal("unit.reg.bad")(function)


def test_bad_options_are_refused_with_what_is_allowed():
    def handler(window_info):
        pass

    with pytest.raises(
        ImproperlyConfigured, match=r"unknown option 'rate_limt' .*expected one of .*rate_limit"
    ):
        signal("unit.reg.bad", rate_limt="1/s")(handler)
    with pytest.raises(ImproperlyConfigured, match="is_allowed_to must be callable"):
        signal("unit.reg.bad", is_allowed_to=True)(handler)
    with pytest.raises(
        ImproperlyConfigured, match="queue must be a string or a DynamicQueue, got 3"
    ):
        signal("unit.reg.bad", queue=3)(handler)
    assert REGISTRY.get("unit.reg.bad") == []


def test_a_dynamic_queue_is_accepted(declared):
    queue = DynamicQueue(lambda wi, kw: "a", ["a"])

    def handler(window_info):
        pass

    signal("unit.reg.dynamic", queue=queue)(handler)
    assert REGISTRY.get("unit.reg.dynamic")[0].queue is queue


def test_a_registry_tells_on_add_and_forgets_on_remove(monkeypatch):
    from dfws_celery import registry as module

    own = SignalRegistry()
    added = []
    own.on_add = added.append
    monkeypatch.setattr(module, "REGISTRY", own)  # the decorator writes to this one

    @signal("unit.reg.own")
    def handler(window_info):
        pass

    [connection] = own.get("unit.reg.own")
    assert added == [connection] and own.all() == [connection]
    assert REGISTRY.get("unit.reg.own") == []
    own.remove(connection)
    assert (own.by_path, own.by_task_name, own.all()) == ({}, {}, [])
