"""A token bucket: how many browser calls a window may make, per second."""

from __future__ import annotations

import time


class TokenBucket:
    """``rate`` tokens per second, up to ``2 * rate`` saved for bursts; ``rate <= 0``: no limit."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = 2 * rate
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
