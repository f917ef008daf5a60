"""Which origins may open a websocket (dfws_web.origins), without a server."""

from __future__ import annotations

import pytest

from dfws_web.origins import allowed, normalize


def scope(origin: str | None, host: str = "app.example:8000", scheme: str = "ws") -> dict:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return {"type": "websocket", "scheme": scheme, "headers": headers}


@pytest.fixture(autouse=True)
def hosts(settings):
    settings.ALLOWED_HOSTS = ["app.example"]
    settings.WEBSOCKET_ALLOWED_ORIGINS = []


def test_normalize_spells_out_the_port_and_lowers_the_case():
    assert normalize("HTTPS://App.Example") == "https://app.example:443"
    assert normalize("http://app.example:80/") == "http://app.example:80"
    for bad in ("null", "ftp://app.example", "http://", "http://a/b", "http://a:99999"):
        assert normalize(bad) is None


@pytest.mark.parametrize(
    ("origin", "scheme", "ok"),
    [
        ("http://app.example:8000", "ws", True),
        ("https://app.example:8000", "wss", True),
        ("https://app.example:8000", "ws", False),  # the page is https, the socket is not
        ("http://app.example:8001", "ws", False),
        ("http://other.example:8000", "ws", False),
        (None, "ws", False),
    ],
)
def test_only_the_sockets_own_origin_is_allowed(origin, scheme, ok):
    assert allowed(scope(origin, scheme=scheme))[0] is ok


def test_a_host_outside_allowed_hosts_has_no_own_origin():
    assert not allowed(scope("http://evil.example:8000", host="evil.example:8000"))[0]


def test_a_wildcard_in_allowed_hosts_does_not_widen_the_origin(settings):
    settings.ALLOWED_HOSTS = ["*"]
    assert allowed(scope("http://app.example:8000"))[0]
    assert not allowed(scope("http://evil.example:8000"))[0]


def test_listed_origins_are_allowed(settings):
    settings.WEBSOCKET_ALLOWED_ORIGINS = ["https://www.example"]
    assert allowed(scope("https://WWW.example:443"))[0]
    assert not allowed(scope("http://www.example"))[0]


def test_debug_with_empty_allowed_hosts_accepts_the_local_names_as_django_does(settings):
    """A fresh `startproject` (DEBUG, ALLOWED_HOSTS = []) serves its pages on 127.0.0.1 and
    localhost: its websocket must open there too, and only there."""
    settings.ALLOWED_HOSTS = []
    settings.DEBUG = True
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000"):
        assert allowed(scope(f"http://{host}", host=host))[0], host
    assert not allowed(scope("http://app.example:8000"))[0]
    settings.DEBUG = False
    assert not allowed(scope("http://127.0.0.1:8000", host="127.0.0.1:8000"))[0]
