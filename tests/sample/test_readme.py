"""The README's pitch stays true: the two commands first, an example that parses and
imports what exists. The reference material it used to hold is checked where it moved,
in tests/sample/test_docs.py."""

from __future__ import annotations

import ast
import importlib
import re

from tests.sample.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_the_two_commands_open_the_readme() -> None:
    first_block = README.split("```")[1]
    assert first_block.splitlines()[1].startswith("make demo ")
    assert first_block.splitlines()[2].startswith("make test ")


def test_the_example_parses_and_imports_public_names() -> None:
    (example,) = re.findall(r"```python\n(.*?)```", README, re.DOTALL)
    assert len(example.splitlines()) <= 30
    tree = ast.parse(example)
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert {node.module for node in imports} == {"dfws_celery", "dfws_web"}
    for node in imports:
        module = importlib.import_module(node.module or "")
        for alias in node.names:
            assert alias.name in module.__all__, f"{node.module}.{alias.name}"
