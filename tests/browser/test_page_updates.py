"""A page's DOM changed by a view's trigger, a worker's trigger and a call from the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.windows import open_window, window_key

pytestmark = pytest.mark.django_db(transaction=True)

FETCH_AJAX_TRIGGER = """async () => {
  const response = await fetch("/ajax/trigger/", { headers: { "X-Requested-With": "XMLHttpRequest" } });
  return response.json();
}"""


def test_view_and_worker_triggers_to_window_change_the_page(server: str, context: BrowserContext):
    page = open_window(context, server + "/")

    answer = page.evaluate(FETCH_AJAX_TRIGGER)

    assert answer["window_key"] == window_key(context, server)  # the AJAX view is this window
    expect(page.locator("#from-view")).to_have_text("view")  # html.content
    expect(page.locator("#from-view")).to_have_class("done")  # html.add_class
    expect(page.locator("#from-view b")).to_have_count(1)  # inserted as HTML, not text
    expect(page.locator("#list li")).to_have_text(["appended"])  # html.append
    expect(page.locator("#echo i")).to_have_text("from worker")  # tests.echo, in the worker


def test_call_from_the_page_runs_a_celery_handler_that_updates_the_page(
    server: str, context: BrowserContext
):
    page = open_window(context, server + "/")

    results = page.evaluate(
        '(content) => DFSignals.call("tests.echo", { content })', "<i>called from the page</i>"
    )

    expect(page.locator("#echo i")).to_have_text("called from the page")
    assert results == [None]  # the promise settled with what the handler returned
