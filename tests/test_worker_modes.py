"""Browser calls answered under ``WEBSOCKET_WORKERS = "thread"``, ``"process"`` and ``"channels"``.

One private daphne per mode (``DFWS_TEST_SETTINGS``, read by tests/settings.py), for
the module; ``channels`` runs on the list-based layer with a ``manage.py runworker
celery`` beside it. A real websocket client calls handlers and reads what comes back
(the result, a handler's exception, a refusal decided where the handler runs, progress
reports), and the result says which process and thread ran the handler. The older names
``multithread``/``multiprocess`` are tried in this process, as a view would trigger.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from dfws_celery import SERVER, WindowInfo, backends, trigger
from tests import services
from tests.conftest import wait_for_records
from tests.test_relay import answers, call

WHOAMI = "tests.whoami:tests.testapp.signals.whoami"
FAIL = "tests.fail:tests.testapp.signals.fail"
CAST = "tests.cast:tests.testapp.signals.cast"
SMALL = "tests.small_only:tests.testapp.signals.small_only"
PROGRESS = "tests.progress:tests.testapp.signals.progress"


@dataclass
class Site:
    mode: str
    url: str
    daphne: services.Process
    runworker: services.Process | None = None


@pytest.fixture(scope="module", params=["thread", "process", "channels"])
def site(request: pytest.FixtureRequest, log_dir, django_db_setup) -> Iterator[Site]:
    mode = request.param
    extra = {"DFWS_TEST_LAYER": "list"} if mode == "channels" else {}  # named channels: E009
    env = services.test_env(DFWS_TEST_SETTINGS=json.dumps({"WEBSOCKET_WORKERS": mode}), **extra)
    daphne = services.daphne(None, env, log_dir, name=f"daphne-{mode}")
    runworker = None
    try:
        if mode == "channels":  # reads the default queue's channel, ``celery``
            args = [sys.executable, "-m", "django", "runworker", "celery"]
            runworker = services.Process("runworker-modes", args, env, log_dir)
        yield Site(mode, daphne.url, daphne, runworker)
    finally:
        if runworker is not None:
            runworker.stop()
        daphne.stop()


def test_a_result_comes_back_from_where_the_mode_runs_handlers(site: Site):
    frames = call(site.url, "tests.whoami", {}, wait=30)  # runworker may still be starting
    ack = frames[0]["ack"]
    assert (ack["handlers"], ack["timeout"]) == ([WHOAMI], 30.0)
    result = answers(frames)[WHOAMI]["result"]
    daphne = site.daphne.popen.pid
    if site.mode == "thread":  # a thread of the pool of the handler's queue, in daphne
        assert result["pid"] == daphne and result["thread"].startswith("dfws-celery")
    elif site.mode == "process":  # a child process daphne forked for the pool
        assert result["ppid"] == daphne and result["pid"] != daphne
    else:
        assert site.runworker is not None and site.runworker.alive(), site.runworker
        assert result["pid"] == site.runworker.popen.pid


def test_a_handlers_exception_is_answered(site: Site):
    error = answers(call(site.url, "tests.fail", {}, wait=30))[FAIL]["error"]
    assert error == {
        "type": "handler_exception",
        "message": "ZeroDivisionError",
        "exception": "ZeroDivisionError",
    }


def test_refusals_decided_where_the_handler_runs_are_answered(site: Site):
    missing = answers(call(site.url, "tests.cast", {"count": 1, "code": "abc"}, wait=30))
    assert missing[CAST]["error"] == {
        "type": "missing_argument",
        "message": "missing argument 'color'",
        "argument": "color",
    }
    # the project's own permission is decided beside the handler, not at the edge
    assert answers(call(site.url, "tests.small_only", {"n": 3}, wait=30))[SMALL]["result"] == 3
    denied = answers(call(site.url, "tests.small_only", {"n": 30}, wait=30))[SMALL]["error"]
    assert denied == {"type": "permission_denied", "message": "permission denied"}


def test_progress_reaches_the_window_before_the_result(site: Site):
    frames = call(site.url, "tests.progress", {"steps": 2}, wait=30)
    kinds = [next(k for k in ("ack", "progress", "result", "error") if k in f) for f in frames]
    assert kinds == ["ack", "progress", "progress", "result"], frames
    assert [f["progress"] for f in frames[1:3]] == [
        {"fraction": 0.0, "message": "step 1 of 2"},
        {"fraction": 0.5, "message": "step 2 of 2"},
    ]
    assert frames[-1]["handler"] == PROGRESS and frames[-1]["result"] == "finished"


@pytest.mark.parametrize(
    ("alias", "mode"), [("multithread", "thread"), ("multiprocess", "process")]
)
def test_the_older_names_of_the_pool_modes_are_accepted(settings, sink, alias, mode):
    settings.WEBSOCKET_WORKERS = alias
    assert backends.current().name == mode
    trigger(WindowInfo(), "tests.whoami", to=SERVER)
    where = wait_for_records(sink, "whoami")[0]
    if mode == "thread":
        assert where["pid"] == os.getpid() and where["thread"].startswith("dfws-celery")
    else:
        assert where["ppid"] == os.getpid() and where["pid"] != os.getpid()
