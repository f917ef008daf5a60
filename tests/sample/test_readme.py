"""The README stays true of the code: settings and their defaults, import paths, commands."""

from __future__ import annotations

import importlib
import re

from django.utils.module_loading import import_string

from dfws_celery.conf import DEFAULTS
from tests.sample.conftest import ROOT

README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[2:]]


def test_the_two_commands_open_the_readme() -> None:
    first_block = README.split("```")[1]
    assert first_block.splitlines()[1].startswith("make demo ")
    assert first_block.splitlines()[2].startswith("make test ")


def test_every_setting_is_documented_with_its_default() -> None:
    table = {row[0].strip("`"): row[1] for row in rows(section("Settings"))}
    assert set(DEFAULTS) <= set(table)
    for name, default in DEFAULTS.items():
        if name == "WINDOW_INFO_MIDDLEWARES":
            for path in default:
                assert path.rsplit(".", 1)[1] in table[name]
        elif isinstance(default, str):
            assert table[name] == f'`"{default}"`', name
        else:
            assert table[name] == f"`{default!r}`", name


def test_the_df_websockets_table_names_what_exists() -> None:
    ours = " ".join(row[1] for row in rows(section("Coming from df_websockets")))
    imports = re.findall(r"`from ([\w.]+) import ([\w, ]+)`", ours)
    paths = re.findall(r"[`\"](dfws_\w+(?:\.\w+)+)[`\"]", ours)
    assert len(imports) >= 6 and len(paths) >= 2
    for module, names in imports:
        imported = importlib.import_module(module)
        for name in names.split(", "):
            assert hasattr(imported, name), f"{module}.{name}"
    for path in paths:
        import_string(path)
