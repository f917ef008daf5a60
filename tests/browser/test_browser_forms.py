"""data-df-signal bindings from {% js_call %}: what a person types reaches the Celery handler."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext

from tests.browser.windows import open_window
from tests.conftest import wait_for_records

pytestmark = pytest.mark.django_db(transaction=True)


def test_form_binding_sends_the_form_checked_by_serialized_form(
    server: str, context: BrowserContext, sink
):
    page = open_window(context, server + "/")
    title = page.locator("#title")

    title.fill("Hello")
    title.blur()  # "change" fires when the field loses focus
    valid = wait_for_records(sink, "form")[-1]
    title.fill("x" * 21)  # longer than TitleForm's max_length
    title.blur()
    invalid = wait_for_records(sink, "form", count=2)[-1]

    assert valid == {
        "name": "form",
        "valid": True,
        "cleaned": {"title": "Hello"},
        "title": "",
        "id": 42,
    }
    assert (invalid["valid"], invalid["cleaned"], invalid["id"]) == (False, None, 42)


def test_input_binding_sends_its_value(server: str, context: BrowserContext, sink):
    page = open_window(context, server + "/")
    label = page.locator("#label")

    label.fill("typed by a person")
    label.blur()

    record = wait_for_records(sink, "form")[0]
    assert record == {
        "name": "form",
        "valid": None,
        "cleaned": None,
        "title": "typed by a person",
        "id": 43,
    }
