"""The version matrix: the unit tier on the oldest and the newest of every supported range.

``make test-matrix`` (not part of ``make test``) runs ``tests/unit`` — what ``make
test-fast`` runs, no service needed — in a fresh virtualenv per session:

* ``oldest``: every lower bound of ``setup.cfg`` (``install_requires`` and the extras
  the tests import) pinned with ``==``, on the oldest supported Python;
* ``newest``: the newest release each range allows, on every supported Python (Django
  6.0 needs Python 3.12, so 3.11 gets the newest 5.2).

Each session prints the versions it tested before the tests run.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
PYTHONS = ["3.11", "3.12", "3.13"]  # python_requires and the classifiers of setup.cfg
EXTRAS = ["redis", "results", "metrics"]  # the unit tier imports all three
# what tests/unit needs besides dfws and its extras (the dev extra also holds the linters,
# stubs and browser tools, whose own pins would fight the oldest versions)
TEST_TOOLS = [
    "pytest>=8",
    "pytest-django>=4.9",
    "pytest-timeout>=2.3",
    "hypothesis>=6.100",
    "import-linter>=2.10",
]
REPORTED = [
    "Django",
    "celery",
    "kombu",
    "channels",
    "daphne",
    "channels-redis",
    "redis",
    "django-celery-results",
    "prometheus_client",
]
# as `make test-fast`: a unit test that reaches for Redis or a broker fails
UNIT_ENV = {
    "DFWS_TEST_REDIS": "redis://127.0.0.1:1/10",
    "DFWS_TEST_BROKER": "redis://127.0.0.1:1/10",
}

nox.options.sessions = ["oldest", "newest"]
nox.options.error_on_missing_interpreters = True


def requirements() -> list[str]:
    """``install_requires`` plus the requirements of ``EXTRAS``, as setup.cfg writes them."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options"]["install_requires"].splitlines()
    for extra in EXTRAS:
        lines += config["options.extras_require"][extra].splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def lower_bound(requirement: str) -> str:
    """``"Django>=4.2,<6.1"`` -> ``"Django==4.2"``; every range here has a lower bound."""
    found = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(.*)", requirement)
    bound = re.search(r">=\s*([0-9][\w.]*)", found.group(2)) if found else None
    if found is None or bound is None:
        raise ValueError(f"no lower bound in {requirement!r} (setup.cfg)")
    return f"{found.group(1)}=={bound.group(1)}"


def run_unit_tier(session: nox.Session) -> None:
    versions = "; ".join(f"{name} {{version({name!r})}}" for name in REPORTED)
    session.run(
        "python",
        "-c",
        "import platform; from importlib.metadata import version; "
        f'print(f"tested: Python {{platform.python_version()}}; {versions}")',
    )
    session.run("pytest", "-q", "tests/unit", *session.posargs, env=UNIT_ENV)


@nox.session(python=PYTHONS[0])
def oldest(session: nox.Session) -> None:
    """Every lower bound, on the oldest Python."""
    pins = Path(session.create_tmp()) / "oldest.txt"
    pins.write_text("\n".join(lower_bound(r) for r in requirements()) + "\n")
    session.install("-c", str(pins), f".[{','.join(EXTRAS)}]", *TEST_TOOLS)
    run_unit_tier(session)


@nox.session(python=PYTHONS)
def newest(session: nox.Session) -> None:
    """The newest release each range allows."""
    session.install("--upgrade", "--upgrade-strategy", "eager", f".[{','.join(EXTRAS)}]")
    session.install(*TEST_TOOLS)
    run_unit_tier(session)
