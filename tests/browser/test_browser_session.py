"""``SESSION`` seen in Chromium: every tab of the session receives, another session does not.

The other session belongs to the same user (another browser context logged in as them):
what tells them apart is the session, not the user. Absence is proven as in
test_browser_topics.py: a BROADCAST marker follows, and a window that shows only the
marker did not get the signal.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from dfws_celery import BROADCAST, trigger
from tests.browser.windows import open_window

pytestmark = pytest.mark.django_db(transaction=True)


def received(page: Page):
    return page.locator("#received p")


def test_session_reaches_the_tabs_of_the_session_and_not_another_session_of_the_user(
    server: str, worker, new_context: Callable[[], BrowserContext]
):
    mine = new_context()
    first_tab = open_window(mine, server + "/login/sessioned/?next=/")
    second_tab = open_window(mine, server + "/")
    elsewhere = open_window(new_context(), server + "/login/sessioned/?next=/")
    for page in (second_tab, elsewhere):
        expect(page.locator("#user")).to_have_text("sessioned")

    # a handler called from the first tab triggers to its SESSION
    first_tab.evaluate('() => DFSignals.call("tests.to_session", {text: "for the session"})')
    trigger(None, "html.append", to=BROADCAST, selector="#received", content="<p>marker</p>")

    expect(received(first_tab)).to_have_text(["for the session", "marker"])
    expect(received(second_tab)).to_have_text(["for the session", "marker"])
    expect(received(elsewhere)).to_have_text(["marker"])
