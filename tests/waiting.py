"""Polling for something another thread or process will do soon."""

from __future__ import annotations

import time
from collections.abc import Callable


def poll(pred: Callable[[], bool], timeout: float = 5.0) -> bool:
    """True as soon as ``pred()`` is; False if it still is not after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return bool(pred())
