"""DFSignals.call() returns a Promise settled by the workers' answers (issue: result relay)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext

from tests import services
from tests.browser.windows import open_window

pytestmark = pytest.mark.django_db(transaction=True)

# Settles the call in the page and reports what the page saw, in order.
CALL = """async ([signal, opts, callOpts]) => {
  const seen = [];
  try {
    const results = await DFSignals.call(signal, opts, {
      ...callOpts,
      onProgress: (p) => seen.push({ progress: p.fraction, message: p.message,
                                     bar: document.querySelector("#bar").value }),
    });
    seen.push({ results });
  } catch (err) {
    seen.push({ error: { cls: err instanceof DFSignals.DFSignalError ? "DFSignalError" : String(err), type: err.type, message: err.message,
                         argument: err.argument ?? null, handler: err.handler ?? null } });
  }
  return seen;
}"""


@pytest.fixture(scope="module")
def slow_worker(log_dir: Any, worker: Any) -> Iterator[Any]:
    process = services.celery_worker("browser-slow", "slow", services.test_env(), log_dir)
    yield process
    process.stop()


def call(context: BrowserContext, server: str, signal: str, opts: dict, **call_opts: Any) -> list:
    page = open_window(context, server + "/")
    return page.evaluate(CALL, [signal, opts, call_opts])


def test_call_resolves_with_the_results_of_two_handlers_on_two_queues(
    server: str, context: BrowserContext, slow_worker: Any
):
    seen = call(context, server, "tests.multi", {"value": 4})
    assert seen == [{"results": [{"queue": "celery", "value": 4}, {"queue": "slow", "value": 8}]}]


def test_invalid_argument_rejects_with_the_argument_name(server: str, context: BrowserContext):
    seen = call(context, server, "tests.cast", {"count": "many", "code": "abc", "color": "red"})
    error = seen[-1]["error"]
    assert (error["cls"], error["type"], error["argument"]) == (
        "DFSignalError",
        "invalid_argument",
        "count",
    )
    assert error["handler"] == "tests.cast:tests.testapp.signals.cast"


def test_handler_exception_rejects_with_its_class(server: str, context: BrowserContext):
    error = call(context, server, "tests.fail", {})[-1]["error"]
    assert error["type"] == "handler_exception" and "ZeroDivisionError" in error["message"]


def test_progress_reaches_the_page_before_the_result(server: str, context: BrowserContext):
    seen = call(context, server, "tests.progress", {"steps": 3}, progress="#bar")
    assert [s.get("message") for s in seen[:3]] == ["step 1 of 3", "step 2 of 3", "step 3 of 3"]
    assert seen[2]["progress"] == pytest.approx(2 / 3)
    assert seen[2]["bar"] == pytest.approx(200 / 3)  # html.progress drove the <progress> element
    assert seen[3] == {"results": ["finished"]}


def test_call_to_a_queue_without_worker_times_out_naming_the_handler(
    server: str, context: BrowserContext
):
    error = call(context, server, "tests.idle_call", {}, timeout=1500)[-1]["error"]
    assert error["type"] == "timeout"
    assert "tests.idle_call:tests.testapp.signals.idle_call" in error["message"]
