"""dfws under uvicorn (``--ws websockets``) instead of daphne: the documented alternative.

One private uvicorn serves the test project; the behaviours a page relies on
are checked through it: a call answered by the worker, a broadcast (the
fan-out writes through uvicorn's ASGI send, which may wait), and recovery
after a reconnect.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

import pytest

from dfws_celery import BROADCAST, WINDOW, WindowInfo, trigger
from dfws_celery.topics import group_name
from tests import services
from tests.layer import wait_subscribed, window_joined
from tests.wsclient import connect_window, frames_until_quiet, open_page, window_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def uvicorn(log_dir: Path, django_db_setup, worker) -> Iterator[str]:
    port = services.free_port()
    args = [
        sys.executable, "-m", "uvicorn", "dfws_web.asgi:application", "--host", "127.0.0.1",
        "--port", str(port), "--ws", "websockets", "--lifespan", "off", "--no-access-log",
    ]  # fmt: skip
    process = services.Process("uvicorn", args, services.test_env(), log_dir)
    try:
        services.wait_until(lambda: services.port_open("127.0.0.1", port), 30, "uvicorn")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()
    log = process.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


def test_a_call_is_answered_through_uvicorn(uvicorn):
    cookies = open_page(uvicorn)
    with connect_window(uvicorn, cookies) as ws:
        window_joined(ws, window_key(cookies))
        ws.send(json.dumps({"signal": "tests.ping", "opts": {"value": 6}, "call_id": "u1"}))
        frames = frames_until_quiet(ws, quiet=15, until='"result"')
    assert [f["result"] for f in frames if "result" in f] == [7]


def test_a_broadcast_reaches_every_window_through_uvicorn(uvicorn):
    pages = [open_page(uvicorn) for _ in range(5)]
    marker = uuid.uuid4().hex
    with ExitStack() as stack:
        sockets = [stack.enter_context(connect_window(uvicorn, c)) for c in pages]
        for ws, cookies in zip(sockets, pages, strict=True):
            window_joined(ws, window_key(cookies))
        wait_subscribed([group_name("-broadcast")])
        trigger(WindowInfo(), "html.text", to=BROADCAST, selector="#b", content=marker)
        for ws in sockets:
            got = frames_until_quiet(ws, quiet=5, until=marker)
            assert any(f.get("opts", {}).get("content") == marker for f in got)


def test_a_reconnecting_window_gets_what_it_missed_through_uvicorn(uvicorn):
    cookies = open_page(uvicorn)
    info = WindowInfo.from_dict({"window_key": window_key(cookies)})
    with connect_window(uvicorn, cookies) as ws:
        window_joined(ws, window_key(cookies))
        trigger(info, "html.text", to=WINDOW, selector="#n", content="1")
        seen = frames_until_quiet(ws)
    positions = {tag: at for f in seen for tag, at in f.get("o", {}).items()}
    assert positions
    for n in (2, 3):
        trigger(info, "html.text", to=WINDOW, selector="#n", content=str(n))
    query = "dfwspos=" + quote(json.dumps(positions))
    with connect_window(uvicorn, cookies, query=query) as ws:
        again = frames_until_quiet(ws)
    assert [f["opts"]["content"] for f in again if "signal" in f] == ["2", "3"]
    assert again[-1] == {"recovered": {"frames": 2, "resync": []}}
