"""The wheel people install: built without warnings, and enough for a new project on its own.

The wheel is built from this tree (pip, isolated build), installed without
dependencies into a folder of its own that comes first on the path of a
minimal project — so nothing is imported from this checkout — which then
passes ``manage.py check``, collects ``js/df_websockets.min.js`` and imports
every public name.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SETTINGS = """
SECRET_KEY = "packaging-test"
DEBUG = False
ALLOWED_HOSTS = ["localhost"]
INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "channels",
    "dfws_celery",
    "dfws_web",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dfws_web.middleware.WebsocketMiddleware",
]
ROOT_URLCONF = "urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STATIC_URL = "/static/"
STATIC_ROOT = "collected"
ASGI_APPLICATION = "dfws_web.asgi.application"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = "memory://"
WEBSOCKET_WORKERS = "thread"
WEBSOCKET_QUEUE_WATCH = None
USE_TZ = True
"""

CHECK = """
import dfws_celery, dfws_web
assert dfws_celery.__file__.startswith(INSTALLED), dfws_celery.__file__
for name in dfws_celery.__all__:
    getattr(dfws_celery, name)
for name in dfws_web.__all__:
    getattr(dfws_web, name)
print("public names:", len(dfws_celery.__all__) + len(dfws_web.__all__))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    [built] = out.glob("dfws-*.whl")
    return built, build.stdout + build.stderr


def test_the_wheel_builds_without_warnings_and_carries_the_bundle_and_the_types(wheel):
    built, log = wheel
    assert "BuildBackendWarning" not in log and "is absent from the `packages`" not in log
    names = set(zipfile.ZipFile(built).namelist())
    assert {"dfws_celery/py.typed", "dfws_web/py.typed"} <= names
    assert "dfws_web/static/js/df_websockets.min.js" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "bench/"))]


def test_a_new_project_runs_on_the_installed_wheel_alone(wheel, tmp_path):
    built, _ = wheel
    installed = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(installed),
         str(built)],
        check=True, timeout=300,
    )  # fmt: skip
    project = tmp_path / "project"
    project.mkdir()
    (project / "settings.py").write_text(SETTINGS)
    (project / "urls.py").write_text("urlpatterns = []\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{installed}:{project}",
        "DJANGO_SETTINGS_MODULE": "settings",
    }
    manage = [sys.executable, "-m", "django"]

    def run(*args: str) -> str:
        done = subprocess.run(
            [*manage, *args], cwd=project, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    assert "no issues" in run("check")
    run("collectstatic", "--noinput", "-v0")
    assert (project / "collected" / "js" / "df_websockets.min.js").is_file()
    assert "dfws_signals" in run("help")
    code = f"INSTALLED = {str(installed)!r}\n" + textwrap.dedent(CHECK)
    shell = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shell.returncode == 0, shell.stdout + shell.stderr
    assert "public names:" in shell.stdout
