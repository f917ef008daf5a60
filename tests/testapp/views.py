from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model, login, logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from dfws_celery import SERVER, WINDOW, trigger
from dfws_web import set_websocket_topics
from tests.testapp.models import Article


def page(request: HttpRequest) -> HttpResponse:
    set_websocket_topics(request)
    return TemplateResponse(request, "testapp/page.html", {})


def room(request: HttpRequest, name: str) -> HttpResponse:
    """A page on the topic ``room-<name>``, whose presence is kept (tests/settings.py)."""
    set_websocket_topics(request, f"room-{name}")
    return TemplateResponse(request, "testapp/page.html", {})


def article(request: HttpRequest, pk: int) -> HttpResponse:
    obj = Article.objects.get(pk=pk)
    set_websocket_topics(request, obj)
    return TemplateResponse(request, "testapp/page.html", {"article": obj})


def ajax_trigger(request: HttpRequest) -> HttpResponse:
    """Called by the page with fetch(): the window key is the page's."""
    trigger(request, "html.content", to=WINDOW, selector="#from-view", content="<b>view</b>")
    trigger(request, "html.append", to=WINDOW, selector="#list", content="<li>appended</li>")
    trigger(request, "html.add_class", to=WINDOW, selector="#from-view", class_name="done")
    trigger(request, "tests.echo", to=SERVER, content="<i>from worker</i>")
    return JsonResponse({"window_key": request.window_key})  # type: ignore[attr-defined]


def login_as(request: HttpRequest, username: str) -> HttpResponse:
    user, _ = get_user_model().objects.get_or_create(username=username)
    # the project's first backend: a private daphne may allow inactive users (test_permissions)
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return redirect(request.GET.get("next", "/"))


def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponse("logged out")


def create_and_trigger(request: HttpRequest) -> HttpResponse:
    """Creates an article in a transaction, triggers a handler that reads it, then waits
    ``delay`` seconds before the commit (or the rollback, with ``?rollback=1``)."""
    title, topic = request.GET["title"], request.GET["topic"]
    on_commit = request.GET.get("now") is None
    with transaction.atomic():
        article = Article.objects.create(title=title)
        trigger(
            request,
            "tests.read_article",
            to=[SERVER, topic],
            on_commit=on_commit,
            pk=article.pk,
            title=title,
        )
        time.sleep(float(request.GET.get("delay", "1")))
        if request.GET.get("rollback"):
            transaction.set_rollback(True)
    return JsonResponse({"pk": article.pk})
