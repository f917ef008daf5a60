"""Redis mode seen from the operations side: stored results, the admin, Flower, /metrics/."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import services
from tests.sample.conftest import CELERY, MANAGE, ROOT, Site, Tree
from tests.wsclient import connect_window, open_page, receive_json

# one valid call of each handler, as server code would trigger it
CALLS: dict[str, dict[str, Any]] = {
    "demo.hello": {},
    "demo.html.run": {"name": "html.text"},
    "demo.forms.check": {"form_data": [{"name": "name", "value": "Ada"}]},
    "demo.forms.title": {"title": "stored"},
    "demo.articles.comment": {"article": 1, "text": "from the shell"},
    "demo.topics.send": {"target": "user", "text": "from the shell"},
    "demo.topics.broadcast": {"text": "from the shell"},
    "demo.slow.work": {"steps": 1, "delay": 0},
    "demo.countdown.start": {"seconds": 1},
    "demo.clock.tick": {},
}
TRIGGER_ALL = (
    "import json, sys\n"
    "from dfws_celery import SERVER, WindowInfo, trigger\n"
    "for path, kwargs in json.loads(sys.argv[-1]).items():\n"
    "    trigger(WindowInfo(), path, to=SERVER, **kwargs)\n"
)


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [*MANAGE, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def trigger_every_handler(env: dict[str, str]) -> None:
    code = TRIGGER_ALL.replace("sys.argv[-1]", repr(json.dumps(CALLS)))
    manage(env, "shell", "-c", code)


def handler_tasks(env: dict[str, str]) -> dict[str, str]:
    """Signal path -> task name, read from `manage.py dfws_signals` as a user would."""
    rows = [re.split(r"\s{2,}", line) for line in manage(env, "dfws_signals").splitlines()[1:]]
    return {row[0]: row[2] for row in rows}


def test_every_handler_of_the_sample_is_called_here(redis_env: dict[str, str]) -> None:
    assert set(handler_tasks(redis_env)) == set(CALLS)
    # the README's `celery -A sample_project worker -Q $(... dfws_queues)`
    assert manage(redis_env, "dfws_queues").strip() == "celery,slow"


def test_results_are_stored_under_the_handler_task_name(
    redis_site: Site, redis_env: dict[str, str], new_context: Callable[[], Any]
) -> None:
    task_name = handler_tasks(redis_env)["demo.forms.title"]
    trigger_every_handler(redis_env)

    def stored() -> list[tuple[str, str]]:
        with sqlite3.connect(redis_site.db, timeout=20) as db:
            query = (
                "SELECT status, result FROM django_celery_results_taskresult WHERE task_name = ?"
            )
            return db.execute(query, (task_name,)).fetchall()

    rows = services.wait_until(stored, 30, f"a stored result of {task_name}")
    assert ("SUCCESS", '"stored"') in rows

    # and the admin lists it by task name
    page = new_context().new_page()
    page.goto(f"{redis_site.url}/admin/login/?next=/admin/django_celery_results/taskresult/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "demo")
    page.click("input[type=submit]")
    page.goto(f"{redis_site.url}/admin/django_celery_results/taskresult/?q={task_name}")
    assert task_name in page.inner_text("#result_list")


@pytest.fixture
def flower(redis_site: Site, redis_env: dict[str, str], sample_logs: Path) -> Iterator[str]:
    """Flower as users start it, against the Redis broker; its API opened without login."""
    port = services.free_port()
    args = [*CELERY, "flower", f"--port={port}", "--address=127.0.0.1"]
    env = dict(redis_env, FLOWER_UNAUTHENTICATED_API="true")
    tree = Tree("flower", args, env, sample_logs)
    try:
        services.wait_until(lambda: services.port_open("127.0.0.1", port), 60, "Flower")
        yield f"http://127.0.0.1:{port}"
    finally:
        tree.stop()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_flower_shows_every_handler_task_and_the_queues(
    flower: str, redis_env: dict[str, str]
) -> None:
    expected = set(handler_tasks(redis_env).values())
    # Flower learns about workers (and their queues) from their events and its inspections
    services.wait_until(
        lambda: len(get_json(f"{flower}/api/workers?refresh=1")) >= 2, 30, "the workers"
    )
    trigger_every_handler(redis_env)

    def seen() -> set[str]:
        names = {task["name"] for task in get_json(f"{flower}/api/tasks").values()}
        return names if expected <= names else set()

    names = services.wait_until(seen, 30, f"Flower to see {sorted(expected)}")
    assert "dfws.trigger" not in expected and expected <= names

    queues = get_json(f"{flower}/api/queues/length")["active_queues"]
    lengths = {queue["name"]: queue["messages"] for queue in queues}
    assert {"celery", "slow"} <= set(lengths)
    assert all(isinstance(length, int) and length >= 0 for length in lengths.values())


def scrape(site: Site) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The site's /metrics/ as ``{(sample name, sorted labels): value}``."""
    with urllib.request.urlopen(f"{site.url}/metrics/", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def call(ws: Any, signal: str, opts: dict[str, Any]) -> dict[str, Any]:
    """The answer to a call: its one handler's result or error, or its refusal at the edge
    (frames of other signals skipped)."""
    call_id = uuid.uuid4().hex
    ws.send(json.dumps({"signal": signal, "opts": opts, "call_id": call_id}))
    while True:
        frame = receive_json(ws, 30)
        if frame.get("call_id") == call_id and ("result" in frame or "error" in frame):
            return frame


def test_the_metrics_view_counts_a_scripted_scenario(
    redis_site: Site, redis_env: dict[str, str]
) -> None:
    """Three windows, a call, a refusal at the edge and one in the worker, a broadcast: the
    web server's and the workers' counts in one scrape (their multiprocess directory)."""
    before = scrape(redis_site)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return during.get(key, 0.0) - before.get(key, 0.0)

    pages = ["/", "/topics/", "/articles/1/"]
    with ExitStack() as stack:
        windows = [stack.enter_context(connect_window(redis_site.url, open_page(redis_site.url, p)))
                   for p in pages]  # fmt: skip
        first = windows[0]
        assert call(first, "demo.hello", {})["result"].endswith("MainThread")  # a worker process
        edge = call(first, "demo.clock.tick", {})  # beat's, not the browsers'
        assert edge["error"]["type"] == "forbidden"
        worker = call(first, "demo.topics.send", {"target": "nobody", "text": "hi"})
        assert worker["error"]["type"] == "invalid_argument"
        broadcast = "from dfws_celery import SERVER, WindowInfo, trigger\n"
        broadcast += "trigger(WindowInfo(), 'demo.topics.broadcast', to=SERVER, text='metrics')\n"
        manage(redis_env, "shell", "-c", broadcast)
        for ws in windows:
            while (frame := receive_json(ws, 30)).get("signal") != "demo.message":
                pass
            assert frame["opts"]["text"] == "metrics"
        during = scrape(redis_site)

    assert delta("dfws_windows_connected") == 3
    assert delta("dfws_frames_received_total", kind="call") == 3
    hello = {"signal": "demo.hello"}
    assert delta("dfws_calls_total", **hello) == 1
    assert delta("dfws_call_seconds_count", **hello) == 1
    assert delta("dfws_refusals_total", type="forbidden") == 1  # at the edge
    assert delta("dfws_refusals_total", type="invalid_argument") == 1  # in the worker
    # every page: its window, everyone, its browser; one of them an article too
    for kind, count in {"window": 3, "broadcast": 3, "session": 3, "object": 1}.items():
        assert delta("dfws_windows_by_topic_kind", kind=kind) == count, kind
    assert delta("dfws_windows_by_topic_kind", kind="user") == 0  # nobody logged in
    # the worker timed each message's wait in the queue, the web server's and the shell's
    for signal in ("demo.hello", "demo.topics.send", "demo.topics.broadcast"):
        assert delta("dfws_queue_wait_seconds_count", signal=signal) == 1, signal
    # ack + result, a refusal, ack + error, the broadcast to three windows (and beat's clock)
    assert delta("dfws_frames_sent_total") >= 2 + 1 + 2 + 3
    assert delta("dfws_publish_errors_total") == 0
