from __future__ import annotations

from dfws_celery import SERVER, DynamicQueue, WindowInfo, everyone, signal, trigger
from dfws_celery.celery_app import get_celery_app
from dfws_celery.registry import REGISTRY
from dfws_celery.routing import installed_router
from dfws_celery.testing import SignalQueue


def route(name, args, kwargs, options):
    return installed_router(get_celery_app())(name, args, kwargs, options)


def test_decorator_options_reach_the_celery_task(declared):
    @signal(
        "comp.options",
        name="comp.options.task",
        rate_limit="10/m",
        time_limit=30,
        soft_time_limit=20,
        max_retries=7,
        autoretry_for=(KeyError,),
        retry_backoff=True,
        acks_late=True,
        priority=3,
        ignore_result=True,
    )
    def handler(window_info):
        pass

    task = get_celery_app().tasks["comp.options.task"]
    assert (task.rate_limit, task.time_limit, task.soft_time_limit) == ("10/m", 30, 20)
    assert (task.max_retries, task.autoretry_for, task.retry_backoff) == (7, (KeyError,), True)
    assert (task.acks_late, task.ignore_result) == (True, True)
    assert route("comp.options.task", (), {}, {}) == {"priority": 3, "queue": "celery"}
    assert task.serializer == "json"


def test_signal_declared_after_startup_is_compiled_at_once(declared):
    @signal("comp.late")
    def late(window_info):
        return "late"

    name = REGISTRY.get("comp.late")[0].task_name
    assert name in get_celery_app().tasks


def test_router_sends_each_task_to_its_declared_queue():
    assert route("tests.slow:tests.testapp.signals.slow", (), {}, {}) == {"queue": "slow"}
    assert route("tests.ping:tests.testapp.signals.ping", (), {}, {}) == {"queue": "celery"}
    assert route("dfws.trigger", (), {}, {}) == {"queue": "celery"}
    assert route("someone.elses.task", (), {}, {}) is None


def test_router_is_composed_after_the_projects_routes():
    routes = get_celery_app().conf.task_routes
    assert list(routes)[-1] is installed_router(get_celery_app())
    router = get_celery_app().amqp.router
    options = router.route({}, "tests.slow:tests.testapp.signals.slow")
    assert options["queue"].name == "slow"


def test_dynamic_queue_is_chosen_per_call(declared):
    choose = DynamicQueue(lambda wi, kw: "slow" if kw.get("big") else "celery", ["celery", "slow"])

    @signal("comp.dynamic", queue=choose, is_allowed_to=everyone)
    def handler(window_info, big=False):
        pass

    name = REGISTRY.get("comp.dynamic")[0].task_name
    assert route(name, (), {}, {}) is None  # nothing static: the call decides
    with SignalQueue() as queue:
        trigger(WindowInfo(), "comp.dynamic", to=SERVER, big=True)
        trigger(WindowInfo(), "comp.dynamic", to=SERVER, big=False)
    assert [e[2] for e in queue.python_signals["slow"]] == [{"big": True}]
    assert [e[2] for e in queue.python_signals["celery"]] == [{"big": False}]
