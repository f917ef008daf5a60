"""The distribution people install: built without warnings, a base install and its extras.

``python -m build`` makes the sdist and, from it, the wheel (each in an isolated
build environment, as a release would). The wheel is then installed with
pip into fresh virtualenvs, resolving its dependencies as a user's
``pip install`` does — nothing comes from this checkout or its venv:

* ``dfws`` alone (Django, Celery, Channels, daphne): a minimal in-memory project
  passes ``manage.py check``, collects ``js/df_websockets.min.js``, imports every
  public name, and has no redis-py nor channels_redis; a Redis feature names the
  extra to install;
* ``dfws[redis,results]``: a project on Redis with django-celery-results passes
  ``check`` and migrates the results' tables.

Both installs download (or take from pip's cache) a few dozen packages: minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(900)

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
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
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

# the production shape of the README: Redis for the layer and the cache, results in the
# database (never connected to: `check` and `migrate` read the settings only)
REDIS_SETTINGS = """
from dfws_celery.layers import redis_pubsub_channel_layer

INSTALLED_APPS += ["django_celery_results"]
CHANNEL_LAYERS = {"default": redis_pubsub_channel_layer("redis://127.0.0.1:1/0")}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}
WEBSOCKET_WORKERS = "celery"
CELERY_RESULT_BACKEND = "django-db"
"""

PUBLIC_NAMES = """
import importlib.util
import dfws_celery, dfws_web
assert dfws_celery.__file__.startswith(VENV), dfws_celery.__file__
for name in dfws_celery.__all__:
    getattr(dfws_celery, name)
for name in dfws_web.__all__:
    getattr(dfws_web, name)
print("public names:", len(dfws_celery.__all__) + len(dfws_web.__all__))
print("absent:", [m for m in ("redis", "channels_redis", "django_celery_results")
                  if importlib.util.find_spec(m) is None])
"""

REDIS_HELPER = """
from dfws_celery.layers import redis_pubsub_channel_layer
try:
    redis_pubsub_channel_layer("redis://127.0.0.1:1/0")
except Exception as exc:
    print(type(exc).__name__, exc)
"""

SYNC_PUBLISHER = """
from channels.layers import get_channel_layer
from dfws_celery.pubsub import sync_publisher
print("sync publisher:", type(sync_publisher(get_channel_layer())).__name__)
"""


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    log = build.stdout + build.stderr
    assert build.returncode == 0, log
    [wheel] = out.glob("dfws-*.whl")
    [sdist] = out.glob("dfws-*.tar.gz")
    return wheel, sdist, log


class Project:
    """A fresh virtualenv with the wheel installed, and a project folder beside it."""

    def __init__(self, root: Path, wheel: Path, extras: str, settings: str) -> None:
        self.venv = root / "venv"
        venv.create(self.venv, with_pip=True)
        self.python = str(self.venv / "bin" / "python")
        subprocess.run(
            [self.python, "-m", "pip", "install", "-q", f"{wheel}{extras}"],
            check=True, timeout=900, env=os.environ.copy(),  # the machine's pip settings
        )  # fmt: skip
        self.dir = root / "project"
        self.dir.mkdir()
        (self.dir / "settings.py").write_text(settings)
        (self.dir / "urls.py").write_text("urlpatterns = []\n")
        # no PYTHONPATH, no checkout: the project folder (the cwd) and the venv only
        self.env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "settings"}

    def manage(self, *args: str, ok: bool = True) -> str:
        done = subprocess.run(
            [self.python, "-m", "django", *args],
            cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert (done.returncode == 0) is ok, done.stdout + done.stderr
        return done.stdout + done.stderr

    def python_code(self, code: str) -> str:
        setup = f"import django; django.setup()\nVENV = {str(self.venv)!r}\n"
        done = subprocess.run(
            [self.python, "-c", setup + textwrap.dedent(code)],
            cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


def test_the_sdist_and_the_wheel_build_without_warnings_with_the_bundle_and_the_types(dist):
    wheel, sdist, log = dist
    assert "Warning" not in log and "is absent from the `packages`" not in log, log
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {"dfws_celery/py.typed", "dfws_web/py.typed"} <= names
    assert "dfws_web/static/js/df_websockets.min.js" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "bench/"))]
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[-1] for name in archive.getnames()}
    assert {"setup.cfg", "pyproject.toml", "dfws_web/static/js/df_websockets.min.js"} <= in_sdist


def test_a_base_install_runs_a_new_project_without_redis(dist, tmp_path):
    wheel, _, _ = dist
    project = Project(tmp_path, wheel, "", SETTINGS)
    assert "no issues" in project.manage("check")
    project.manage("collectstatic", "--noinput", "-v0")
    assert (project.dir / "collected" / "js" / "df_websockets.min.js").is_file()
    assert "dfws_signals" in project.manage("help")
    out = project.python_code(PUBLIC_NAMES)
    assert "public names:" in out
    assert "absent: ['redis', 'channels_redis', 'django_celery_results']" in out
    # a Redis feature used without the extra names it, in code and in `check`
    out = project.python_code(REDIS_HELPER)
    assert out.startswith("ImproperlyConfigured ") and "pip install 'dfws[redis]'" in out
    with (project.dir / "settings.py").open("a") as settings:
        settings.write(
            "CHANNEL_LAYERS = {'default': "
            "{'BACKEND': 'channels_redis.pubsub.RedisPubSubChannelLayer'}}\n"
        )
    out = project.manage("check", ok=False)
    assert "dfws.E011" in out and "pip install 'dfws[redis]'" in out
    # so does a django-celery-results backend without the results extra
    with (project.dir / "settings.py").open("a") as settings:
        settings.write('CELERY_RESULT_BACKEND = "django-db"\n')
    out = project.manage("check", ok=False)
    assert "dfws.E012" in out and "pip install 'dfws[results]'" in out


def test_the_redis_and_results_extras_run_a_project_on_redis(dist, tmp_path):
    wheel, _, _ = dist
    project = Project(tmp_path, wheel, "[redis,results]", SETTINGS + REDIS_SETTINGS)
    assert "no issues" in project.manage("check")
    assert "absent: []" in project.python_code(PUBLIC_NAMES)
    assert "sync publisher: SyncPubSub" in project.python_code(SYNC_PUBLISHER)
    project.manage("migrate", "--noinput", "-v0")
    assert "[X] 0001_initial" in project.manage("showmigrations", "django_celery_results")
