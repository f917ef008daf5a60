"""daphne's websocket library, autobahn, formats its debug text only when it is logged.

autobahn's ``sendData`` logs every frame it writes at debug level, and
builds the highlighted text of the message's arguments (``hltype``,
``hlval``: the qualified name of a method, colours by click) before it
calls ``log.debug`` — which then drops it, debug logging being off.  In a
fan-out to many windows that is about 8 µs per delivered frame, the third
of what one delivery costs daphne (bench/RESULTS.md, issue 17's profile).

:func:`lazy_debug_text` swaps those two helpers, in autobahn's protocol
module only, for wrappers that return the same text when the message is
formatted, and nothing else before: with debug logging on, the lines read
as they did.  ``asgi.build_application()`` applies it when autobahn is
loaded (under daphne); nothing is changed under uvicorn or in a worker.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

PROTOCOL = "autobahn.websocket.protocol"
HELPERS = ("hltype", "hlval")


class LazyText:
    """The text ``function(*args, **kwargs)``, built when formatted."""

    __slots__ = ("args", "function", "kwargs")

    def __init__(self, function: Callable[..., str], args: Any, kwargs: Any) -> None:
        self.function = function
        self.args = args
        self.kwargs = kwargs

    def __str__(self) -> str:
        return self.function(*self.args, **self.kwargs)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return str(self)


def lazily(function: Callable[..., str]) -> Callable[..., LazyText]:
    def wrapper(*args: Any, **kwargs: Any) -> LazyText:
        return LazyText(function, args, kwargs)

    wrapper.dfws_lazy = function  # type: ignore[attr-defined]
    return wrapper


def lazy_debug_text() -> bool:
    """Make autobahn's per-frame debug text lazy; ``False`` when autobahn is not loaded
    or no longer has the helpers (an autobahn release that changed them: nothing done)."""
    protocol = sys.modules.get(PROTOCOL)
    if protocol is None or not all(callable(getattr(protocol, n, None)) for n in HELPERS):
        return False
    for name in HELPERS:
        helper = getattr(protocol, name)
        if not hasattr(helper, "dfws_lazy"):
            setattr(protocol, name, lazily(helper))
    return True
