"""Recovery across a restart of the channel layer's Redis (a private redis-server this test owns).

The channel layer, and so the histories, live on a private Redis; the window
cache stays on the run's Redis. With append-only persistence the histories
survive a restart and a window that was away gets what it missed; restarted
empty, the epochs are new and the window is told to resync.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from websockets.exceptions import ConnectionClosed

from dfws_celery.topics import group_name
from dfws_web.recovery import topic_tag
from tests import services
from tests.wsclient import connect_window, frames_until_quiet, open_page, window_key

pytestmark = pytest.mark.django_db(transaction=True)


def redis(port: int, folder: Path, log_dir: Path, persist: bool) -> services.Process:
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--dir", str(folder), "--appendonly", "yes" if persist else "no",
            "--appendfsync", "always"]  # fmt: skip
    process = services.Process(f"redis-restart-{time.monotonic_ns()}", args, {}, log_dir)
    services.wait_until(lambda: services.port_open("127.0.0.1", port), 10, "redis-server")
    return process


def send(env: dict[str, str], key: str, *values: int) -> None:
    """Trigger to the window from another process on the private layer, as a task would."""
    code = (
        "import django; django.setup()\n"
        "from dfws_celery import WINDOW, WindowInfo, trigger\n"
        f"info = WindowInfo.from_dict({{'window_key': {key!r}}})\n"
        f"for v in {list(values)!r}:\n"
        "    trigger(info, 'html.text', to=WINDOW, selector='#n', content=str(v))\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60, cwd=services.ROOT)


def reconnect(daphne, cookies: dict[str, str], positions: dict[str, str]) -> list[dict]:
    """What a reconnecting window gets once daphne is back on the layer, as the client
    retries: while it is not, the socket is closed 4013 (try again later), never 1011."""
    query = "dfwspos=" + quote(json.dumps(positions))
    deadline = time.monotonic() + 20
    while True:
        try:
            with connect_window(daphne.url, cookies, query=query) as ws:
                return frames_until_quiet(ws)
        except ConnectionClosed as exc:
            assert exc.rcvd is not None and exc.rcvd.code == 4013, daphne.output()[-4000:]
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def contents(found: list[dict]) -> list[int]:
    return [int(f["opts"]["content"]) for f in found if f.get("signal") == "html.text"]


def test_a_history_that_survives_a_redis_restart_is_replayed_one_that_does_not_asks_a_resync(
    log_dir, tmp_path
):
    port = services.free_port()
    layer = redis(port, tmp_path, log_dir, persist=True)
    env = services.test_env(DFWS_TEST_LAYER_HOSTS=f"redis://127.0.0.1:{port}/0")
    daphne = services.daphne(None, env, log_dir, name="daphne-layer-restart")
    try:
        cookies = open_page(daphne.url)
        key = window_key(cookies)
        tag = topic_tag(group_name(f"-window.{key}"))
        send(env, key, 1)
        with connect_window(daphne.url, cookies) as ws:  # the first connect replays 1
            seen = frames_until_quiet(ws)
        assert contents(seen) == [1]
        position = next(f["o"][tag] for f in seen if "o" in f)

        send(env, key, 2, 3, 4)  # while the window is away
        layer.stop()  # Redis restarts: its append-only file brings the histories back
        layer = redis(port, tmp_path, log_dir, persist=True)
        again = reconnect(daphne, cookies, {tag: position})
        assert contents(again) == [2, 3, 4]
        assert again[-1] == {"recovered": {"frames": 3, "resync": []}}
        position = next(f["o"][tag] for f in reversed(again) if "o" in f)

        layer.stop()  # restarted empty this time: every history is gone
        for leftover in tmp_path.iterdir():
            if leftover.is_dir():
                for file in leftover.iterdir():
                    file.unlink()
                leftover.rmdir()
            else:
                leftover.unlink()
        layer = redis(port, tmp_path, log_dir, persist=False)
        send(env, key, 5)  # a new epoch for the window's topic
        told = reconnect(daphne, cookies, {tag: position})
        assert told[-1] == {"recovered": {"frames": 0, "resync": [tag]}}
        assert contents(told) == []  # what is kept of the new epoch is not mixed in
    finally:
        daphne.stop()
        layer.stop()
