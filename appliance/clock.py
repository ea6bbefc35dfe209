"""Time, passed in everywhere so the core stays pure and tests can move it by hand."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    def __init__(self, tz: tzinfo = VN_TZ) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)


class ManualClock:
    """A clock that only moves when told to (tests, the fast headless demo)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now = self._now + timedelta(seconds=seconds)
            return self._now


def rfc3339(when: datetime) -> str:
    """RFC 3339 with the offset (e.g. 2026-11-30T08:01:02+07:00), seconds precision."""
    if when.tzinfo is None:
        raise ValueError("naive datetime has no offset")
    return when.isoformat(timespec="seconds")


def parse_rfc3339(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError(f"time without offset: {text!r}")
    return when


class OffsetClock:
    """Real time flowing from a chosen start (optionally faster): the live demo starts at
    opening time whatever the hour, and tests run inside opening hours."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("OffsetClock needs a timezone-aware start time")
        self._start = start
        self._t0 = time.monotonic()
        self.speed = speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)
