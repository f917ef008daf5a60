"""Every feature of the sample project's pages, in Chromium, in both modes.

``site`` is first the default mode (`make demo`: in-memory broker, worker and
beat inside the server) then the Redis mode (`make demo-redis`: external
worker processes and beat).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext, Page

from tests.sample.conftest import ROOT, Site

# what each built-in signal's example (sample_project/demo/examples.py) changes in the page
HTML_CHECKS = {
    "html.add_class": "document.querySelector('#x-add-class').classList.contains('on')",
    "html.remove_class": "!document.querySelector('#x-remove-class').classList.contains('on')",
    "html.after": "document.querySelector('#x-after + .added')?.textContent === 'after'",
    "html.before": "document.querySelector('#x-before').previousElementSibling?.textContent === 'before'",
    "html.append": "document.querySelector('#x-append').lastElementChild?.textContent === 'appended'",
    "html.prepend": "document.querySelector('#x-prepend').firstElementChild?.textContent === 'prepended'",
    "html.replace_with": "!document.querySelector('#x-replace-with') && !!document.querySelector('#x-replaced')",
    "html.content": "document.querySelector('#x-content').innerHTML === '<em>new</em> content'",
    "html.text": "document.querySelector('#x-text').textContent === '<em>not HTML</em>'",
    "html.empty": "document.querySelector('#x-empty').childNodes.length === 0",
    "html.remove": "!document.querySelector('#x-remove')",
    "html.add_attribute": "document.querySelector('#x-add-attribute').title === 'set by dfws'",
    "html.remove_attr": "!document.querySelector('#x-remove-attr').hasAttribute('title')",
    "html.boolean_attribute": "document.querySelector('#x-boolean-attribute').disabled",
    "html.forms.set": (
        "(() => { const f = document.querySelector('#x-forms-set');"
        " return f.city.value === 'Lyon' && f.size.value === 'L' && f.gift.checked; })()"
    ),
    "html.progress": "Math.abs(document.querySelector('#x-progress').value - 0.6) < 1e-6",
    "html.focus": "document.activeElement?.id === 'x-focus'",
    "html.download_file": None,  # checked through the download event
}
LAST = ("html.download_file", "html.focus")  # clicking a button moves the focus


def open_page(context: BrowserContext, url: str) -> Page:
    """A new tab on ``url``, once a worker has answered its ``demo.hello`` over the websocket."""
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#dfws-status[data-ready]")
    return page


def log_in(context: BrowserContext, site: Site, next_path: str) -> Page:
    page = context.new_page()
    page.goto(f"{site.url}/accounts/login/?next={next_path}")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "demo")
    page.click("#login-form button")
    page.wait_for_selector("#dfws-status[data-ready]")
    assert page.inner_text("#username") == "demo"
    return page


def wait_js(page: Page, expression: str, timeout: float = 15_000) -> None:
    """Wait until ``expression`` is true in ``page``, polling on a timer: Chromium throttles
    animation frames (Playwright's default polling) in tabs that are not in front."""
    page.wait_for_function(expression, polling=50, timeout=timeout)


def text_of(page: Page, selector: str) -> str:
    return page.inner_text(selector)


def messages(page: Page) -> list[str]:
    return page.eval_on_selector_all("#messages li", "items => items.map(i => i.textContent)")


def test_the_examples_cover_every_builtin_signal_of_the_client() -> None:
    source = (ROOT / "frontend" / "src" / "html.ts").read_text()
    table = source[source.index("HTML_SIGNALS") :]
    assert set(re.findall(r'^\s+"(html\.[a-z_.]+)":', table, re.MULTILINE)) == set(HTML_CHECKS)


def run_every_builtin(page: Page, kind: str) -> None:
    """Click the ``kind`` button ("local" or "server") of each example; check what it did."""
    names = page.eval_on_selector_all("tr[data-signal]", "rows => rows.map(r => r.dataset.signal)")
    assert set(names) == set(HTML_CHECKS)

    def click(name: str) -> None:
        page.click(f"tr[data-signal='{name}'] button.{kind}")

    for name in names:
        if name not in LAST:
            click(name)
    for name in names:
        if name not in LAST:
            wait_js(page, HTML_CHECKS[name])
    with page.expect_download() as download:
        click("html.download_file")
    assert download.value.suggested_filename == "hello.txt"
    click("html.focus")
    wait_js(page, HTML_CHECKS["html.focus"])


def test_builtin_signals_called_in_the_window(site: Site, new_context: Callable[[], Any]) -> None:
    page = open_page(new_context(), f"{site.url}/builtins/")
    # each example's options are shown as the call sends them: JSON (true), not Python (True)
    cells = page.eval_on_selector_all(
        "tr[data-signal] td:nth-child(2)", "cells => cells.map(c => c.textContent)"
    )
    shown = [json.loads(cell) for cell in cells]
    assert {"selector": "#x-boolean-attribute", "name": "disabled", "value": True} in shown
    run_every_builtin(page, "local")


def test_builtin_signals_sent_from_the_server(site: Site, new_context: Callable[[], Any]) -> None:
    page = open_page(new_context(), f"{site.url}/builtins/")
    run_every_builtin(page, "server")


def test_form_values_reach_the_handler(site: Site, new_context: Callable[[], Any]) -> None:
    page = open_page(new_context(), f"{site.url}/forms/")
    page.fill("#id_name", "Ada")
    page.select_option("#id_color", "green")
    page.fill("#id_age", "36")
    page.press("#id_age", "Tab")
    wait_js(
        page,
        "document.querySelector('#profile-valid')?.textContent.includes("
        "'name=Ada, color=green, age=36')",
    )
    page.fill("#id_age", "-1")
    page.press("#id_age", "Tab")
    page.wait_for_selector("#profile-invalid")
    assert "greater than or equal to 0" in text_of(page, "#profile-result")

    page.fill("#title", "hello world")
    page.press("#title", "Tab")
    wait_js(
        page,
        "document.querySelector('#title-result').textContent"
        " === \"the server received title='hello world'\"",
    )


def test_article_topic_reaches_only_its_readers(site: Site, new_context: Callable[[], Any]) -> None:
    first, second = new_context(), new_context()
    reader = open_page(first, f"{site.url}/articles/1/")
    other_article = open_page(first, f"{site.url}/articles/2/")
    other_reader = open_page(second, f"{site.url}/articles/1/")

    reader.fill("#comment-text", "first!")
    reader.click("#comment-form button")
    for page in (reader, other_reader):
        wait_js(page, "document.querySelector('#comments').textContent.includes('first!')")
    other_article.fill("#comment-text", "on two")
    other_article.click("#comment-form button")
    wait_js(other_article, "document.querySelectorAll('#comments li').length === 1")
    assert text_of(other_article, "#comments") == "anonymous: on two"

    # a view triggers the new count to the article's topic, "thanks!" to the calling window
    likes, likes_of_two = int(text_of(reader, "#likes")), text_of(other_article, "#likes")
    other_reader.click("#like")
    wait_js(other_reader, "document.querySelector('#like-status').textContent === 'thanks!'")
    wait_js(reader, f"document.querySelector('#likes').textContent === '{likes + 1}'")
    assert text_of(reader, "#likes-word") == ("like" if likes + 1 == 1 else "likes")
    assert text_of(reader, "#like-status") == ""
    assert text_of(other_article, "#likes") == likes_of_two


def test_window_user_and_broadcast_targets(site: Site, new_context: Callable[[], Any]) -> None:
    logged_in = new_context()
    first = log_in(logged_in, site, "/topics/")
    second = open_page(logged_in, f"{site.url}/topics/")
    anonymous = open_page(new_context(), f"{site.url}/topics/")

    def send(page: Page, target: str, text: str) -> None:
        page.fill("#message-text", text)
        page.click(f"#message-form button[value={target}]")

    send(first, "window", "just me")
    send(first, "user", "my windows")
    for page in (first, second):
        wait_js(
            page,
            "[...document.querySelectorAll('#messages li')]"
            ".some(li => li.textContent === '[user] demo: my windows')",
        )
    send(first, "broadcast", "everybody")
    for page in (first, second, anonymous):
        wait_js(
            page,
            "document.querySelector('#messages li')?.textContent === '[broadcast] demo: everybody'",
        )
    assert messages(anonymous) == ["[broadcast] demo: everybody"]
    send(anonymous, "broadcast", "me too")  # only logged-in users may broadcast
    wait_js(anonymous, "document.querySelector('#message-error').textContent !== ''")
    assert text_of(anonymous, "#message-error").startswith("permission_denied: ")
    assert "[window] demo: just me" in messages(first)
    assert "[window] demo: just me" not in messages(second)


def test_my_session_reaches_every_tab_of_an_anonymous_browser(
    site: Site, new_context: Callable[[], Any]
) -> None:
    """No Django session, yet "to my session" reaches both tabs: the browser (dfwsid) is it."""
    same_browser = new_context()
    first = open_page(same_browser, f"{site.url}/topics/")
    second = open_page(same_browser, f"{site.url}/topics/")
    first.fill("#message-text", "both tabs")
    first.click("#message-form button[value=session]")
    for page in (first, second):
        wait_js(
            page,
            "[...document.querySelectorAll('#messages li')]"
            ".some(li => li.textContent === '[session] anonymous: both tabs')",
        )
    assert not [c for c in same_browser.cookies() if c["name"] == "sessionid"]


def test_slow_handler_reports_progress(site: Site, new_context: Callable[[], Any]) -> None:
    page = open_page(new_context(), f"{site.url}/background/")
    page.fill("#slow-steps", "4")
    page.fill("#slow-delay", "0.4")
    page.click("#slow-form button")
    wait_js(
        page,
        "(() => { const p = document.querySelector('#slow-progress');"
        " const m = document.querySelector('#slow-message').textContent;"
        " return p.value > 0 && p.value < 1 && /^step [123] of 4$/.test(m); })()",
    )
    wait_js(page, "document.querySelector('#slow-result').textContent.startsWith('done: 4 steps')")
    assert page.eval_on_selector("#slow-progress", "p => p.value") == 1
    assert text_of(page, "#slow-message") == "step 4 of 4"
    # the promise of DFSignals.call() resolves with the handler's return value
    wait_js(page, "document.querySelector('#slow-returned').textContent !== ''")
    returned = json.loads(text_of(page, "#slow-returned"))
    assert len(returned) == 1 and returned[0]["steps"] == 4


def test_countdown_signals_arrive_when_due(site: Site, new_context: Callable[[], Any]) -> None:
    page = open_page(new_context(), f"{site.url}/background/")
    page.fill("#countdown-seconds", "2")
    page.click("#countdown-form button")
    wait_js(page, "document.querySelector('#countdown').textContent === '1'")
    wait_js(
        page, "document.querySelector('#countdown-result').textContent.startsWith('arrived after')"
    )
    seconds = float(text_of(page, "#countdown-result").split()[2])
    assert 1.8 <= seconds < 6


def test_beat_broadcasts_the_server_time(site: Site, new_context: Callable[[], Any]) -> None:
    page = open_page(new_context(), f"{site.url}/background/")
    wait_js(page, "Number(document.querySelector('#ticks').textContent) >= 2", timeout=12_000)
    assert re.fullmatch(r"\d\d:\d\d:\d\d", text_of(page, "#clock"))
    # the next page is served with the last tick, not "waiting for a tick…" for 3 s
    response = page.goto(f"{site.url}/forms/")
    assert response is not None
    assert re.search(r'id="clock">\d\d:\d\d:\d\d<', response.text()), response.text()[:2000]


def test_the_admin_says_why_results_stay_empty_in_memory_mode(
    site: Site, new_context: Callable[[], Any]
) -> None:
    page = log_in(new_context(), site, "/")
    for path in ("/admin/", "/admin/django_celery_results/taskresult/"):
        page.goto(f"{site.url}{path}")
        assert page.locator("#results-note").count() == (1 if site.mode == "memory" else 0), path


def test_server_announces_its_mode(site: Site, new_context: Callable[[], Any]) -> None:
    page = open_page(new_context(), f"{site.url}/")
    assert text_of(page, "#mode") == site.mode
    if site.mode == "memory":
        output = site.tree.output()
        assert f"dfws demo: {site.url}/" in output and "login: demo / demo" in output
        assert "In-process Celery worker consuming celery,slow" in output


def test_header_shows_the_socket_state_and_a_resync_reloads(
    site: Site, new_context: Callable[[], Any]
) -> None:
    page = open_page(new_context(), f"{site.url}/")
    wait_js(page, "document.querySelector('#dfws-state').classList.contains('state-open')")
    assert text_of(page, "#dfws-state") == "open"
    # what the client dispatches when the server says frames were lost for good
    page.evaluate("window.notReloaded = true")
    with page.expect_navigation():
        page.evaluate(
            "document.dispatchEvent(new CustomEvent('dfws:resync', {detail: {topics: ['0']}}))"
        )
    page.wait_for_selector("#dfws-status[data-ready]")
    assert page.evaluate("window.notReloaded") is None
