"""One thread owns the board: what it should show now, re-sent, blinked, checked.

What is on the board at a moment is a pure function :func:`visible` of the wanted
display and the time, so blinking and notices are tested without threads. The
thread writes whenever that changes and at least every ``resend_s`` (a board that
lost power comes back blank). Write failures are reported through ``on_health``
and retried every ``retry_s`` until the board answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from appliance.i18n import tr
from drivers.ledboard.base import BoardError, LedBoard

log = logging.getLogger(__name__)
BLINK_PERIOD_S = 0.5


@dataclass(frozen=True)
class Display:
    text: str = ""
    blink_from: float = 0.0
    blink_until: float = 0.0
    notice: str | None = None
    notice_until: float = 0.0


def visible(d: Display, now: float, *, can_show_text: bool = True) -> str:
    """What the board shows at ``now``: a notice, a blink phase, or the steady text.

    A board that cannot show text (a Modbus number board) blinks its number for a
    notice instead, so an error is still seen.
    """
    if d.notice is not None and now < d.notice_until:
        if can_show_text:
            return d.notice
        return d.text if int(now / (BLINK_PERIOD_S / 2)) % 2 == 0 else ""
    if d.blink_from <= now < d.blink_until:
        phase = int((now - d.blink_from) / (BLINK_PERIOD_S / 2))
        return d.text if phase % 2 == 0 else ""
    return d.text


def next_change(d: Display, now: float) -> float | None:
    """When :func:`visible` may next change (None: not until the display is set again)."""
    times = []
    if d.notice is not None and now < d.notice_until:
        times.append(min(d.notice_until, now + BLINK_PERIOD_S / 2))
    if d.blink_from <= now < d.blink_until:
        half = BLINK_PERIOD_S / 2
        step = d.blink_from + (int((now - d.blink_from) / half) + 1) * half
        times.append(min(step, d.blink_until))
    return min(times) if times else None


class BoardKeeper:
    """Keeps ``board`` showing the wanted display. Thread-safe setters; own thread."""

    def __init__(self, board: LedBoard, *, resend_s: float = 10.0, blink_s: float = 3.0,
                 notice_s: float = 2.0, retry_s: float = 2.0,
                 on_health: Callable[[bool, str | None], None] | None = None,
                 on_written: Callable[[str], None] | None = None) -> None:
        self.board = board
        self.resend_s = resend_s
        self.blink_s = blink_s
        self.notice_s = notice_s
        self.retry_s = min(retry_s, resend_s)
        self._on_health = on_health
        self._on_written = on_written
        self._display = Display()
        self._cond = threading.Condition()
        self._dirty = True
        self._stop = False
        self._thread: threading.Thread | None = None
        self.ok: bool | None = None  # None until the first write
        self.problem: str | None = None
        self.last_written: str | None = None
        self.writes = 0

    # ---- wanted display ----------------------------------------------------------------
    def show(self, text: str, *, blink: bool = False) -> None:
        now = time.monotonic()
        with self._cond:
            d = Display(text=text)
            if blink and self.blink_s > 0:
                d = replace(d, blink_from=now, blink_until=now + self.blink_s)
            self._display = d
            self._dirty = True
            self._cond.notify_all()

    def notice(self, text: str, seconds: float | None = None) -> None:
        """Flash a short text (e.g. ``----`` for an empty queue), then back to the number."""
        now = time.monotonic()
        with self._cond:
            self._display = replace(self._display, notice=text,
                                    notice_until=now + (seconds or self.notice_s))
            self._dirty = True
            self._cond.notify_all()

    def echo(self, text: str) -> None:
        """Show what the officer is typing (until the action or ``""``); a number board
        that cannot show letters keeps its number instead of blinking for every digit."""
        if not self.board.can_show_text:
            return
        if text:
            self.notice(text, 30.0)
        else:
            with self._cond:
                self._display = replace(self._display, notice=None, notice_until=0.0)
                self._dirty = True
                self._cond.notify_all()

    @property
    def text(self) -> str:
        return self._display.text

    def wait_written(self, text: str, timeout: float) -> bool:
        """Wait until ``text`` has been written to the board (tests, benchmark)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.last_written != text:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    # ---- thread --------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ledboard", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=3)
            self._thread = None
        self.board.close()

    def _run(self) -> None:
        last_write = -1e9
        shown: str | None = None
        while True:
            with self._cond:
                if self._stop:
                    return
                now = time.monotonic()
                d = self._display
                want = visible(d, now, can_show_text=self.board.can_show_text)
                interval = self.resend_s if self.ok is not False else self.retry_s
                due = self._dirty or want != shown or now - last_write >= interval
                if not due:
                    wake = last_write + interval
                    change = next_change(d, now)
                    if change is not None:
                        wake = min(wake, change)
                    self._cond.wait(max(0.005, wake - now))
                    continue
                self._dirty = False
            self._write(want)
            # a failed write is retried after retry_s (the interval when not ok), not at
            # once: a board that is gone must not make this loop spin
            last_write = time.monotonic()
            shown = want

    def _write(self, text: str) -> bool:
        try:
            self.board.show(text)
        except BoardError as exc:
            self._health(False, str(exc))
            return False
        except ValueError as exc:  # text the board cannot show: a bug above, not a fault
            log.error(tr("bảng LED không hiện được %r: %s",
                         "LED board cannot show %r: %s"), text, exc)
            return True
        with self._cond:
            self.last_written = text
            self.writes += 1
            self._cond.notify_all()
        if self._on_written is not None:
            self._on_written(text)
        self._health(True, None)
        return True

    def _health(self, ok: bool, problem: str | None) -> None:
        changed = ok != self.ok
        self.ok, self.problem = ok, problem
        if changed:
            if ok:
                log.info(tr("bảng LED đã trả lời", "LED board answering"))
            else:
                log.warning(tr("bảng LED lỗi: %s", "LED board fault: %s"), problem)
            if self._on_health is not None:
                self._on_health(ok, problem)
