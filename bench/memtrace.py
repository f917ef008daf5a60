"""An ASGI wrapper that lets ``bench.profile memory`` take tracemalloc snapshots of daphne.

Stdlib only (it also runs in df-websockets' virtualenv): ``BENCH_ASGI_APP`` names the
real application; the first SIGUSR1 starts tracing (25 frames: tracing the whole
start-up would take minutes) and each SIGUSR1 writes a snapshot to
``BENCH_SNAPSHOT_DIR/<n>.pickle``: the difference between two snapshots is what
was allocated in between and is still alive.
"""

from __future__ import annotations

import importlib
import os
import signal
import tracemalloc
from typing import Any

module_name, _, attribute = os.environ["BENCH_ASGI_APP"].partition(":")
application = getattr(importlib.import_module(module_name), attribute)
_count = 0


def _dump(signum: int, frame: Any) -> None:
    global _count
    if not tracemalloc.is_tracing():
        tracemalloc.start(25)
    _count += 1
    path = os.path.join(os.environ["BENCH_SNAPSHOT_DIR"], f"{_count}.pickle")
    tracemalloc.take_snapshot().dump(path + ".tmp")
    os.replace(path + ".tmp", path)


signal.signal(signal.SIGUSR1, _dump)
