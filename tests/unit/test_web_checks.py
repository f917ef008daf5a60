"""``manage.py check`` for the browser edge (``dfws_web.checks``): middleware and ASGI app."""

from __future__ import annotations

from django.core.checks import run_checks

from dfws_web.checks import AUTH_MIDDLEWARE, MIDDLEWARE, check_asgi_application, check_middleware


def test_the_test_project_passes():
    assert check_middleware() == [] and check_asgi_application() == []


def test_a_missing_middleware_says_where_to_add_it(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    [error] = check_middleware()
    assert error.id == "dfws.E006"
    assert error.hint == f"Add {MIDDLEWARE!r} to MIDDLEWARE, after {AUTH_MIDDLEWARE!r}."
    assert "dfws.E006" in [m.id for m in run_checks(tags=["dfws"])]  # registered under the tag


def test_the_middleware_must_come_after_authentication(settings):
    others = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE]
    settings.MIDDLEWARE = [MIDDLEWARE, *others]
    assert [e.id for e in check_middleware()] == ["dfws.E007"]
    settings.MIDDLEWARE = [m for m in others if m != AUTH_MIDDLEWARE] + [MIDDLEWARE]
    assert check_middleware() == []  # no authentication at all: nothing to order


def test_an_asgi_application_is_needed(settings):
    settings.ASGI_APPLICATION = None
    [error] = check_asgi_application()
    assert error.id == "dfws.E008" and "dfws_web.asgi.application" in error.hint
    del settings.ASGI_APPLICATION
    assert [e.id for e in check_asgi_application()] == ["dfws.E008"]


# ---- runserver must serve websockets (issue 13) ----


def test_daphne_missing_from_installed_apps_is_an_error_when_debug(settings):
    from dfws_web.checks import check_runserver

    settings.DEBUG = True
    assert check_runserver() == []  # the test project lists "daphne" first
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "daphne"]
    [error] = check_runserver()
    assert error.id == "dfws.E010"
    assert "'runserver' is django.core's, which serves no websocket" in error.msg
    assert '"daphne" to INSTALLED_APPS, first' in error.hint
    settings.INSTALLED_APPS = ["django.contrib.staticfiles", *settings.INSTALLED_APPS]
    [error] = check_runserver()
    assert "django.contrib.staticfiles's" in error.msg


def test_without_debug_runserver_is_not_the_server(settings):
    from dfws_web.checks import check_runserver

    settings.DEBUG = False
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "daphne"]
    assert check_runserver() == []


def test_the_channel_layer_hint_recommends_pubsub(settings):
    from dfws_celery.checks import check_channel_layer

    settings.CHANNEL_LAYERS = {}
    [error] = check_channel_layer()
    assert error.id == "dfws.E005" and "redis_pubsub_channel_layer(" in error.hint
