"""Per-key token buckets (lookups per unit or per address) and a failed-lookup window."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    def __init__(self, rate_per_s: float, burst: int, max_failures: int,
                 failure_window_s: float = 600.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self.max_failures = max_failures
        self.window = failure_window_s
        self._now = monotonic
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._failures: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when it asks too often or guessed too much."""
        now = self._now()
        with self._lock:
            fails = self._failures.get(key)
            if fails is not None:
                while fails and fails[0] < now - self.window:
                    fails.popleft()
                if len(fails) >= self.max_failures:
                    return False
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 10000:
                self._buckets = {k: v for k, v in self._buckets.items()
                                 if now - v[1] < self.window}
            return True

    def failed(self, key: str) -> None:
        with self._lock:
            self._failures.setdefault(key, deque()).append(self._now())
