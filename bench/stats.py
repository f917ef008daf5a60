"""Medians, spreads and percentiles, the only statistics the bench reports."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of the values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return float(ordered[rank])


def spread(values: Sequence[float], digits: str) -> str:
    """``median (min-max)`` formatted with ``digits`` (a format spec such as ``.0f``)."""
    if not values:
        return "-"
    if len(values) == 1:
        return format(values[0], digits)
    low, high = min(values), max(values)
    return f"{format(median(values), digits)} ({format(low, digits)}-{format(high, digits)})"
