"""How long to wait before trying again: exponential, capped, jittered."""

from __future__ import annotations

import random


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next attempt after ``attempts`` failures: ``base`` doubling up
    to ``cap``, with "equal jitter" (between half and all of it) so that retries of many
    items that failed together do not come back together."""
    delay = min(cap, base * 2 ** min(max(attempts, 1) - 1, 32))
    return delay / 2 + random.uniform(0, delay / 2)
