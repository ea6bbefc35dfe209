"""Log lines on a budget: a flood of bad messages must not fill a Pi's SD card.

At most ``per_minute`` lines per key (say, per unit) each minute; the rest are counted and
the count is logged with the next line that gets through.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


class LogBudget:
    def __init__(self, logger: logging.Logger, per_minute: int = 20,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.per_minute = per_minute
        self._now = monotonic
        self._lock = threading.Lock()
        self._window = 0.0
        self._used: dict[str, int] = {}
        self._dropped: dict[str, int] = {}

    def log(self, level: int, key: str, msg: str, *args: object) -> None:
        now = self._now()
        with self._lock:
            if now - self._window >= 60.0:
                self._window = now
                self._used = {}  # bounded: cleared every minute, whatever keys came
            used = self._used.get(key, 0)
            if used >= self.per_minute:
                if len(self._dropped) < 10_000 or key in self._dropped:
                    self._dropped[key] = self._dropped.get(key, 0) + 1
                return
            self._used[key] = used + 1
            dropped = self._dropped.pop(key, 0)
        if dropped:
            msg += f" ({dropped} similar lines from {key!s:.60} not logged)"
        self.logger.log(level, msg, *args)
