"""systemd's watchdog and readiness protocol, fed by the loop that does a role's real work.

A role's work loop (the hub's worker, the board's frame loop, the dispenser's press worker,
...) calls :meth:`Heartbeat.beat` on every turn. The first beat tells systemd ``READY=1``
(``Type=notify``); later beats send ``WATCHDOG=1`` often enough for ``WatchdogSec=``. A loop
that is stuck stops beating, so systemd kills and restarts the role — and the unit's status,
which :meth:`Heartbeat.gate` rewrites before every publish, stops saying ``ready`` as soon as
the loop has been quiet for half the watchdog time. A role that systemd restarted after a
failure says ``alert`` with the reason it last died (recorded by ``motcua record-exit``, the
units' ``ExecStopPost=``, see appliance.exits) until it has stayed up for a while.

The protocol is a datagram to the Unix socket named by ``$NOTIFY_SOCKET`` (sd_notify(3));
it is a dozen lines, so it is written here rather than taken from ``sdnotify`` (unmaintained)
or ``systemd-python`` (a C extension that needs libsystemd headers to build on the card).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.exits import last_failure
from appliance.i18n import tr

if TYPE_CHECKING:
    from appliance.bus import Bus

log = logging.getLogger(__name__)

DEFAULT_STALE_S = 30.0  # with no WatchdogSec=, a loop quiet this long is called stuck
SETTLE_S = 120.0  # after a failed exit, alert until the role has been up this long


class Notifier:
    """Sends sd_notify messages; does nothing when not started by systemd."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self._sock: socket.socket | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET") or None)

    def send(self, **fields: str | int) -> bool:
        if not self.address:
            return False
        text = "\n".join(f"{k.upper()}={v}" for k, v in fields.items())
        # a leading "@" names a socket in Linux's abstract namespace
        addr = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(text.encode(), addr)
        except OSError as exc:  # systemd gone (shutdown): the role keeps working
            log.debug("sd_notify to %s failed: %s", self.address, exc)
            return False
        return True


def watchdog_seconds(environ: Mapping[str, str] | None = None) -> float | None:
    """``WatchdogSec=`` as systemd passes it (``WATCHDOG_USEC``, for our own pid only)."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    pid = env.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1_000_000 or None
    except ValueError:
        return None


class Heartbeat:
    """Liveness of one work loop, told to systemd and to the unit's status."""

    def __init__(self, loop: str, *, notifier: Notifier | None = None,
                 watchdog_s: float | None = None, data_dir: Path | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time,
                 freeze_file: str | None = None) -> None:
        self.loop = loop
        self.notifier = notifier or Notifier(None)
        # The status says "stuck" after half the watchdog time, before systemd kills the
        # role (a killed role cannot say why); pings go at a quarter of it, so one slow turn
        # of the loop does not cost a restart.
        self.stale_after_s = watchdog_s / 2 if watchdog_s else DEFAULT_STALE_S
        self._ping_every = (watchdog_s or DEFAULT_STALE_S) / 4
        self._clock = clock
        self._started = clock()
        self._last_beat: float | None = None
        self._last_ping = -1e18
        self._freeze_file = freeze_file
        self.last_failure = last_failure(data_dir, wall()) if data_dir else None
        self._listeners: list[Callable[[], None]] = []
        self._monitor: threading.Thread | None = None
        self._stop = threading.Event()

    @classmethod
    def from_env(cls, loop: str, data_dir: Path | None,
                 environ: Mapping[str, str] | None = None) -> Heartbeat:
        env = os.environ if environ is None else environ
        return cls(loop, notifier=Notifier.from_env(env), watchdog_s=watchdog_seconds(env),
                   data_dir=data_dir, freeze_file=env.get("MOTCUA_DEBUG_FREEZE_FILE"))

    def beat(self) -> None:
        """Called by the work loop on every turn; cheap enough for a frame loop."""
        if self._freeze_file is not None:
            self._debug_freeze()
        now = self._clock()
        first = self._last_beat is None
        was_alive = self.alive()
        self._last_beat = now
        if first:
            self.notifier.send(ready=1, status=f"{self.loop} running")
            self._last_ping = now
            if self._monitor is None:
                self.start_monitor()
        elif now - self._last_ping >= self._ping_every:
            self.notifier.send(watchdog=1)
            self._last_ping = now
        if first or not was_alive:
            self._changed()

    def alive(self) -> bool:
        return (self._last_beat is not None
                and self._clock() - self._last_beat <= self.stale_after_s)

    def gate(self, status: dict[str, Any]) -> dict[str, Any]:
        """The status to publish: never ``ready`` unless the loop is alive and settled."""
        if status.get("state") != "ready":
            return status
        if not self.alive():
            if self._last_beat is None:
                reason = tr(f"{self.loop} chưa chạy", f"{self.loop} not started")
            else:
                stuck = f"{self._clock() - self._last_beat:.0f}"
                reason = tr(f"{self.loop} bị treo {stuck} s", f"{self.loop} stuck for {stuck} s")
            return {**status, "state": "alert", "reasons": [reason]}
        if self.last_failure and self._clock() - self._started < SETTLE_S:
            return {**status, "state": "alert",
                    "reasons": [f"restarted after: {self.last_failure}"]}
        return status

    def on_change(self, listener: Callable[[], None]) -> None:
        """``listener`` runs when the loop starts, stops beating, or beats again."""
        self._listeners.append(listener)

    def start_monitor(self) -> None:
        """A thread that notices a loop going quiet (a stuck loop cannot tell anyone)."""
        self._monitor = threading.Thread(target=self._watch, name=f"watch-{self.loop}",
                                         daemon=True)
        self._monitor.start()

    def stop(self) -> None:
        self.notifier.send(stopping=1)
        self._stop.set()
        if self._monitor is not None:
            self._monitor.join(timeout=2)

    def _watch(self) -> None:
        was = self.alive()
        settled = self.last_failure is None
        while not self._stop.wait(min(1.0, self.stale_after_s / 6)):
            now_alive = self.alive()
            now_settled = self._clock() - self._started >= SETTLE_S
            if now_alive != was or (now_settled and not settled):
                self._changed()
            was, settled = now_alive, settled or now_settled

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def _debug_freeze(self) -> None:
        # Test hook (MOTCUA_DEBUG_FREEZE_FILE): the loop blocks here while the file exists,
        # as a loop stuck on a dead device or a deadlock would.
        assert self._freeze_file is not None
        while os.path.exists(self._freeze_file):
            time.sleep(0.05)


def watch(bus: Bus, loop: str, data_dir: Path | None,
          environ: Mapping[str, str] | None = None) -> Heartbeat:
    """The heartbeat of ``loop``, gating what ``bus`` publishes as the unit's status."""
    heartbeat = Heartbeat.from_env(loop, data_dir, environ)
    bus.gate_status(heartbeat.gate)
    heartbeat.on_change(bus.refresh_status)
    return heartbeat
