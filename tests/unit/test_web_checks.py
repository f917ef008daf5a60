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
