"""Task names, queues, message options and the Celery router, decided in one place."""

from __future__ import annotations

from types import SimpleNamespace

import celery
import pytest
from django.core.exceptions import ImproperlyConfigured

from dfws_celery.routing import (
    DynamicQueue,
    SignalRouter,
    declared_queues,
    declared_queues_of,
    install_router,
    installed_router,
    message_options,
    queue_for,
    static_queue,
    task_class_options,
    task_name,
)


def declared(queue=None, **task_options):
    return SimpleNamespace(queue=queue, task_options=task_options)


BY_SIZE = DynamicQueue(
    lambda wi, kw: "big" if kw.get("size", 0) > 10 else "small", ["small", "big"]
)


def handler(window_info):
    pass


def test_task_name_is_path_module_and_qualname_unless_pinned():
    assert task_name("shop.cart", handler) == f"shop.cart:{__name__}.handler"
    assert task_name("shop.cart", handler, "cart-task") == "cart-task"


def test_static_queue_is_the_declared_one_or_the_default(settings):
    settings.WEBSOCKET_DEFAULT_QUEUE = "main"
    assert static_queue(declared("slow")) == "slow"
    assert static_queue(declared()) == "main"
    assert static_queue(declared(BY_SIZE)) is None


def test_queue_for_asks_a_dynamic_queue_per_call(settings):
    settings.WEBSOCKET_DEFAULT_QUEUE = "main"
    assert queue_for(declared(BY_SIZE), None, {"size": 50}) == "big"
    assert queue_for(declared(BY_SIZE), None, {}) == "small"
    assert queue_for(declared("slow"), None, {"size": 50}) == "slow"
    assert queue_for(declared(), None, {}) == "main"


def test_a_dynamic_queue_may_only_choose_a_declared_queue():
    rogue = DynamicQueue(lambda wi, kw: "elsewhere", ["a", "b"])
    with pytest.raises(
        ImproperlyConfigured,
        match=r"chose 'elsewhere', which is not among its declared queues \['a', 'b'\]",
    ):
        queue_for(declared(rogue), None, {})
    with pytest.raises(ImproperlyConfigured, match="non-empty set of queues"):
        DynamicQueue(lambda wi, kw: "a", [])
    assert repr(BY_SIZE) == "DynamicQueue(big|small)"


def test_declared_queues_put_the_default_first_then_sort(settings):
    settings.WEBSOCKET_DEFAULT_QUEUE = "main"
    handlers = [declared("zeta"), declared(BY_SIZE), declared(), declared("alpha")]
    assert declared_queues(handlers) == ["main", "alpha", "big", "small", "zeta"]
    assert declared_queues([]) == ["main"]
    assert declared_queues_of(declared(BY_SIZE)) == {"small", "big"}
    assert declared_queues_of(declared()) == {"main"}


def test_priority_travels_with_the_message_and_the_rest_goes_on_the_task():
    options = declared(priority=5, time_limit=10, max_retries=2)
    assert message_options(options) == {"priority": 5}
    assert task_class_options(options) == {"time_limit": 10, "max_retries": 2}


def test_router_routes_our_tasks_and_leaves_others_alone(settings):
    settings.WEBSOCKET_DEFAULT_QUEUE = "main"
    table = {
        "fixed": declared("slow"),
        "default": declared(),
        "prio": declared(priority=3),
        "dynamic": declared(BY_SIZE),
        "dynamic-prio": declared(BY_SIZE, priority=1),
    }
    route = SignalRouter(table.get)
    assert route("fixed", (), {}, {}) == {"queue": "slow"}
    assert route("default", (), {}, {}) == {"queue": "main"}
    assert route("prio", (), {}, {}) == {"priority": 3, "queue": "main"}
    assert route("dynamic", (), {}, {}) is None  # the call chooses its queue
    assert route("dynamic-prio", (), {}, {}) == {"priority": 1}
    assert route("somebody.elses", (), {}, {}) is None
    assert route("dfws.publish", (), {}, {}) == {"queue": "main"}
    assert route("dfws.trigger", (), {}, {}) == {"queue": "main"}


def test_install_router_is_idempotent_on_a_fresh_app():
    app = celery.Celery("x", set_as_current=False)
    assert installed_router(app) is None
    first = install_router(app, {"t": declared("slow")}.get)
    assert install_router(app, {}.get) is first
    assert app.conf.task_routes == [first]
    assert installed_router(app) is first
    assert app.amqp.router.route({}, "t")["queue"].name == "slow"


@pytest.mark.parametrize(
    "project_routes",
    [
        {"t": {"queue": "project"}},
        [{"t": {"queue": "project"}}],
        lambda name, *args, **kwargs: {"queue": "project"} if name == "t" else None,
    ],
    ids=["dict", "list", "callable"],
)
def test_the_projects_routes_come_first_and_win(project_routes):
    app = celery.Celery("x", set_as_current=False)
    app.conf.task_routes = project_routes
    app.amqp.router.route({}, "t")  # a router built before ours: it must be rebuilt
    router = install_router(app, {"t": declared("slow"), "u": declared("slow")}.get)
    assert list(app.conf.task_routes)[-1] is router
    assert app.amqp.router.route({}, "t")["queue"].name == "project"
    assert app.amqp.router.route({}, "u")["queue"].name == "slow"
