"""Pages of the demo: each calls ``set_websocket_topics``, which gives the page its websocket."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from dfws_celery import WINDOW, trigger
from dfws_web import set_websocket_topics
from sample_project.demo.examples import HTML_EXAMPLES, TARGETS
from sample_project.demo.models import Article
from sample_project.demo.signals import LAST_TICK, ProfileForm

PAGES = [
    ("home", "Home"),
    ("builtins", "html.* signals"),
    ("forms", "Forms"),
    ("articles", "Articles"),
    ("topics", "Users & broadcast"),
    ("background", "Background work"),
]


def demo_context(request: HttpRequest) -> dict[str, Any]:
    """Template context of every page (a context processor).

    ``last_tick``: the clock's last broadcast, kept in the cache by the handler, so a page
    shows it at once instead of waiting up to 3 s for the next one.
    """
    return {"demo_mode": settings.DEMO_MODE, "pages": PAGES, "last_tick": last_tick()}


def last_tick() -> str | None:
    try:
        return cache.get(LAST_TICK)
    except Exception:  # the cache is down: the page still renders, the clock waits for a tick
        return None


def home(request: HttpRequest) -> HttpResponse:
    set_websocket_topics(request)
    return TemplateResponse(request, "demo/home.html", {"page": "home"})


def builtins(request: HttpRequest) -> HttpResponse:
    set_websocket_topics(request)
    rows = [
        # shown as the JavaScript call receives them (true, not Python's True)
        {"name": name, "opts": json.dumps(opts), "target": TARGETS[name]}
        for name, opts in HTML_EXAMPLES.items()
    ]
    context = {"page": "builtins", "rows": rows, "examples": HTML_EXAMPLES}
    return TemplateResponse(request, "demo/builtins.html", context)


def forms(request: HttpRequest) -> HttpResponse:
    set_websocket_topics(request)
    return TemplateResponse(request, "demo/forms.html", {"page": "forms", "form": ProfileForm()})


def articles(request: HttpRequest) -> HttpResponse:
    set_websocket_topics(request)
    context = {"page": "articles", "articles": Article.objects.order_by("pk")}
    return TemplateResponse(request, "demo/articles.html", context)


def article(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_or_404(Article, pk=pk)
    # this window now also receives what is sent to the topic `obj`
    set_websocket_topics(request, obj)
    others = Article.objects.exclude(pk=pk).order_by("pk")
    context = {"page": "articles", "article": obj, "others": others}
    return TemplateResponse(request, "demo/article.html", context)


@require_POST
def like(request: HttpRequest, pk: int) -> HttpResponse:
    """Called with fetch() by an article page: trigger from a view, to a topic and a window."""
    Article.objects.filter(pk=pk).update(likes=F("likes") + 1)
    obj = get_object_or_404(Article, pk=pk)
    trigger(request, "demo.articles.likes", to=obj, article=obj.pk, likes=obj.likes)
    # an AJAX request keeps the window key of the page that sent it, so WINDOW is that page
    trigger(request, "html.text", to=WINDOW, selector="#like-status", content="thanks!")
    return JsonResponse({"likes": obj.likes})


def topics(request: HttpRequest) -> HttpResponse:
    set_websocket_topics(request)
    return TemplateResponse(request, "demo/topics.html", {"page": "topics"})


def background(request: HttpRequest) -> HttpResponse:
    set_websocket_topics(request)
    return TemplateResponse(request, "demo/background.html", {"page": "background"})


def download(request: HttpRequest) -> HttpResponse:
    """The file that ``html.download_file`` makes the browser download."""
    response = HttpResponse("Hello from the dfws demo.\n", content_type="text/plain")
    response["Content-Disposition"] = 'attachment; filename="hello.txt"'
    return response
