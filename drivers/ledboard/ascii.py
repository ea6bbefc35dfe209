"""ASCII frame LED boards: STX (0x02), two ASCII address digits, the text, ETX (0x03).

These boards never answer, so a written frame proves only that the serial port
took it: :attr:`AsciiBoard.answers` is False and the status says so.
"""

from __future__ import annotations

import threading
from typing import Any

from appliance.i18n import tr
from drivers.ledboard.base import BoardError, fit_text

STX = 0x02
ETX = 0x03


def frame(address: int, text: str) -> bytes:
    """One frame; ``text`` must be printable ASCII (the boards have no other glyphs)."""
    if not 0 <= address <= 99:
        raise ValueError(f"ASCII board address {address} is not two digits")
    try:
        body = text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError(f"{text!r} has characters an LED board cannot show") from None
    if any(b < 0x20 or b > 0x7E for b in body):
        raise ValueError(f"{text!r} has control characters")
    return bytes([STX]) + f"{address:02d}".encode() + body + bytes([ETX])


def decode_frames(data: bytes) -> tuple[list[tuple[int, str]], bytes]:
    """Split a byte stream into (address, text) frames; returns the unfinished rest.

    Bytes before an STX are noise and dropped (a board resynchronises the same way).
    """
    frames: list[tuple[int, str]] = []
    while True:
        start = data.find(bytes([STX]))
        if start < 0:
            return frames, b""
        end = data.find(bytes([ETX]), start)
        if end < 0:
            return frames, data[start:]
        raw = data[start + 1:end]
        data = data[end + 1:]
        if len(raw) >= 2 and raw[:2].isdigit():
            frames.append((int(raw[:2]), raw[2:].decode("ascii", "replace")))


class AsciiBoard:
    answers = False
    can_show_text = True

    def __init__(self, port: str, *, baud: int = 9600, address: int = 1, digits: int = 4,
                 timeout_s: float = 0.5) -> None:
        frame(address, "")  # validates the address now, not at the first call
        self.port = port
        self.baud = baud
        self.address = address
        self.digits = digits
        self.timeout_s = timeout_s
        self._serial: Any = None
        self._lock = threading.Lock()

    def show(self, text: str) -> None:
        data = frame(self.address, fit_text(text, self.digits))
        import serial  # lazy: pyserial only where a board is configured

        with self._lock:
            try:
                if self._serial is None:
                    self._serial = serial.serial_for_url(
                        self.port, baudrate=self.baud, timeout=self.timeout_s,
                        write_timeout=self.timeout_s)
                self._serial.write(data)
                self._serial.flush()
            except (serial.SerialException, OSError) as exc:
                self._drop()
                raise BoardError(tr(f"bảng LED trên {self.port}: {exc}",
                                   f"LED board on {self.port}: {exc}")) from exc

    def _drop(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except OSError:
                pass  # a port that vanished cannot be closed cleanly
        self._serial = None

    def close(self) -> None:
        with self._lock:
            self._drop()
