"""The import contract of ``make lint`` holds on main and catches what it is meant to catch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.deps import circles

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of both packages and the contract, to break on purpose."""
    for name in ("dfws_celery", "dfws_web"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("static"))
    shutil.copy(ROOT / ".importlinter", tmp_path)
    return tmp_path


def add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_contract_holds_on_this_tree(tree: Path):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_the_core_importing_the_edge_breaks_it(tree: Path):
    add_line(tree / "dfws_celery" / "conf.py", "from dfws_web import windows  # noqa")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "never imports dfws_web BROKEN" in result.stdout


def test_a_circle_hidden_inside_a_function_breaks_it(tree: Path):
    # routing sits below registry: importing it back, even lazily, is a circle
    add_line(
        tree / "dfws_celery" / "routing.py",
        "def _lookup():\n    from dfws_celery.registry import REGISTRY\n    return REGISTRY",
    )
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "dfws_celery is layered" in result.stdout and "BROKEN" in result.stdout
    assert "dfws_celery.routing -> dfws_celery.registry" in result.stdout


def test_a_module_missing_from_the_map_breaks_it(tree: Path):
    (tree / "dfws_web" / "extra.py").write_text("X = 1\n")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "dfws_web.extra" in result.stdout


def test_the_drawing_script_finds_circles():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert circles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
