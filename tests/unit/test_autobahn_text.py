"""autobahn's per-frame debug text, built only when it is logged (dfws_web.autobahn_text)."""

from __future__ import annotations

import importlib

import pytest

from dfws_web import autobahn_text


@pytest.fixture
def protocol():
    """autobahn's protocol module with its own helpers (an application built earlier in the
    run may have made them lazy already), as it was again afterwards."""
    module = importlib.import_module(autobahn_text.PROTOCOL)
    saved = {name: getattr(module, name) for name in autobahn_text.HELPERS}
    for name, helper in saved.items():
        setattr(module, name, getattr(helper, "dfws_lazy", helper))
    yield module
    for name, helper in saved.items():
        setattr(module, name, helper)


def test_the_helpers_autobahn_formats_every_frame_with_still_exist(protocol):
    """The contract: sendData logs with hltype and hlval from its own module's globals
    (an autobahn that renames them leaves the frames alone, and this test says so)."""
    import inspect

    source = inspect.getsource(protocol.WebSocketProtocol.sendData)
    assert "hltype(self.sendData)" in source and "hlval(" in source
    assert all(callable(getattr(protocol, name)) for name in autobahn_text.HELPERS)
    assert not any(hasattr(getattr(protocol, n), "dfws_lazy") for n in autobahn_text.HELPERS)


def test_the_text_is_the_same_but_built_only_when_formatted(protocol):
    eager = {name: getattr(protocol, name) for name in autobahn_text.HELPERS}
    expected = eager["hltype"](test_the_text_is_the_same_but_built_only_when_formatted)
    assert autobahn_text.lazy_debug_text() is True
    calls = []
    lazy = protocol.hltype(test_the_text_is_the_same_but_built_only_when_formatted)
    assert isinstance(lazy, autobahn_text.LazyText)
    assert f"{lazy}" == expected and str(lazy) == expected
    assert f"{protocol.hlval(42)}" == eager["hlval"](42)
    autobahn_text.LazyText(lambda: calls.append(1) or "", (), {})  # never formatted
    assert calls == []
    assert autobahn_text.lazy_debug_text() is True  # twice: not wrapped twice
    assert protocol.hltype.dfws_lazy is eager["hltype"]


def test_nothing_is_done_without_autobahn(monkeypatch):
    monkeypatch.delitem(__import__("sys").modules, autobahn_text.PROTOCOL, raising=False)
    assert autobahn_text.lazy_debug_text() is False
