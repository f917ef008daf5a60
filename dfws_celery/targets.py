"""Special targets accepted by ``trigger(..., to=...)``.

``SERVER`` and ``SYNC`` run Python handlers; the others are topics that
stand for a set of browser windows and are resolved against the caller's
``WindowInfo`` by the topic serializer.
"""

from __future__ import annotations

from typing import Final


class Target:
    """A named, process-independent marker (compared by identity, pickles by name)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> str:
        return self.name


SERVER: Final = Target("SERVER")
"""Run every Python handler of the signal in a worker (one task message per handler)."""
SYNC: Final = Target("SYNC")
"""Run every Python handler of the signal right here, in the calling thread."""
WINDOW: Final = Target("WINDOW")
"""The browser window the request or call came from."""
USER: Final = Target("USER")
"""Every window of the logged-in user (anonymous users: their session, else their window)."""
SESSION: Final = Target("SESSION")
"""Every window sharing the caller's Django session."""
BROADCAST: Final = Target("BROADCAST")
"""Every connected window."""

BY_NAME: Final = {t.name: t for t in (SERVER, SYNC, WINDOW, USER, SESSION, BROADCAST)}
