"""A USB input device (keypad, barcode scanner, touch screen) read with python-evdev.

One :class:`EvdevInput` owns one device. It opens the device through an *opener*
(a callable that returns an open device, or ``None`` when it is not plugged in),
grabs it so its events reach nothing else, reads on its own thread and hands every
:class:`evdev.InputEvent` to a callback. When the device is unplugged (the kernel
answers ``ENODEV``) it closes the dead device — keeping the fd open makes ``select``
return at once forever and spins the CPU — and polls for its return every
``poll_interval_s`` seconds, sleeping in between.

The opener is chosen at the edge (gpiozero style):

* :class:`EvdevOpener` finds a real device by its ``/dev/input/by-id/...`` path or
  by USB vendor/product id and opens it with ``evdev.InputDevice``;
* ``drivers.evdev_fake.FakeUsbPort.open`` hands out a fake device whose events go
  through evdev's real reading code over a pipe (tests, demo).

Code above ``drivers/`` sees only :class:`EvdevInput` and the events.

Example::

    keypad = EvdevInput(EvdevOpener(by_id="/dev/input/by-id/usb-Keypad-event-kbd"),
                        on_event=handle, ignore_repeat=True, on_presence=report)
    keypad.start()
    ...
    keypad.stop()
"""

from __future__ import annotations

import errno
import logging
import os
import select
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from appliance.errors import DeviceError
from appliance.i18n import tr

if TYPE_CHECKING:
    from evdev import InputEvent

log = logging.getLogger(__name__)

EV_KEY = 0x01  # linux/input-event-codes.h; kept here so importing this module stays light
KEY_REPEAT = 2  # EV_KEY value of an auto-repeat (0 = up, 1 = down)


class InputSource(Protocol):
    """What the reader needs from an open device (``evdev.InputDevice`` fits)."""

    fd: int

    def read(self) -> Iterator[InputEvent]: ...

    def grab(self) -> None: ...

    def ungrab(self) -> None: ...

    def close(self) -> None: ...


Opener = Callable[[], "InputSource | None"]


class EvdevOpener:
    """Find and open a real evdev device.

    ``by_id`` is a stable path such as ``/dev/input/by-id/usb-0c45_Keypad-event-kbd``
    (a symlink udev makes; it survives re-plugging into another port). Otherwise
    ``vendor``/``product`` (USB ids, ints) pick the first ``/dev/input/event*`` device
    that matches and has keys. Returns ``None`` when no such device is plugged in;
    raises :class:`DeviceError` when one is there but cannot be opened (permissions).
    """

    def __init__(
        self,
        *,
        by_id: str | None = None,
        vendor: int | None = None,
        product: int | None = None,
        input_dir: str = "/dev/input",
    ) -> None:
        if by_id is None and vendor is None:
            raise ValueError(tr("cần by_id hoặc vendor (và product) để tìm thiết bị",
                                "give by_id or vendor (and product) to find the device"))
        self.by_id = by_id
        self.vendor = vendor
        self.product = product
        self.input_dir = input_dir

    def describe(self) -> str:
        if self.by_id:
            return self.by_id
        product = f"{self.product:04x}" if self.product is not None else "*"
        return f"usb {self.vendor or 0:04x}:{product}"

    def __call__(self) -> InputSource | None:
        import evdev  # lazy: a C extension, only the roles with input devices need it

        try:
            if self.by_id:
                if not os.path.exists(self.by_id):
                    return None
                return evdev.InputDevice(self.by_id)
            return self._by_usb_id(evdev)
        except PermissionError as exc:
            raise DeviceError(tr(
                f"{self.describe()}: không có quyền mở {exc.filename} "
                "(thêm người dùng của dịch vụ vào nhóm 'input')",
                f"{self.describe()}: no permission to open {exc.filename} "
                "(add the service user to the 'input' group)"
            )) from exc
        except FileNotFoundError:
            return None  # unplugged between listing and opening

    def _by_usb_id(self, evdev: Any) -> InputSource | None:
        paths = sorted(str(p) for p in Path(self.input_dir).glob("event*"))
        for path in paths:
            dev = evdev.InputDevice(path)
            info = dev.info
            matches = info.vendor == self.vendor and (
                self.product is None or info.product == self.product
            )
            if matches and EV_KEY in dev.capabilities():
                return dev
            dev.close()
        return None


class EvdevInput:
    """Reads one input device on its own thread; survives unplug/replug.

    ``on_event(event)`` runs on the reader thread for every event (``EV_SYN``
    included) unless filtered by ``event_types``; with ``ignore_repeat`` the
    ``EV_KEY`` auto-repeat events (value 2) are dropped. ``on_presence(bool)`` is
    called when the device appears or disappears, and once with False when it is not
    there at start (so "not looked yet" never lasts); it runs on the reader thread.
    ``grab`` takes the device for this process only (``EVIOCGRAB``); a device
    another program holds is reported and retried, never read half-shared.
    """

    def __init__(
        self,
        opener: Opener,
        on_event: Callable[[InputEvent], None],
        *,
        name: str = "input",
        grab: bool = True,
        ignore_repeat: bool = True,
        event_types: Collection[int] | None = None,
        on_presence: Callable[[bool], None] | None = None,
        poll_interval_s: float = 1.0,
    ) -> None:
        self.name = name
        self._opener = opener
        self._on_event = on_event
        self._grab = grab
        self._ignore_repeat = ignore_repeat
        self._types = frozenset(event_types) if event_types is not None else None
        self._on_presence = on_presence
        self._poll = poll_interval_s
        self._stop = threading.Event()
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None
        self._device: InputSource | None = None
        self._present = threading.Event()
        self._reported: bool | None = None
        self._last_problem: str | None = None
        self.opens = 0  # how many times the device was (re)opened: for status and tests

    # ---- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} already started")
        self._stop.clear()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name=f"evdev-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading, release the grab and close the device."""
        if self._thread is None:
            return
        self._stop.set()
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass  # the wake pipe is already closed: the thread is on its way out
        self._thread.join(timeout)
        self._thread = None
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass  # already closed
        self._wake_r = self._wake_w = -1

    @property
    def present(self) -> bool:
        """True while the device is open and grabbed."""
        return self._present.is_set()

    @property
    def problem(self) -> str | None:
        """The last reason the device could not be used (None once it works)."""
        return self._last_problem

    def wait_present(self, timeout: float) -> bool:
        return self._present.wait(timeout)

    # ---- reader thread ---------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            device = self._try_open()
            if device is None:
                # Absent or unusable: sleep, do not spin (wakes early on stop()).
                self._stop.wait(self._poll)
                continue
            try:
                self._read_until_gone(device)
            finally:
                self._release(device)

    def _try_open(self) -> InputSource | None:
        try:
            device = self._opener()
        except DeviceError as exc:
            self._problem(str(exc))
            return None
        if device is None:
            self._problem(f"{self.name}: not plugged in")
            return None
        if self._grab:
            try:
                device.grab()
            except OSError as exc:
                self._close_quietly(device)
                if exc.errno == errno.EBUSY:
                    self._problem(f"{self.name}: another program holds the device")
                else:
                    self._problem(f"{self.name}: cannot grab the device ({exc})")
                return None
        self._device = device
        self.opens += 1
        self._last_problem = None
        self._present.set()
        log.info(tr("%s: đã mở thiết bị", "%s: device open"), self.name)
        self._report(True)
        return device

    def _read_until_gone(self, device: InputSource) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([device.fd, self._wake_r], [], [])
            except (OSError, ValueError) as exc:
                self._problem(f"{self.name}: lost ({exc})")
                return
            if self._wake_r in ready:
                return
            try:
                events = list(device.read())
            except BlockingIOError:
                continue  # woke without a full event: go back to waiting
            except OSError as exc:
                if exc.errno in (errno.ENODEV, errno.EIO, errno.EBADF):
                    self._problem(f"{self.name}: unplugged")
                    return
                raise
            if not events:
                # readable but nothing to read = end of file: the device is gone and
                # select would report it readable forever
                self._problem(f"{self.name}: unplugged")
                return
            self._deliver(events)

    def _deliver(self, events: Iterable[InputEvent]) -> None:
        for event in events:
            if self._types is not None and event.type not in self._types:
                continue
            if self._ignore_repeat and event.type == EV_KEY and event.value == KEY_REPEAT:
                continue
            try:
                self._on_event(event)
            except Exception:  # a bad handler must not kill the reader thread
                log.exception(tr("%s: lỗi khi xử lý phím", "%s: event handler failed"), self.name)

    def _release(self, device: InputSource) -> None:
        self._device = None
        if self._grab:
            try:
                device.ungrab()
            except OSError:
                pass  # an unplugged device cannot be ungrabbed; closing frees it anyway
        self._close_quietly(device)
        # cleared only once closed: whoever sees "not present" may count on a freed device
        self._present.clear()
        self._report(False)

    def _report(self, present: bool) -> None:
        if present != self._reported:
            self._reported = present
            if self._on_presence is not None:
                self._on_presence(present)

    @staticmethod
    def _close_quietly(device: InputSource) -> None:
        try:
            device.close()
        except OSError:
            pass  # already gone

    def _problem(self, text: str) -> None:
        if not self._present.is_set():
            self._report(False)
        if text != self._last_problem:
            log.warning("%s", text)
        self._last_problem = text
