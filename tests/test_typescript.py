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


@pytest.fixture(scope="module")
def declarations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the sample project's generated ``signals.d.ts``."""
    if not TSC.exists():
        pytest.fail("frontend/node_modules is missing: run `make frontend`")
    folder = tmp_path_factory.mktemp("typescript")
    (folder / "signals.d.ts").write_text(sample_declarations())
    return folder


def test_the_sample_compiles_and_wrong_calls_do_not(declarations: Path) -> None:
    tmp_path = declarations
    for name in FILES[1:]:
        (tmp_path / name).write_text((SOURCES / name).read_text())
    config = {
        "compilerOptions": {
            "target": "ES2022",
            "lib": ["ES2022", "DOM", "DOM.Iterable"],
            "module": "ESNext",
            "moduleResolution": "Bundler",
            "strict": True,
            "noUncheckedIndexedAccess": True,
            "noEmit": True,
            "types": [],
            "paths": {"dfws-client/*": [str(ROOT / "frontend" / "src" / "*")]},
        },
        "files": FILES,
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(config))
    result = subprocess.run(
        [str(TSC), "-p", str(tmp_path / "tsconfig.json"), "--pretty", "false"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, "the wrong calls compiled:\n" + output
    errors = {(Path(m["file"]).name, int(m["line"])) for m in ERROR.finditer(output)}
    wrong_lines = {
        ("calls_wrong.ts", number)
        for number, line in enumerate((SOURCES / "calls_wrong.ts").read_text().splitlines(), 1)
        if line.endswith("// wrong")
    }
    assert wrong_lines
    assert errors == wrong_lines, output


def test_an_editor_completes_names_arguments_and_choices(declarations: Path) -> None:
    pages = [
        'DFSignals.call("',
        'DFSignals.call("demo.slow.work", { ',
        'DFSignals.call("demo.topics.send", { target: "',
    ]
    typescript = ROOT / "frontend" / "node_modules" / "typescript"
    result = subprocess.run(
        ["node", str(SOURCES / "complete.cjs"), str(typescript), str(declarations), *pages],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    names, arguments, targets = json.loads(result.stdout)
    assert "demo.slow.work" in names and "demo.hello" in names
    assert "demo.clock.tick" not in names  # server_side: browsers may not call it
    assert arguments == ["delay", "steps"]
    assert targets == ["session", "user", "window"]
