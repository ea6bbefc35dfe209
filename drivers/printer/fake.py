"""A printer that lives in memory: for tests and the demo, told to run out of paper or be unplugged.

It speaks the same protocol as a real one: it answers DLE EOT 4 with a paper sensor byte
built from its own state, and says nothing when ``mute`` (a printer that does not answer),
so the code above cannot tell it from hardware, and it never claims "fine" without asking.
``FakeLink`` plugs it in as a connector; ``PtyPrinter`` serves it on a pseudo-terminal so the
real pyserial path is used.
"""

from __future__ import annotations

import os
import threading
import time
import tty
from collections.abc import Callable
from typing import Literal

from drivers.printer.connectors import PrinterUnreachable, WriteFailed
from drivers.printer.decode import Command, EscposStream

Paper = Literal["ok", "low", "out"]

# DLE EOT 4 answer: fixed bits 0x12, near-end 0x0C, paper end 0x60 (Epson's layout).
PAPER_BYTES: dict[str, int] = {"ok": 0x12, "low": 0x1E, "out": 0x72}
ONLINE_BYTE = 0x16  # DLE EOT 1: fixed bits, online


class FakePrinter:
    def __init__(self, paper: Paper = "ok") -> None:
        self.paper: Paper = paper
        self.plugged = True
        self.mute = False
        self.job_seconds = 0.0  # how long a raster job takes to go through (a slow link)
        self.received = bytearray()
        self.commands: list[Command] = []
        self.printed: list[Command] = []  # raster blocks that reached paper
        self.cuts = 0
        self.first_byte_at: float | None = None
        self.on_data: Callable[[bytes, float], None] | None = None
        self._stream = EscposStream()
        self._lock = threading.Lock()

    def feed(self, data: bytes) -> bytes:
        """Take bytes from the host; return what the printer sends back."""
        now = time.perf_counter()
        replies = bytearray()
        with self._lock:
            if self.first_byte_at is None:
                self.first_byte_at = now
            self.received += data
            for cmd in self._stream.feed(data):
                self.commands.append(cmd)
                if cmd.kind == "status" and not self.mute:
                    if cmd.args[0] == 4:
                        replies.append(PAPER_BYTES[self.paper])
                    elif cmd.args[0] == 1:
                        replies.append(ONLINE_BYTE)
                elif cmd.kind == "raster" and self.paper != "out":
                    self.printed.append(cmd)
                elif cmd.kind == "cut" and self.paper != "out":
                    self.cuts += 1
        if self.on_data is not None:
            self.on_data(data, now)
        return bytes(replies)

    def reset_log(self) -> None:
        with self._lock:
            self.received.clear()
            self.commands.clear()
            self.printed.clear()
            self.cuts = 0
            self.first_byte_at = None


class FakeLink:
    """A connector to a FakePrinter (the ``dummy`` connector type, and tests)."""

    can_read = True

    def __init__(self, printer: FakePrinter, name: str = "dummy") -> None:
        self.printer = printer
        self.name = name
        self._open = False
        self._inbox = bytearray()

    def open(self) -> None:
        if not self.printer.plugged:
            raise PrinterUnreachable(f"{self.name}: no printer on the line")
        self._open = True
        self._inbox.clear()

    def write(self, data: bytes) -> None:
        self._check()
        if self.printer.job_seconds and len(data) > 64:
            time.sleep(self.printer.job_seconds)
        self._inbox += self.printer.feed(data)

    def read(self, size: int, timeout: float) -> bytes:
        self._check()
        if not self._inbox:
            time.sleep(timeout)  # a silent printer costs the caller its whole timeout
            return b""
        out = bytes(self._inbox[:size])
        del self._inbox[:size]
        return out

    def discard_input(self) -> None:
        self._check()
        self._inbox.clear()

    def close(self) -> None:
        self._open = False

    def _check(self) -> None:
        if not self._open:
            raise PrinterUnreachable(f"{self.name} is not open")
        if not self.printer.plugged:
            self._open = False
            raise WriteFailed(f"{self.name}: printer unplugged")


class PtyPrinter:
    """Serve a FakePrinter on a pseudo-terminal: give ``device`` to a serial connector."""

    def __init__(self, printer: FakePrinter | None = None) -> None:
        self.printer = printer or FakePrinter()
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.device = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="pty-printer", daemon=True)

    def start(self) -> PtyPrinter:
        self._thread.start()
        return self

    def _serve(self) -> None:
        import select

        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            reply = self.printer.feed(data)
            if reply:
                os.write(self._master, reply)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
