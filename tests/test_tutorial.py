"""docs/tutorial.md, followed to the letter by a newcomer's shell, ends on a working page.

The tutorial marks each block it wants run with an HTML comment,
``<!-- tutorial: ACTION [FILE] -->``:

* ``run``: shell commands, typed in one terminal (a bash that keeps its folder
  and its activated virtualenv from one block to the next);
* ``write FILE`` / ``append FILE``: a file's content, relative to that terminal's folder;
* ``expect``: lines the previous ``run`` block must have printed;
* ``start-worker`` / ``start-server``: commands that keep running (another
  terminal): started in the background from the same folder and virtualenv.

Only three things are changed on the way, each a fact of this machine, not of
the tutorial: ``/path/to/dfws`` becomes a copy of this checkout (pip builds in
the copy, never in the shared tree), ``runserver`` gets a free port, and
``REDIS_URL`` (which the tutorial's settings read from the environment) points
at a private redis-server. The virtualenv is a fresh one that pip-installs
the package and its dependencies, as a reader's would.

Then Chromium opens the page, clicks the button, and must see every progress
report of the slow handler, in order, and then its result. Every process the
tutorial started is in the terminal's process group, stopped at the end.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from tests import chromium, services

TUTORIAL = services.ROOT / "docs" / "tutorial.md"
SOURCE_PLACEHOLDER = "/path/to/dfws"
BLOCK = re.compile(
    r"<!-- tutorial: (?P<action>[a-z-]+)(?: (?P<path>\S+))? -->\n"
    r"```[a-z]*\n(?P<text>.*?)^```$",
    re.S | re.M,
)
ACTIONS = {"run", "write", "append", "expect", "start-worker", "start-server"}
# what pip must not copy from this checkout: environments, caches, build leftovers
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "build", "dist", "*.egg-info", "__pycache__", "site",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", ".coverage-data", "bench", "*.sqlite3",
    "celerybeat-schedule*",
)  # fmt: skip


@dataclass(frozen=True)
class Step:
    action: str
    path: str | None
    text: str


def tutorial_steps(markdown: str) -> list[Step]:
    steps = [Step(m["action"], m["path"], m["text"]) for m in BLOCK.finditer(markdown)]
    unknown = {step.action for step in steps} - ACTIONS
    assert not unknown, f"unknown actions in docs/tutorial.md: {unknown}"
    # every marker is followed by its block: a marker the pattern skipped is a typo
    assert markdown.count("<!-- tutorial: ") == len(steps), "a marker without its block"
    return steps


def test_the_tutorial_marks_the_blocks_it_needs() -> None:
    """The markers parse, and the page has what the end-to-end test below relies on."""
    steps = tutorial_steps(TUTORIAL.read_text())
    actions = [step.action for step in steps]
    assert actions.count("start-worker") == 1 and actions.count("start-server") == 1
    assert actions.index("start-worker") < actions.index("start-server")
    assert actions[0] == "run" and SOURCE_PLACEHOLDER in steps[0].text
    server = next(step for step in steps if step.action == "start-server")
    assert server.text.strip() == "python manage.py runserver"
    written = {step.path for step in steps if step.action in ("write", "append")}
    assert {"proj/settings.py", "demo/signals.py", "demo/templates/demo/home.html"} <= written


class Terminal:
    """One bash, fed blocks one at a time; its folder and environment persist between them.

    It runs with ``set -e`` in a session of its own: a failing command ends it (and
    the test, with the output so far), and everything started from it — the
    background blocks, their children — shares its process group.
    """

    def __init__(self, cwd: Path, env: dict[str, str], log_dir: Path) -> None:
        self.log_dir = log_dir
        self.popen = subprocess.Popen(
            ["bash"], cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.transcript: list[str] = []
        assert self.popen.stdout is not None
        self.reader = threading.Thread(target=self._read, args=(self.popen.stdout,), daemon=True)
        self.reader.start()
        self.blocks = 0
        self._send("set -e")

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def _send(self, text: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(text + "\n")
        self.popen.stdin.flush()

    def _script(self, text: str) -> Path:
        self.blocks += 1
        path = self.log_dir / f"block-{self.blocks}.sh"
        path.write_text(text + "\n")
        return path

    def run(self, text: str, timeout: float) -> str:
        """Run a block as if typed here; its output. Any failing command fails the test."""
        token = uuid.uuid4().hex
        # sourced, so that `cd` and `source .venv/bin/activate` last; stdin closed, so that
        # no command reads the next blocks
        self._send(f"source {self._script(text)} < /dev/null\necho {token}")
        output: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"timed out after {timeout}s running:\n{text}\n{''.join(output)}")
            if line is None:
                pytest.fail(f"this block failed:\n{text}\n--- output ---\n{''.join(output)}")
            if line.strip() == token:
                self.transcript.extend(output)
                return "".join(output)
            output.append(line)

    def start(self, name: str, text: str) -> Path:
        """Start a long-running block in the background, as in another terminal; its log."""
        log = self.log_dir / f"{name}.log"
        self.run(f"(source {self._script(text)}) < /dev/null > {log} 2>&1 &", timeout=30)
        return log

    def folder(self) -> Path:
        return Path(self.run("pwd", timeout=30).strip())

    def stop(self) -> None:
        """Stop the bash and everything it started: its whole process group, by its id."""
        group = self.popen.pid  # a session leader: the group's id is its pid
        for sig, grace in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                self.popen.poll()
                try:
                    os.killpg(group, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                continue
            break
        self.popen.wait(10)
        assert self.popen.stdin is not None and self.popen.stdout is not None
        self.reader.join(10)
        self.popen.stdin.close()
        self.popen.stdout.close()


def reader_environment(redis_url: str) -> dict[str, str]:
    """This process's environment without its virtualenv, its project or the test settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DFWS_", "CELERY_", "VIRTUAL_ENV", "PYTHON"))
    }
    venv_bin = str(Path(sys.executable).parent)
    path = [p for p in env.get("PATH", "/usr/bin:/bin").split(":") if p and p != venv_bin]
    # `python3` is the interpreter this checkout's virtualenv was made from (3.11+)
    base_bin = str(Path(getattr(sys, "_base_executable", sys.executable)).resolve().parent)
    env["PATH"] = ":".join([base_bin, *path])
    env["REDIS_URL"] = redis_url
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def wait_for_log(log: Path, pattern: str, what: str, timeout: float) -> re.Match[str]:
    def found() -> re.Match[str] | None:
        return re.search(pattern, log.read_text(errors="replace")) if log.exists() else None

    try:
        return services.wait_until(found, timeout, what)
    except TimeoutError:
        text = log.read_text(errors="replace") if log.exists() else "(no log)"
        pytest.fail(f"{what}: not seen in {timeout}s\n{text[-4000:]}")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[services.Process]:
    process = services.redis_server(tmp_path, name="tutorial-redis")
    yield process
    process.stop()


@pytest.mark.timeout(600)
def test_the_tutorial_followed_verbatim_reaches_a_working_page(
    tmp_path: Path, private_redis: services.Process
) -> None:
    source = tmp_path / "dfws"
    shutil.copytree(services.ROOT, source, ignore=NOT_COPIED)
    home = tmp_path / "home"
    home.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    port = services.free_port()
    terminal = Terminal(home, reader_environment(private_redis.url), logs)
    logs_of: dict[str, Path] = {}
    try:
        project: Path | None = None
        last_output = ""
        for step in tutorial_steps(TUTORIAL.read_text()):
            started = time.monotonic()
            if step.action == "run":
                text = step.text.replace(SOURCE_PLACEHOLDER, str(source))
                last_output = terminal.run(text, timeout=400)
                project = terminal.folder()
                # shown when the test fails (pytest prints what a test printed)
                print(f"{time.monotonic() - started:6.1f}s  {text.splitlines()[-1]}")
            elif step.action == "expect":
                for line in filter(None, (line.strip() for line in step.text.splitlines())):
                    assert line in last_output, f"expected {line!r} in:\n{last_output}"
            elif step.action in ("write", "append"):
                assert project is not None and step.path is not None
                target = project / step.path
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("a" if step.action == "append" else "w") as file:
                    file.write(("\n" if step.action == "append" else "") + step.text)
            elif step.action == "start-worker":
                logs_of["worker"] = terminal.start("worker", step.text)
                # the tutorial starts the server once the worker is up, and so do we
                wait_for_log(logs_of["worker"], r"celery@\S+ ready\.", "the worker's ready", 120)
            elif step.action == "start-server":
                text = step.text.replace("runserver", f"runserver 127.0.0.1:{port}")
                logs_of["server"] = terminal.start("server", text)
                services.wait_until(
                    lambda: services.port_open("127.0.0.1", port), 120, "runserver to listen"
                )
        assert set(logs_of) == {"worker", "server"}
        worker_log = logs_of["worker"].read_text()
        assert "demo.count:demo.signals.count" in worker_log, worker_log

        with chromium.launch() as browser, chromium.contexts(browser) as new_context:
            page = new_context().new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_function("() => window.DFSignals && DFSignals.state === 'open'")
            # every progress report the button receives, in order (the page shows the last)
            page.evaluate(
                """() => {
                    window.seen = [];
                    document.getElementById("start").addEventListener(
                        "dfws:progress", (event) => window.seen.push(event.detail.message));
                }"""
            )
            page.click("#start")
            page.wait_for_function(
                "() => document.getElementById('result').textContent !== ''", timeout=60_000
            )
            assert page.text_content("#result") == "counted to 5"
            assert page.evaluate("window.seen") == [f"step {n} of 5" for n in range(1, 6)]
            assert page.text_content("#message") == "step 5 of 5"
            assert page.eval_on_selector("#bar", "bar => bar.value") == 1
        wait_for_log(logs_of["worker"], r"succeeded in .*'counted to 5'", "the task's success", 30)
    finally:
        terminal.stop()
        for name, log in logs_of.items():
            print(f"--- {name} ---\n{log.read_text(errors='replace')[-6000:]}")
