"""A plain websocket client of the dfws endpoint (what a browser does, without the browser)."""

from __future__ import annotations

import json
import socket
import urllib.request
from http.cookiejar import CookieJar
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.sync.client import ClientConnection, connect


def open_page(base: str, path: str = "/", jar: CookieJar | None = None) -> dict[str, str]:
    """GET a page like a browser would; returns the cookies it set."""
    jar = jar if jar is not None else CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base + path, timeout=10) as response:
        response.read()
    return {cookie.name: cookie.value for cookie in jar}


def connect_window(
    base: str,
    cookies: dict[str, str],
    origin: str | None = None,
    source: str | None = None,
    query: str = "",
) -> ClientConnection:
    """The page's socket; ``source``: another loopback address to connect from (127.0.0.x);
    ``query``: more of the URL's query string (``"dfwspos=..."``)."""
    url = unquote(cookies["dfwsurl"].strip('"'))
    if query:
        url += ("&" if "?" in url else "?") + query
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    sock = None
    if source is not None:
        parts = urlsplit(url)
        sock = socket.create_connection(
            (parts.hostname, parts.port), timeout=10, source_address=(source, 0)
        )
    return connect(
        url,
        additional_headers={"Cookie": header},
        origin=origin or base,
        open_timeout=10,
        sock=sock,
    )


def receive_json(ws: ClientConnection, timeout: float = 10) -> Any:
    while True:
        text = ws.recv(timeout=timeout)
        if text != "--heartbeat--":
            return json.loads(text)


def window_key(cookies: dict[str, str]) -> str:
    return cookies["dfwskey"].split(":")[0]


def frames_until_quiet(
    ws: ClientConnection, quiet: float = 1.5, until: str | None = None
) -> list[Any]:
    """The frames ``ws`` receives (heartbeat echoes left out) until none comes for ``quiet``
    seconds, or up to the first whose text holds ``until``."""
    found = []
    while True:
        try:
            text = ws.recv(timeout=quiet)
        except TimeoutError:
            return found
        if text == "--heartbeat--":
            continue
        found.append(json.loads(text))
        if until is not None and until in text:
            return found
