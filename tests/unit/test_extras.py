"""The optional dependencies: a feature used without its extra says which one to install."""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from dfws_celery import extras, metrics, redis_clients
from dfws_celery.layers import redis_channel_layer, redis_pubsub_channel_layer

SETUP_CFG = Path(__file__).resolve().parents[2] / "setup.cfg"
URL = "redis://127.0.0.1:1/1"  # never connected to


@pytest.mark.parametrize("helper", [redis_channel_layer, redis_pubsub_channel_layer])
def test_a_redis_layer_without_channels_redis_names_the_redis_extra(monkeypatch, helper):
    monkeypatch.setitem(sys.modules, "channels_redis", None)  # as if not installed
    with pytest.raises(ImproperlyConfigured) as raised:
        helper(URL)
    message = str(raised.value)
    assert f"{helper.__name__}() needs channels_redis, which" in message
    assert message.endswith("pip install 'dfws[redis]'")


def test_a_sync_redis_client_without_redis_py_names_the_redis_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImproperlyConfigured, match=r"needs redis, .*'dfws\[redis\]'"):
        redis_clients.sync_client({"address": "redis://127.0.0.1:1/13"})


def test_metrics_without_prometheus_client_name_the_metrics_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(ImproperlyConfigured, match=r"WEBSOCKET_METRICS = True needs"):
        metrics.Instruments()


def test_the_extras_table_matches_the_extras_of_setup_cfg():
    config = configparser.ConfigParser()
    config.read(SETUP_CFG)
    declared = config["options.extras_require"]
    for extra, modules in extras.EXTRAS.items():
        requirements = [line for line in declared[extra].splitlines() if line.strip()]
        names = {re.split(r"[<>=!~\[ ;]", line, maxsplit=1)[0] for line in requirements}
        assert {name.lower().replace("-", "_") for name in names} == set(modules), extra
        assert extras.missing(extra) == []  # the dev environment has every extra
