"""Signals sent from the test process to BROADCAST, USER and a model instance, seen in Chromium.

Absence is proven without sleeping: after the signal under test, a BROADCAST
marker follows; a window that shows only the marker did not get the signal,
since the one connection of a window delivers its frames in order.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import BrowserContext, Page, expect

from dfws_celery import BROADCAST, USER, WindowInfo, trigger
from tests.browser.windows import open_window
from tests.testapp.models import Article

pytestmark = pytest.mark.django_db(transaction=True)


def append(to, text: str, source: WindowInfo | None = None) -> None:
    trigger(source, "html.append", to=to, selector="#received", content=f"<p>{text}</p>")


def received(page: Page):
    return page.locator("#received p")


def test_broadcast_reaches_windows_of_two_browser_contexts(
    server: str, new_context: Callable[[], BrowserContext]
):
    first = open_window(new_context(), server + "/")
    second = open_window(new_context(), server + "/")

    append(BROADCAST, "to everybody")

    expect(received(first)).to_have_text(["to everybody"])
    expect(received(second)).to_have_text(["to everybody"])


def test_user_topic_reaches_both_windows_of_the_user_and_not_another_user(
    server: str, new_context: Callable[[], BrowserContext]
):
    alice = new_context()
    alice_1 = open_window(alice, server + "/login/alice/?next=/")
    alice_2 = open_window(alice, server + "/")
    bob = open_window(new_context(), server + "/login/bob/?next=/")
    expect(alice_2.locator("#user")).to_have_text("alice")  # same session, second tab
    expect(bob.locator("#user")).to_have_text("bob")
    user = get_user_model().objects.get(username="alice")
    as_alice = WindowInfo.from_dict(
        {"user_pk": user.pk, "username": "alice", "is_authenticated": True}
    )

    append(USER, "for alice", source=as_alice)
    append(BROADCAST, "marker")

    expect(received(alice_1)).to_have_text(["for alice", "marker"])
    expect(received(alice_2)).to_have_text(["for alice", "marker"])
    expect(received(bob)).to_have_text(["marker"])


def test_model_instance_topic_reaches_only_the_pages_bound_to_it(
    server: str, context: BrowserContext
):
    first, second = Article.objects.create(title="First"), Article.objects.create(title="Second")
    on_first = open_window(context, f"{server}/article/{first.pk}/")
    on_second = open_window(context, f"{server}/article/{second.pk}/")
    unbound = open_window(context, server + "/")
    expect(on_first.locator("#article")).to_have_text("First")

    append(first, "about the first article")
    append(BROADCAST, "marker")

    expect(received(on_first)).to_have_text(["about the first article", "marker"])
    expect(received(on_second)).to_have_text(["marker"])
    expect(received(unbound)).to_have_text(["marker"])
