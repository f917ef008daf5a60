"""Helpers of the browser tests: windows that are connected, their keys, their socket URL."""

from __future__ import annotations

from urllib.parse import unquote

import redis
from django.conf import settings
from playwright.sync_api import BrowserContext, Page

from dfws_celery import WindowInfo

# The consumer answers a frame only once its connect() has joined the
# window's groups, so a refused call is a round trip that proves the window
# can now receive what is sent to its topics.
PROBE = """async () => {
  try {
    await DFSignals.call("tests.browser.no_such_signal");
  } catch (err) {
    if (err instanceof DFSignals.DFSignalError && err.type === "unknown_signal") return true;
    throw err;
  }
  throw new Error("the probe signal unexpectedly has a server handler");
}"""


def open_window(context: BrowserContext, url: str) -> Page:
    """A new tab on ``url`` whose websocket is connected and bound to its topics."""
    page = context.new_page()
    page.goto(url)
    wait_connected(page)
    return page


def wait_connected(page: Page) -> None:
    page.evaluate(PROBE)


def cookies(context: BrowserContext, base: str) -> dict[str, str]:
    return {c["name"]: c["value"] for c in context.cookies(base)}


def window_key(context: BrowserContext, base: str) -> str:
    """The key of the window opened last in ``context`` (the dfwskey cookie holds one)."""
    return cookies(context, base)["dfwskey"].split(":")[0]


def socket_url(context: BrowserContext, base: str) -> str:
    return unquote(cookies(context, base)["dfwsurl"].strip('"'))


def window(key: str) -> WindowInfo:
    return WindowInfo.from_dict({"window_key": key})


def queue_length(queue: str) -> int:
    return int(redis.Redis.from_url(settings.REDIS_URL).llen(f"{settings.PREFIX}:{queue}"))
