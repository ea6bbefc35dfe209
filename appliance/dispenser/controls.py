"""Buttons to presses: the priority button, the busy policy, and the one worker that prints.

Button callbacks run on gpiozero's threads and only enqueue; a single worker thread runs
each press end to end, so two tickets are never printed at once and a press while a ticket
is printing is queued or ignored (``busy_policy``), never issued twice.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from appliance.i18n import tr

if TYPE_CHECKING:
    from appliance.config.dispenser import DispenserSection
    from appliance.dispenser.service import Dispenser, Outcome

log = logging.getLogger(__name__)
BEAT_S = 2.0  # an idle worker still tells the watchdog it is alive this often


@dataclass
class Job:
    kind: str  # press | reprint
    service: str = ""
    priority: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None


def button_names(conf: DispenserSection) -> dict[int, str]:
    """pin -> button name: "service:A", "priority:A", "priority", "reprint"."""
    names = {b.pin: f"{'priority' if b.priority else 'service'}:{b.service}"
             for b in conf.buttons}
    if conf.priority_pin is not None:
        names[conf.priority_pin] = "priority"
    if conf.reprint_pin is not None:
        names[conf.reprint_pin] = "reprint"
    return names


class Controls:
    def __init__(self, dispenser: Dispenser, conf: DispenserSection,
                 monotonic: Callable[[], float] = time.monotonic,
                 beat: Callable[[], None] = lambda: None) -> None:
        self.d = dispenser
        self._beat = beat  # the watchdog's: this worker is what prints tickets
        self.conf = conf
        self._now = monotonic
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._busy = False
        self._lock = threading.Lock()
        self._priority_until = -1.0
        self._thread: threading.Thread | None = None
        self.ignored = 0

    # ---- from the buttons (gpiozero threads) -------------------------------------------
    def on_button(self, name: str) -> None:
        if name == "priority":
            self._priority_until = self._now() + self.conf.priority_window_s
            return
        if name == "reprint":
            self.submit(Job("reprint"))
            return
        kind, _, service = name.partition(":")
        priority = kind == "priority"
        if not priority and self._now() < self._priority_until:
            priority = True
        self._priority_until = -1.0
        self.submit(Job("press", service=service, priority=priority))

    def on_long_press(self, name: str) -> None:
        if name == "priority":
            self._priority_until = -1.0
            self.submit(Job("reprint"))

    def long_press_actions(self) -> dict[str, Callable[[str], None]]:
        if self.conf.reprint_pin is None and self.conf.priority_pin is not None:
            return {"priority": self.on_long_press}
        return {}

    def submit(self, job: Job) -> Job | None:
        """Queue a job, or drop it per the busy policy (returns None when dropped)."""
        with self._lock:
            waiting = self._jobs.qsize()
            if self._busy or waiting:
                if self.conf.busy_policy == "ignore" or waiting >= self.conf.queue_max:
                    self.ignored += 1
                    log.info(tr("bỏ qua lần bấm: đang in một phiếu",
                                "press ignored: a ticket is printing"))
                    return None
            self._busy = True
            self._jobs.put(job)
        return job

    # ---- the worker --------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="dispenser-worker",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._jobs.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _work(self) -> None:
        while True:
            self._beat()
            try:
                job = self._jobs.get(timeout=BEAT_S)
            except queue.Empty:
                continue
            if job is None:
                return
            with self._lock:
                self._busy = True
            try:
                if job.kind == "reprint":
                    job.outcome = self.d.reprint()
                else:
                    job.outcome = self.d.press(job.service, job.priority)
            except Exception:  # a bug in one press must not stop the dispenser
                log.exception(tr("lần bấm bị lỗi", "press failed"))
            finally:
                with self._lock:
                    self._busy = not self._jobs.empty()
                job.done.set()
