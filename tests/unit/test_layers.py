"""CHANNEL_LAYERS entries: the defaults that guard against known Redis pitfalls."""

from __future__ import annotations

import pytest

from dfws_celery.layers import redis_channel_layer, redis_pubsub_channel_layer

URL = "redis://127.0.0.1:1/3"


def test_list_layer_entry_has_safe_defaults():
    layer = redis_channel_layer(URL)
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    config = layer["CONFIG"]
    assert config["hosts"] == [
        {
            "address": URL,
            "socket_timeout": None,  # idle sockets must not die after 5 s
            "socket_connect_timeout": 5.0,
            "max_connections": 1000,
        }
    ]
    assert (config["prefix"], config["capacity"], config["group_expiry"]) == ("dfws", 1000, 86400)


def test_list_layer_options_and_extra_config_pass_through():
    config = redis_channel_layer(
        URL,
        prefix="p",
        capacity=5,
        connect_timeout=1.5,
        client_name="web-1",
        symmetric_encryption_keys=["k"],
    )["CONFIG"]
    host = config["hosts"][0]
    assert (host["socket_connect_timeout"], host["client_name"]) == (1.5, "web-1")
    assert (config["prefix"], config["capacity"]) == ("p", 5)
    assert config["symmetric_encryption_keys"] == ["k"]


def test_pubsub_layer_entry():
    layer = redis_pubsub_channel_layer(URL, prefix="proj", client_name="c")
    assert layer["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert layer["CONFIG"] == {
        "hosts": [
            {
                "address": URL,
                "socket_timeout": None,
                "socket_connect_timeout": 5.0,
                "client_name": "c",
            }
        ],
        "prefix": "proj",
    }


def test_no_client_name_unless_given():
    assert "client_name" not in redis_pubsub_channel_layer(URL)["CONFIG"]["hosts"][0]
    assert "client_name" not in redis_channel_layer(URL)["CONFIG"]["hosts"][0]


def test_a_list_of_urls_shards_the_layer_in_the_order_given():
    urls = ["redis://10.0.0.1:6379/0", "redis://10.0.0.2:6379/0"]
    for build in (redis_pubsub_channel_layer, redis_channel_layer):
        hosts = build(urls, client_name="web-1")["CONFIG"]["hosts"]
        assert [host["address"] for host in hosts] == urls
        assert all(host["socket_timeout"] is None for host in hosts)
        assert all(host["client_name"] == "web-1" for host in hosts)
    assert redis_channel_layer(urls)["CONFIG"]["hosts"][1]["max_connections"] == 1000
    with pytest.raises(ValueError, match="at least one Redis URL"):
        redis_pubsub_channel_layer([])
