from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import services

UNIT_TESTS = Path(__file__).resolve().parent / "unit"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "pubsub_only: proves something of the Pub/Sub layer alone (or of no layer); left out, "
        "not skipped, when `make pytest` runs the layer tests again on the list layer",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from tests.settings import LAYER

    if LAYER == "pubsub":
        return
    kept = [item for item in items if item.get_closest_marker("pubsub_only") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(autouse=True)
def _redis(request: pytest.FixtureRequest) -> None:
    """Every test but the unit tier may talk to Redis: start one if none answers."""
    if not Path(request.node.path).is_relative_to(UNIT_TESTS):
        services.ensure_redis()


CLEANED_DB = 10  # the tests' Redis database: nothing of another database is touched


@pytest.fixture(scope="session", autouse=True)
def _forget_the_runs_redis_keys() -> Iterator[None]:
    """At the end of the run, delete what it left in Redis under its own prefix.

    Kombu's bindings, queues nobody consumed (``idle``), window entries that
    would live 10 hours, the limits, the layer's histories: every key of the run
    starts with ``DFWS_TEST_PREFIX:`` (tests/settings.py), in database 10. Set
    up first, so torn down last: the worker and daphne subprocesses have stopped.
    """
    yield
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    if client.connection_pool.connection_kwargs.get("db") != CLEANED_DB:
        return
    try:
        keys = list(client.scan_iter(match=f"{settings.PREFIX}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    except redis.ConnectionError:  # the unit tier points Redis at a closed port
        pass
    finally:
        client.close()


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def worker(log_dir: Path, django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    """One real Celery worker consuming the default queue, for the whole run."""

    env = services.test_env()
    process = services.celery_worker("default", "celery", env, log_dir)
    yield process
    process.stop()


@pytest.fixture(scope="session")
def server(log_dir: Path, django_db_setup: Any, worker: Any) -> Iterator[str]:
    """One real daphne serving the test project, for the whole run; yields its base URL."""

    process = services.daphne(None, services.test_env(), log_dir)
    yield process.url
    process.stop()


@pytest.fixture(scope="module")
def cluster_up(log_dir: Path, django_db_setup: Any) -> Iterator[Any]:
    """The distributed shape (tests/cluster.py), started once for the module that uses it:
    nginx, two daphne processes, two Redis shards, a worker per queue; this process
    publishes on the shards meanwhile."""
    from tests import cluster

    with cluster.serving(log_dir) as running:
        yield running


@pytest.fixture
def cluster(cluster_up: Any) -> Any:
    """The module's cluster with each daphne running (a test before may have stopped one)."""
    cluster_up.revive()
    return cluster_up


@pytest.fixture
def declared() -> Iterator[None]:
    """Forget the dfws signals a test declares."""
    from dfws_celery.registry import REGISTRY

    before = set(REGISTRY.by_task_name)
    yield
    for name in set(REGISTRY.by_task_name) - before:
        REGISTRY.remove(REGISTRY.by_task_name[name])


@pytest.fixture
def sink() -> Iterator[Any]:
    from tests.testapp import sink as sink_module

    sink_module.clear()
    yield sink_module
    sink_module.clear()


def wait_for_records(sink: Any, name: str, count: int = 1, timeout: float = 15) -> list[Any]:
    def found() -> list[Any]:
        records = [r for r in sink.read() if r["name"] == name]
        return records if len(records) >= count else []

    return services.wait_until(found, timeout, f"{count} {name!r} record(s)")
