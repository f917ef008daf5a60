"""The generated TypeScript declarations compiled by the frontend's tsc (issue 15).

One ``tsc --noEmit`` run (~5 s) over the sample project's generated
``signals.d.ts``, the sample's calls (``tests/typescript/calls_ok.ts``), a
check that the declared client API is the client's own
(``client_api.ts``), and wrong calls (``calls_wrong.ts``): the compile must
fail, on each line marked ``// wrong`` and on no other line. Then the
editor's completions (TypeScript's language service, ``complete.cjs``):
the signal names, an argument's keys, a ``Choice``'s values.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TSC = ROOT / "frontend" / "node_modules" / ".bin" / "tsc"
SOURCES = Path(__file__).resolve().parent / "typescript"
FILES = ["signals.d.ts", "calls_ok.ts", "client_api.ts", "calls_wrong.ts"]
ERROR = re.compile(r"^(?P<file>[^\s(]+)\((?P<line>\d+),\d+\): error (?P<code>TS\d+)", re.MULTILINE)


def sample_declarations() -> str:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DFWS_REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "sample_project" / "manage.py"), "dfws_typescript"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return result.stdout


PAGES = [
    'DFSignals.call("',
    'DFSignals.call("demo.slow.work", { ',
    'DFSignals.call("demo.topics.send", { target: "',
]


class Runs:
    """The compile and the completions, started together (each spends seconds parsing lib.dom)."""

    def __init__(self, folder: Path) -> None:
        (folder / "signals.d.ts").write_text(sample_declarations())
        for name in FILES[1:]:
            (folder / name).write_text((SOURCES / name).read_text())
        config = {
            "compilerOptions": {
                "target": "ES2022",
                "lib": ["ES2022", "DOM", "DOM.Iterable"],
                "module": "ESNext",
                "moduleResolution": "Bundler",
                "strict": True,
                "noUncheckedIndexedAccess": True,
                "noEmit": True,
                "skipDefaultLibCheck": True,
                "types": [],
                "paths": {"dfws-client/*": [str(ROOT / "frontend" / "src" / "*")]},
            },
            "files": FILES,
        }
        (folder / "tsconfig.json").write_text(json.dumps(config))
        self.tsc = self._start([str(TSC), "-p", str(folder / "tsconfig.json"), "--pretty", "false"])
        typescript = ROOT / "frontend" / "node_modules" / "typescript"
        self.complete = self._start(
            ["node", str(SOURCES / "complete.cjs"), str(typescript), str(folder), *PAGES]
        )
        self.folder = folder

    @staticmethod
    def _start(command: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    @staticmethod
    def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
        try:
            output, _ = process.communicate(timeout=60)
        finally:
            process.kill()
        return process.returncode, output


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    if not TSC.exists():
        pytest.fail("frontend/node_modules is missing: run `make frontend`")
    started = Runs(tmp_path_factory.mktemp("typescript"))
    yield started
    for process in (started.tsc, started.complete):
        process.kill()
        process.wait()


def test_the_sample_compiles_and_wrong_calls_do_not(runs: Runs) -> None:
    returncode, output = runs.finish(runs.tsc)
    assert returncode != 0, "the wrong calls compiled:\n" + output
    errors = {(Path(m["file"]).name, int(m["line"])) for m in ERROR.finditer(output)}
    wrong_lines = {
        ("calls_wrong.ts", number)
        for number, line in enumerate((SOURCES / "calls_wrong.ts").read_text().splitlines(), 1)
        if line.endswith("// wrong")
    }
    assert wrong_lines
    assert errors == wrong_lines, output


def test_an_editor_completes_names_arguments_and_choices(runs: Runs) -> None:
    returncode, output = runs.finish(runs.complete)
    assert returncode == 0, output
    names, arguments, targets = json.loads(output)
    assert "demo.slow.work" in names and "demo.hello" in names
    assert "demo.clock.tick" not in names  # server_side: browsers may not call it
    assert arguments == ["delay", "steps"]
    assert targets == ["session", "user", "window"]
