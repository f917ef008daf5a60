"""What ``ready()`` wires up once Django is ready (the test project is set up by pytest-django)."""

from __future__ import annotations

import json

from django.apps import apps
from django.core.checks.registry import registry as check_registry

from dfws_celery import compiler
from dfws_celery.conf import dfws_settings
from dfws_celery.registry import REGISTRY
from dfws_celery.routing import SignalRouter, installed_router
from tests.celery_app import app


class LoudEncoder(json.JSONEncoder):
    def encode(self, o):
        return super().encode(o).upper()


def test_both_apps_are_installed_with_their_names():
    assert apps.get_app_config("dfws_celery").verbose_name == "dfws signals"
    assert apps.get_app_config("dfws_web").verbose_name == "dfws websockets"


def test_the_projects_signals_modules_are_discovered():
    assert [c.function.__name__ for c in REGISTRY.get("tests.multi")] == [
        "multi_default",
        "multi_slow",
    ]


def test_every_handler_and_both_builtin_tasks_are_compiled_into_the_celery_app():
    names = {c.task_name for c in REGISTRY.all()}
    assert all(REGISTRY.by_task_name[name].task is not None for name in names)
    assert names | {"dfws.publish", "dfws.trigger"} <= set(app.tasks)
    assert REGISTRY.on_add is compiler.compile_connection


def test_the_router_is_installed_on_the_projects_app():
    router = installed_router(app)
    assert isinstance(router, SignalRouter)
    assert router("tests.slow:tests.testapp.signals.slow", (), {}, {}) == {"queue": "slow"}
    assert (
        app.amqp.router.route({}, "tests.slow:tests.testapp.signals.slow")["queue"].name == "slow"
    )


def test_the_dfws_checks_are_registered():
    assert "dfws" in check_registry.tags_available()
    names = {check.__name__ for check in check_registry.get_checks() if "dfws" in check.tags}
    assert {
        "check_worker_mode",
        "check_cache",
        "check_channel_layer",
        "check_middleware",
        "check_asgi_application",
    } <= names


def test_setting_changes_reach_the_cached_values(settings):
    assert dfws_settings.encode({"a": 1}) == '{"a":1}'
    settings.WEBSOCKET_SIGNAL_ENCODER = f"{__name__}.LoudEncoder"
    assert dfws_settings.encode({"a": 1}) == '{"A":1}'
