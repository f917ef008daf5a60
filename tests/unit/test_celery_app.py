"""Which Celery app dfws uses: resolved once, by rules that never pick Celery's fallback."""

from __future__ import annotations

import threading

import celery
import pytest
from django.core.exceptions import ImproperlyConfigured

from dfws_celery import celery_app
from tests.celery_app import app as test_app

not_an_app = object()


@pytest.fixture
def unresolved(monkeypatch):
    """Forget the resolved app for one test (restored afterwards)."""
    monkeypatch.setattr(celery_app, "_app", None)


def in_thread(function):
    result = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


def test_the_setting_names_the_app(settings, unresolved):
    settings.WEBSOCKET_CELERY_APP = "tests.celery_app.app"
    assert celery_app.get_celery_app() is test_app


def test_a_path_that_does_not_import_is_a_configuration_error(settings, unresolved):
    settings.WEBSOCKET_CELERY_APP = "proj.nowhere.app"
    with pytest.raises(
        ImproperlyConfigured, match=r"WEBSOCKET_CELERY_APP = 'proj\.nowhere\.app' cannot be imported"
    ):
        celery_app.get_celery_app()


def test_a_path_to_something_else_says_what_to_point_at(settings, unresolved):
    settings.WEBSOCKET_CELERY_APP = f"{__name__}.not_an_app"
    with pytest.raises(
        ImproperlyConfigured, match=r"is not a Celery app: <object .*e\.g\. 'proj\.celery\.app'"
    ):
        celery_app.get_celery_app()


def test_without_the_setting_the_only_app_is_chosen_in_any_thread(
    settings, unresolved, monkeypatch
):
    settings.WEBSOCKET_CELERY_APP = None
    only = celery.Celery("only", set_as_current=False)
    monkeypatch.setattr(celery_app, "active_celery_apps", lambda: [only])
    # a fresh thread's current app would be Celery's unconfigured fallback
    assert in_thread(celery_app.get_celery_app) is only


def test_with_several_apps_the_current_app_of_the_first_caller_wins(
    settings, unresolved, monkeypatch
):
    settings.WEBSOCKET_CELERY_APP = None
    one, two = (
        celery.Celery("one", set_as_current=False),
        celery.Celery("two", set_as_current=False),
    )
    monkeypatch.setattr(celery_app, "active_celery_apps", lambda: [one, two])

    def first_caller():
        two.set_current()  # thread-local: the main thread's current app is untouched
        return celery_app.get_celery_app()

    assert in_thread(first_caller) is two
    assert celery_app.get_celery_app() is two  # resolved once, for every thread


def test_the_app_is_resolved_once(settings, unresolved):
    settings.WEBSOCKET_CELERY_APP = "tests.celery_app.app"
    first = celery_app.get_celery_app()
    settings.WEBSOCKET_CELERY_APP = "proj.nowhere.app"
    assert celery_app.get_celery_app() is first
