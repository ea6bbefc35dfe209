"""Receipt scanners: a USB HID barcode/QR scanner read with evdev, or a serial scanner.

A USB scanner is a keyboard: it types the code and presses Enter. :class:`HidScanner`
grabs it (a scan never types into anything else), turns key codes into text with the
keyboard layout and Shift/Caps Lock tracked here, and ends a code at Enter.
:class:`ScanDecoder` drops a partial scan whose keys stopped coming for more than
``stale_after_s`` (a scan half read when the cable was pulled, a child pressing a key).
What comes out is untrusted text: the caller must parse it (``parse_scan``) and reject
anything else; an unknown key becomes U+FFFD so such a scan can never parse.

:class:`SerialScanner` reads a scanner in serial (CDC/RS-232) mode with pyserial: lines
end with CR or LF; unplugging is recovered by re-opening once a second, never spinning.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from appliance.i18n import tr

if TYPE_CHECKING:
    from evdev import InputEvent

    from drivers.evdev_input import EvdevInput, Opener

log = logging.getLogger(__name__)

EV_KEY = 0x01
KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_CAPSLOCK = 42, 54, 58
KEY_ENTER, KEY_KPENTER = 28, 96
MAX_SCAN = 201  # one more than parse_scan accepts: longer input is rejected, not cut
BAD = "\ufffd"

# linux/input-event-codes.h → (plain, shifted) on a US layout (what scanners default to)
_ROWS = {
    2: "1!", 3: "2@", 4: "3#", 5: "4$", 6: "5%", 7: "6^", 8: "7&", 9: "8*", 10: "9(",
    11: "0)", 12: "-_", 13: "=+", 26: "[{", 27: "]}", 39: ";:", 40: "'\"", 41: "`~",
    43: "\\|", 51: ",<", 52: ".>", 53: "/?", 57: "  ",
    71: "77", 72: "88", 73: "99", 74: "--", 75: "44", 76: "55", 77: "66", 78: "++",
    79: "11", 80: "22", 81: "33", 82: "00", 83: "..", 98: "//", 55: "**",
}
_LETTERS = {16: "q", 17: "w", 18: "e", 19: "r", 20: "t", 21: "y", 22: "u", 23: "i", 24: "o",
            25: "p", 30: "a", 31: "s", 32: "d", 33: "f", 34: "g", 35: "h", 36: "j", 37: "k",
            38: "l", 44: "z", 45: "x", 46: "c", 47: "v", 48: "b", 49: "n", 50: "m"}
LAYOUTS: dict[str, tuple[dict[int, str], dict[int, str]]] = {"us": (_ROWS, _LETTERS)}


class ScanDecoder:
    """Key events → finished scans (pure: time comes in with each event)."""

    def __init__(self, *, layout: str = "us", stale_after_s: float = 2.0) -> None:
        self._rows, self._letters = LAYOUTS[layout]
        self._stale = stale_after_s
        self._buf: list[str] = []
        self._last = 0.0
        self._shift: set[int] = set()
        self._caps = False
        self.dropped = 0  # partial scans thrown away (for status and tests)

    def feed(self, code: int, value: int, t: float) -> str | None:
        """One EV_KEY event (value 1 down, 0 up); returns the scan text when Enter ends it."""
        if code in (KEY_LEFTSHIFT, KEY_RIGHTSHIFT):
            (self._shift.add if value else self._shift.discard)(code)
            return None
        if value != 1:
            return None  # key up (repeats are filtered by the reader)
        if self._buf and t - self._last > self._stale:
            self._buf.clear()  # the rest of a scan that never ended: not a code
            self.dropped += 1
        self._last = t
        if code == KEY_CAPSLOCK:
            self._caps = not self._caps
            return None
        if code in (KEY_ENTER, KEY_KPENTER):
            text, self._buf = "".join(self._buf), []
            return text or None
        if len(self._buf) >= MAX_SCAN:
            return None
        shifted = bool(self._shift)
        if code in self._letters:
            ch = self._letters[code]
            self._buf.append(ch.upper() if shifted != self._caps else ch)
        elif code in self._rows:
            self._buf.append(self._rows[code][1 if shifted else 0])
        else:
            self._buf.append(BAD)
        return None

    def reset(self) -> None:
        """Forget a half-read scan and the modifier keys (the device went away)."""
        if self._buf:
            self.dropped += 1
        self._buf.clear()
        self._shift.clear()
        self._caps = False


class HidScanner:
    """A USB HID scanner read with evdev, grabbed; calls ``on_scan(text)`` per code."""

    def __init__(self, opener: Opener, on_scan: Callable[[str], None], *,
                 layout: str = "us", stale_after_s: float = 2.0,
                 on_presence: Callable[[bool], None] | None = None,
                 poll_interval_s: float = 1.0) -> None:
        from drivers.evdev_input import EvdevInput

        self.decoder = ScanDecoder(layout=layout, stale_after_s=stale_after_s)
        self._on_scan = on_scan
        self._user_presence = on_presence
        self.reader: EvdevInput = EvdevInput(
            opener, self._on_event, name="scanner", grab=True, ignore_repeat=True,
            event_types=(EV_KEY,), on_presence=self._presence, poll_interval_s=poll_interval_s,
        )

    def _presence(self, present: bool) -> None:
        if not present:
            self.decoder.reset()
        if self._user_presence is not None:
            self._user_presence(present)

    def _on_event(self, event: InputEvent) -> None:
        text = self.decoder.feed(event.code, event.value, event.timestamp())
        if text is not None:
            self._on_scan(text)

    def start(self) -> None:
        self.reader.start()

    def stop(self) -> None:
        self.reader.stop()

    @property
    def present(self) -> bool:
        return self.reader.present


class SerialScanner:
    """A scanner in serial mode (pyserial URL or port): one line per code."""

    def __init__(self, port: str, on_scan: Callable[[str], None], *, baudrate: int = 9600,
                 stale_after_s: float = 2.0,
                 on_presence: Callable[[bool], None] | None = None,
                 retry_s: float = 1.0) -> None:
        self._port = port
        self._baud = baudrate
        self._on_scan = on_scan
        self._on_presence = on_presence
        self._stale = stale_after_s
        self._retry = retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._present = threading.Event()
        self.dropped = 0

    @property
    def present(self) -> bool:
        return self._present.is_set()

    def wait_present(self, timeout: float) -> bool:
        return self._present.wait(timeout)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scanner-serial", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3.0)

    def _open(self) -> Any:
        import serial

        try:
            return serial.serial_for_url(self._port, baudrate=self._baud, timeout=0.2)
        except (serial.SerialException, OSError) as exc:
            log.warning(tr("máy quét %s: không mở được (%s)",
                           "scanner %s: cannot open (%s)"), self._port, exc)
            return None

    def _run(self) -> None:
        import serial

        while not self._stop.is_set():
            port = self._open()
            if port is None:
                self._stop.wait(self._retry)
                continue
            self._set_present(True)
            try:
                self._read(port)
            except (serial.SerialException, OSError) as exc:
                log.warning(tr("máy quét %s: mất kết nối (%s)",
                               "scanner %s: lost (%s)"), self._port, exc)
            finally:
                self._set_present(False)
                try:
                    port.close()
                except (serial.SerialException, OSError):
                    pass  # already gone
            self._stop.wait(self._retry)

    def _read(self, port: Any) -> None:
        buf = bytearray()
        last = time.monotonic()
        while not self._stop.is_set():
            chunk = port.read(256)
            now = time.monotonic()
            if not chunk:
                continue
            if buf and now - last > self._stale:
                buf.clear()
                self.dropped += 1
            last = now
            for byte in chunk:
                if byte in (0x0D, 0x0A):
                    if buf:
                        text = buf.decode("utf-8", errors="replace")
                        buf.clear()
                        self._on_scan(text)
                elif len(buf) < MAX_SCAN:
                    buf.append(byte)

    def _set_present(self, present: bool) -> None:
        was = self._present.is_set()
        (self._present.set if present else self._present.clear)()
        if was != present and self._on_presence is not None:
            self._on_presence(present)
