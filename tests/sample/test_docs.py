"""The documentation site stays true of the code: settings and their defaults, import
paths, public names, commands, and the README's links into it."""

from __future__ import annotations

import importlib
import re

from django.utils.module_loading import import_string

import dfws_celery
import dfws_web
from dfws_celery.conf import DEFAULTS
from scripts import docs_hooks
from tests.sample.conftest import ROOT

DOCS = ROOT / "docs"


def page(path: str) -> str:
    return (DOCS / path).read_text()


def rows(text: str) -> list[list[str]]:
    """The rows of the first Markdown table of ``text`` (header and rule left out)."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[2:]]


def test_every_setting_is_documented_with_its_default() -> None:
    table = page("reference/settings.md").split("\n## ")[0]
    documented = {row[0].strip("`"): row[1] for row in rows(table)}
    assert set(DEFAULTS) <= set(documented)
    for name, default in DEFAULTS.items():
        if name == "WINDOW_INFO_MIDDLEWARES":
            for path in default:
                assert path.rsplit(".", 1)[1] in documented[name]
        elif isinstance(default, str):
            assert documented[name] == f'`"{default}"`', name
        else:
            assert documented[name] == f"`{default!r}`", name


def test_the_df_websockets_table_names_what_exists() -> None:
    ours = " ".join(row[1] for row in rows(page("how-to/migrating.md")))
    imports = re.findall(r"`from ([\w.]+) import ([\w, ]+)`", ours)
    paths = re.findall(r"[`\"](dfws_\w+(?:\.\w+)+)[`\"]", ours)
    assert len(imports) >= 6 and len(paths) >= 2
    for module, names in imports:
        imported = importlib.import_module(module)
        for name in names.split(", "):
            assert hasattr(imported, name), f"{module}.{name}"
    for path in paths:
        import_string(path)


def test_every_public_name_has_its_reference_entry() -> None:
    text = page("reference/python.md")
    entries = set(re.findall(r"^::: ([\w.]+)$", text, re.MULTILINE))
    targets = set(re.search(r"members: \[([\w, ]+)\]", text).group(1).split(", "))  # type: ignore[union-attr]
    # an entry may name the defining module (``dfws_celery.trigger.trigger``: the module
    # ``dfws_celery.trigger`` would shadow the function); it must be the same object
    documented = {id(import_string(entry)) for entry in entries}
    for package in (dfws_celery, dfws_web):
        for name in package.__all__:
            public = getattr(package, name)
            assert id(public) in documented or name in targets, f"{package.__name__}.{name}"


def test_every_management_command_is_documented() -> None:
    commands = ROOT / "dfws_celery" / "management" / "commands"
    shipped = {path.stem for path in commands.glob("dfws_*.py")}
    assert shipped == set(docs_hooks.COMMANDS)
    assert "<!-- generated: commands -->" in page("reference/commands.md")


def test_the_readme_links_to_pages_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", readme)
    assert len(links) >= 10
    for link in links:
        assert (ROOT / link).is_file(), link


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for path in DOCS.rglob("*.md"):
        assert str(path.relative_to(DOCS)) in nav, path


def test_an_unknown_marker_fails_the_build() -> None:
    try:
        docs_hooks.on_page_markdown("<!-- generated: no-such-thing -->\n")
    except ValueError as exc:
        assert "no-such-thing" in str(exc)
    else:
        raise AssertionError("an unknown marker was left in the page")


def test_generated_wire_page_names_every_close_code_and_error_type() -> None:
    from dfws_celery import errors, wire

    text = docs_hooks.on_page_markdown(page("reference/wire.md"))
    assert "<!-- generated:" not in text
    for code in [*wire.CloseCode, wire.TRY_AGAIN_CLOSE]:
        assert f"| `{int(code)}` |" in text
    for error_type in errors.ErrorType:
        assert f"| `{error_type.value}` |" in text


def test_generated_javascript_page_lists_every_client_member() -> None:
    text = docs_hooks.on_page_markdown(page("reference/javascript.md"))
    client = (ROOT / "frontend" / "src" / "client.ts").read_text()
    body = client.split("export interface DFSignalsApi {", 1)[1].split("\n}", 1)[0]
    members = re.findall(r"^  (?:readonly )?(\w+)[(<:?]", body, re.MULTILINE)
    assert len(members) >= 10
    for member in members:
        assert re.search(rf"^(readonly )?{member}\b", text, re.MULTILINE), member
