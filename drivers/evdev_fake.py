"""A fake evdev input device that goes through evdev's REAL reading code.

There is no ``/dev/uinput`` on the build machines, so :class:`FakeInputDevice`
subclasses ``evdev.eventio.EventIO`` with ``fd`` = the read end of a pipe.
Writing ``struct input_event`` records (``struct.pack("llHHi", sec, usec, type,
code, value)``) into the write end makes ``EventIO.read()`` (evdev's C reader)
return real :class:`evdev.InputEvent` objects, exactly as from a USB device.

:class:`FakeUsbPort` stands for the socket the device is plugged into (the
``/dev/input/by-id/...`` path): its :meth:`FakeUsbPort.open` is an *opener* for
:class:`drivers.evdev_input.EvdevInput`; :meth:`FakeUsbPort.unplug` makes the open
device fail with ``ENODEV`` like the kernel does, and :meth:`FakeUsbPort.plug`
brings a fresh device back. Each ``open()`` is a separate open file (its own pipe);
what the port types goes to the file that grabbed the device, or to every open file
when none did, as the kernel does.

Example::

    port = FakeUsbPort(name="Fake keypad", vendor=0x05AC, product=0x0220)
    reader = EvdevInput(port.open, on_event=handle)
    reader.start(); reader.wait_present(2)
    port.tap(ecodes.KEY_KP1)          # down, SYN, up, SYN
    port.type_text("ABC-123\\n")      # a barcode scanner typing
    port.unplug(); port.plug()
"""

from __future__ import annotations

import errno
import os
import struct
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from evdev import ecodes
from evdev.device import DeviceInfo
from evdev.eventio import EventIO

if TYPE_CHECKING:
    from evdev import InputEvent

EVENT_FORMAT = "llHHi"  # struct input_event on 64-bit Linux: timeval, type, code, value

# US keyboard layout, as a USB barcode scanner or keypad types: char -> (key, shift)
_CHARS: dict[str, tuple[int, bool]] = {}
for _c in "1234567890":
    _CHARS[_c] = (getattr(ecodes, f"KEY_{_c}"), False)
for _c in "abcdefghijklmnopqrstuvwxyz":
    _CHARS[_c] = (getattr(ecodes, f"KEY_{_c.upper()}"), False)
    _CHARS[_c.upper()] = (getattr(ecodes, f"KEY_{_c.upper()}"), True)
_CHARS.update({
    "\n": (ecodes.KEY_ENTER, False), " ": (ecodes.KEY_SPACE, False),
    "-": (ecodes.KEY_MINUS, False), "_": (ecodes.KEY_MINUS, True),
    "=": (ecodes.KEY_EQUAL, False), "+": (ecodes.KEY_EQUAL, True),
    "/": (ecodes.KEY_SLASH, False), "?": (ecodes.KEY_SLASH, True),
    ".": (ecodes.KEY_DOT, False), ">": (ecodes.KEY_DOT, True),
    ",": (ecodes.KEY_COMMA, False), "<": (ecodes.KEY_COMMA, True),
    ":": (ecodes.KEY_SEMICOLON, True), ";": (ecodes.KEY_SEMICOLON, False),
    "&": (ecodes.KEY_7, True), "%": (ecodes.KEY_5, True), "#": (ecodes.KEY_3, True),
    "!": (ecodes.KEY_1, True), "@": (ecodes.KEY_2, True), "*": (ecodes.KEY_8, True),
})


class _Typing:
    """Key helpers on top of one ``inject(type, code, value)``."""

    def inject(self, etype: int, code: int, value: int) -> None:
        raise NotImplementedError

    def syn(self) -> None:
        self.inject(ecodes.EV_SYN, ecodes.SYN_REPORT, 0)

    def key(self, code: int, value: int) -> None:
        """One key event (1 = down, 0 = up, 2 = auto-repeat) followed by SYN_REPORT."""
        self.inject(ecodes.EV_KEY, code, value)
        self.syn()

    def tap(self, code: int) -> None:
        """Press and release a key."""
        self.key(code, 1)
        self.key(code, 0)

    def hold(self, code: int, repeats: int) -> None:
        """Press, let the keyboard auto-repeat ``repeats`` times, release."""
        self.key(code, 1)
        for _ in range(repeats):
            self.key(code, 2)
        self.key(code, 0)

    def tap_many(self, codes: Iterable[int]) -> None:
        for code in codes:
            self.tap(code)

    def type_text(self, text: str) -> None:
        """Type ASCII text the way a USB keyboard/scanner does (Shift held for capitals)."""
        for ch in text:
            try:
                code, shift = _CHARS[ch]
            except KeyError:
                raise ValueError(f"the fake keyboard has no key for {ch!r}") from None
            if shift:
                self.key(ecodes.KEY_LEFTSHIFT, 1)
            self.tap(code)
            if shift:
                self.key(ecodes.KEY_LEFTSHIFT, 0)


def _record(etype: int, code: int, value: int) -> bytes:
    now = time.time()
    sec = int(now)
    return struct.pack(EVENT_FORMAT, sec, int((now - sec) * 1_000_000), etype, code, value)


class FakeInputDevice(EventIO, _Typing):
    """One open file of a fake input device; the kernel side is a pipe we write into.

    Looks like ``evdev.InputDevice`` where the reader cares: ``fd``, ``read()``
    (inherited: evdev's C reader), ``grab()``, ``ungrab()``, ``close()``, ``name``,
    ``path``, ``info``, ``capabilities()``. After unplugging, reading raises
    ``OSError(ENODEV)`` as a USB device pulled out does. Used alone (no port) its
    ``inject``/``tap``/... write straight into it.
    """

    def __init__(self, *, name: str = "Fake keypad", path: str = "/dev/input/event-fake",
                 vendor: int = 0x1209, product: int = 0x0001,
                 port: FakeUsbPort | None = None) -> None:
        read_end, self._write_fd = os.pipe()
        os.set_blocking(read_end, False)  # InputDevice opens O_NONBLOCK too
        self.fd = read_end
        self.name = name
        self.path = path
        self.info = DeviceInfo(bustype=ecodes.BUS_USB, vendor=vendor, product=product,
                               version=0x0111)
        self.closed = False
        self.unplugged = False
        self._hung_up = False
        self._grabbed = False
        self._port = port
        self._lock = threading.Lock()

    # ---- the reader's side (what InputDevice offers) ----------------------------------
    def read(self) -> Iterator[InputEvent]:
        if self.unplugged:
            raise OSError(errno.ENODEV, "No such device")
        return super().read()

    @property
    def grabbed(self) -> bool:
        return self._grabbed

    def grab(self) -> None:
        if self.unplugged:
            raise OSError(errno.ENODEV, "No such device")
        if self._port is not None:
            self._port._take_grab(self)
        elif self._grabbed:
            raise OSError(errno.EBUSY, "Device or resource busy")
        self._grabbed = True

    def ungrab(self) -> None:
        if self.unplugged:
            raise OSError(errno.ENODEV, "No such device")
        self._release_grab()

    def _release_grab(self) -> None:
        if self._grabbed and self._port is not None:
            self._port._drop_grab(self)
        self._grabbed = False

    def capabilities(self) -> dict[int, list[int]]:
        return {ecodes.EV_SYN: [0], ecodes.EV_KEY: sorted(set(ecodes.keys) & set(range(256)))}

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            os.close(self.fd)
            if not (self.unplugged or self._hung_up):
                os.close(self._write_fd)
        self._release_grab()  # the kernel drops a grab when its file is closed
        if self._port is not None:
            self._port._forget(self)

    # ---- the hardware's side ----------------------------------------------------------
    def inject(self, etype: int, code: int, value: int) -> None:
        """Write one raw ``input_event`` into this file (any type: EV_KEY, EV_ABS...)."""
        self._write(_record(etype, code, value))

    def _write(self, record: bytes) -> None:
        with self._lock:
            if self.unplugged:
                raise OSError(errno.ENODEV, "No such device")
            if not (self.closed or self._hung_up):
                os.write(self._write_fd, record)

    def hang_up(self) -> None:
        """Close the kernel side without ENODEV: reads then return nothing (end of file)."""
        with self._lock:
            if not (self._hung_up or self.unplugged or self.closed):
                self._hung_up = True
                os.close(self._write_fd)

    def unplug(self) -> None:
        """Pull the device out: reads raise ENODEV; the closed pipe wakes a waiting select."""
        with self._lock:
            if self.unplugged:
                return
            self.unplugged = True
            if not (self.closed or self._hung_up):
                os.close(self._write_fd)

    def __repr__(self) -> str:
        return f"FakeInputDevice({self.name!r}, fd={self.fd})"


class FakeUsbPort(_Typing):
    """The socket a fake device is plugged into; :meth:`open` is an ``EvdevInput`` opener.

    ``open()`` returns a new open file of the plugged device, or ``None`` when nothing
    is plugged in. ``inject``/``tap``/``hold``/``type_text`` are the device's keys
    being pressed: events go to the grabbing file, or to every open file. ``device``
    is the most recently opened file (for asserts); ``opens`` counts opens.
    """

    def __init__(self, *, name: str = "Fake keypad", vendor: int = 0x1209,
                 product: int = 0x0001, plugged: bool = True) -> None:
        self.name = name
        self.vendor = vendor
        self.product = product
        self.path = f"/dev/input/by-id/usb-fake-{name.replace(' ', '_')}-event-kbd"
        self.plugged = plugged
        self.device: FakeInputDevice | None = None
        self.opens = 0
        self._files: list[FakeInputDevice] = []
        self._grabber: FakeInputDevice | None = None
        self._lock = threading.Lock()

    def plug(self) -> None:
        with self._lock:
            self.plugged = True

    def unplug(self) -> None:
        with self._lock:
            self.plugged = False
            files, self._files, self._grabber = self._files, [], None
        for f in files:
            f.unplug()

    def open(self) -> FakeInputDevice | None:
        with self._lock:
            if not self.plugged:
                return None
            dev = FakeInputDevice(name=self.name, vendor=self.vendor, product=self.product,
                                  path=self.path, port=self)
            self._files.append(dev)
            self.device = dev
            self.opens += 1
            return dev

    @property
    def open_files(self) -> int:
        with self._lock:
            return len(self._files)

    def inject(self, etype: int, code: int, value: int) -> None:
        record = _record(etype, code, value)
        with self._lock:
            if not self.plugged:
                raise OSError(errno.ENODEV, "the fake device is unplugged")
            targets = [self._grabber] if self._grabber is not None else list(self._files)
        for f in targets:
            f._write(record)

    def _take_grab(self, dev: FakeInputDevice) -> None:
        with self._lock:
            if self._grabber is not None and self._grabber is not dev:
                raise OSError(errno.EBUSY, "Device or resource busy")
            self._grabber = dev

    def _drop_grab(self, dev: FakeInputDevice) -> None:
        with self._lock:
            if self._grabber is dev:
                self._grabber = None

    def _forget(self, dev: FakeInputDevice) -> None:
        with self._lock:
            if dev in self._files:
                self._files.remove(dev)
