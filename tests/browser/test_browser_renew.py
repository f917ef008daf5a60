"""A page whose session ended in another tab gets a new window without a reload (issue 12).

The socket is closed with 4001 (the logout revokes the session's sockets); the
client does not retry that key. ``DFSignals.renew()`` fetches the page again
as an AJAX request: its view binds the topics the browser's session may have
now (anonymous here) and the socket reconnects with the new key.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, expect

from dfws_celery import WINDOW, trigger
from tests.browser.windows import open_window, wait_connected, window, window_key

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_page_renews_its_window_after_a_logout_in_another_tab(
    server: str, context: BrowserContext
):
    page = open_window(context, server + "/login/renewer/?next=/")
    expect(page.locator("#user")).to_have_text("renewer")
    page.evaluate(
        "() => { window.closes = []; window.sameDocument = true;"
        " DFSignals.on('close', (detail) => window.closes.push(detail)); }"
    )
    old_key = window_key(context, server)

    other_tab = context.new_page()
    other_tab.goto(server + "/logout/")  # the same browser: the session ends for every tab
    page.wait_for_function("() => window.closes.length > 0", timeout=5000)
    closed = page.evaluate("() => window.closes[0]")
    assert (closed["code"], closed["willRetry"], closed["reason"]) == (4001, False, "session")
    assert page.evaluate("() => DFSignals.state") == "closed"

    assert page.evaluate("() => DFSignals.renew()") is True
    wait_connected(page)
    new_key = window_key(context, server)
    assert new_key != old_key
    assert page.evaluate("() => window.sameDocument") is True  # no reload
    trigger(
        window(new_key), "html.append", to=WINDOW, selector="#received", content="<p>renewed</p>"
    )
    expect(page.locator("#received p")).to_have_text(["renewed"])
    # the old key opens nothing any more
    assert page.evaluate("() => DFSignals.windowKey").split(":")[0] == new_key


def test_renew_says_false_when_the_page_needs_a_reload(server: str, context: BrowserContext):
    page = open_window(context, server + "/")
    # the window was not refused: the server keeps the page's window and sets no new key
    assert page.evaluate("() => DFSignals.renew()") is False
