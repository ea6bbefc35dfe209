"""The counter unit's test twin: the real unit wired to virtual hardware.

* the staff keypad and the rating keys are :class:`drivers.evdev_fake.FakeUsbPort`
  devices (events go through evdev's real reader over a pipe);
* the LED board is a real :class:`drivers.ledboard.ascii.AsciiBoard` writing to a pty;
  :class:`PtyBoardTap` reads the other end and decodes the frames, as a board would.

Used by the tests, the benchmark and the demo. ``do("next")`` presses the keys an
officer would and returns the unit's Result once the hub has answered.
"""

from __future__ import annotations

import os
import queue
import select
import threading
import time
import tty
from collections.abc import Callable
from typing import Any

from appliance.clock import Clock
from appliance.config import UnitConfig
from appliance.counter.bootstrap import CounterUnit, build_counter
from appliance.counter.model import Result
from drivers.evdev_fake import FakeUsbPort
from drivers.ledboard.ascii import AsciiBoard, decode_frames
from drivers.ledboard.base import LedBoard

ACTION_KEYS = {
    "next": "KEY_KPPLUS", "recall": "KEY_KPASTERISK", "no_show": "KEY_KPMINUS",
    "finish": "KEY_KPSLASH", "park": "KEY_F3", "open": "KEY_F1", "close": "KEY_F2",
}
RATING_KEYS = {"very_satisfied": "KEY_KP1", "satisfied": "KEY_KP2", "unsatisfied": "KEY_KP3"}


class PtyBoardTap:
    """The far end of the board's serial line: decodes every ASCII frame written."""

    def __init__(self, on_frame: Callable[[int, str], None] | None = None) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.frames: list[tuple[float, int, str]] = []
        self._on_frame = on_frame
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="board-tap", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        rest = b""
        while not self._stop.is_set():
            r, _, _ = select.select([self.master], [], [], 0.1)
            if not r:
                continue
            try:
                rest += os.read(self.master, 4096)
            except OSError:
                return
            now = time.monotonic()
            frames, rest = decode_frames(rest)
            with self._cond:
                for addr, text in frames:
                    self.frames.append((now, addr, text))
                self._cond.notify_all()
            if self._on_frame is not None:
                for addr, text in frames:
                    self._on_frame(addr, text)

    def mark(self) -> int:
        with self._cond:
            return len(self.frames)

    def wait_for(self, text: str, *, since: int = 0, timeout: float = 5.0) -> float | None:
        """Monotonic time of the first frame showing ``text`` (stripped) after ``since``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for t, _, shown in self.frames[since:]:
                    if shown.strip() == text:
                        return t
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    @property
    def last(self) -> str | None:
        with self._cond:
            return self.frames[-1][2].strip() if self.frames else None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        os.close(self.master)
        os.close(self._slave)


class CounterTwin:
    def __init__(self, config: UnitConfig, *, clock: Clock | None = None,
                 on_frame: Callable[[int, str], None] | None = None,
                 board: LedBoard | None = None, pin_factory: Any = None) -> None:
        assert config.counter is not None
        self.keypad = FakeUsbPort(name=f"{config.unit} keypad")
        self.rating_keys = FakeUsbPort(name=f"{config.unit} rating keys", product=0x0002)
        self.tap = PtyBoardTap(on_frame)
        b = config.counter.board
        if board is None:  # the default: an ASCII board whose frames the tap decodes
            board = AsciiBoard(self.tap.path, baud=b.baud, address=min(b.address, 99),
                               digits=b.digits)
        self.unit: CounterUnit = build_counter(config, clock=clock, board=board,
                                               keypad_opener=self.keypad.open,
                                               rating_opener=self.rating_keys.open,
                                               pin_factory=pin_factory)
        self.results: queue.Queue[Result] = queue.Queue()
        self.unit.service.add_listener(self.results.put)
        self._lock = threading.Lock()

    def start(self, timeout: float = 10.0) -> None:
        self.unit.start()
        if not self.unit.bus.wait_connected(timeout):
            raise TimeoutError("counter did not connect to the broker")
        for i in self.unit.inputs:
            if not i.wait_present(timeout):
                raise TimeoutError(f"{i.name} did not open")

    def stop(self) -> None:
        self.unit.stop()
        self.tap.close()

    # ---- pressing keys -------------------------------------------------------------------
    def press(self, *keys: str, port: FakeUsbPort | None = None) -> None:
        from evdev import ecodes

        for name in keys:
            (port or self.keypad).tap(int(ecodes.ecodes[name]))

    def keys_for(self, action: str, **extra: Any) -> tuple[list[str], FakeUsbPort]:
        """The key presses an officer (or citizen) makes for an action."""
        if action in ACTION_KEYS:
            return [ACTION_KEYS[action]], self.keypad
        if action == "rate":
            return [RATING_KEYS[str(extra["rating"])]], self.rating_keys
        if action == "transfer":
            return ["KEY_KPDOT", f"KEY_{extra['to_service']}"], self.keypad
        if action in ("call", "resume"):
            number = str(extra.get("number") or "")
            keys = [f"KEY_{number[0]}"] if number[:1].isalpha() else []
            keys += [f"KEY_KP{d}" for d in number.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")]
            return keys + (["KEY_KPENTER"] if action == "call" else ["KEY_F4"]), self.keypad
        if action == "login":
            code = str(extra.get("officer") or "")
            keys = [f"KEY_KP{c}" if c.isdigit() else f"KEY_{c.upper()}" for c in code]
            return ["KEY_NUMLOCK", *keys, "KEY_KPENTER"], self.keypad
        raise ValueError(f"no keys for action {action!r}")

    def do(self, action: str, timeout: float = 10.0, **extra: Any) -> Result:
        """Press the keys for ``action`` and return the unit's Result for it."""
        keys, port = self.keys_for(action, **extra)
        return self.then(lambda: self.press(*keys, port=port), timeout)

    def then(self, trigger: Callable[[], object], timeout: float = 10.0) -> Result:
        """Run ``trigger`` (a key press, a GPIO button...) and return the next Result."""
        with self._lock:
            while not self.results.empty():
                self.results.get_nowait()
            trigger()
            return self.results.get(timeout=timeout)
