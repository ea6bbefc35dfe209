"""Printer connections: open, write, read, close, with a timeout on every step.

Like python-escpos's printer classes, a connector knows nothing of ESC/POS; unlike them it
never blocks forever (python-escpos' USB defaults to no timeout, its Serial has no write
timeout) and it reports "no answer" as empty bytes instead of guessing. The print path
opens a fresh connection per job, because printers lose their handle on a power cycle.
"""

from __future__ import annotations

import os
import select
import socket
import time
from typing import TYPE_CHECKING, Any, Protocol

from appliance.errors import DeviceError, MissingDependency
from appliance.i18n import tr

if TYPE_CHECKING:
    from appliance.config.dispenser import (
        FileConnector as FileConf,
    )
    from appliance.config.dispenser import (
        NetworkConnector as NetworkConf,
    )
    from appliance.config.dispenser import (
        SerialConnector as SerialConf,
    )
    from appliance.config.dispenser import (
        UsbConnector as UsbConf,
    )


class PrinterUnreachable(DeviceError):
    """The printer cannot be opened: unplugged, powered off, wrong device name."""


class WriteFailed(DeviceError):
    """The printer stopped taking data part way (timeout, cable pulled)."""


class Connector(Protocol):
    """What the print path needs from a link to a printer."""

    name: str
    can_read: bool

    def open(self) -> None: ...

    def write(self, data: bytes) -> None: ...

    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes, or b"" if nothing came within ``timeout``."""
        ...

    def discard_input(self) -> None: ...

    def close(self) -> None: ...


class SerialLink:
    """pyserial; ``device`` may be a path or a pyserial URL (``loop://``, ``rfc2217://``)."""

    can_read = True

    def __init__(self, conf: SerialConf, *, open_timeout: float, write_timeout: float) -> None:
        self.conf = conf
        self.name = f"serial:{conf.device}"
        self._write_timeout = write_timeout
        self._open_timeout = open_timeout
        self._port: Any = None

    def open(self) -> None:
        import serial  # lazy: pyserial is only needed with a serial printer

        c = self.conf
        try:
            port = serial.serial_for_url(
                c.device, do_not_open=True, baudrate=c.baudrate, timeout=self._open_timeout,
                write_timeout=self._write_timeout, rtscts=c.rtscts, dsrdtr=c.dsrdtr,
                xonxoff=c.xonxoff,
            )
            port.open()
        except (serial.SerialException, ValueError, OSError) as exc:
            raise PrinterUnreachable(tr(f"không mở được {self.name}: {exc}",
                                        f"cannot open {self.name}: {exc}")) from None
        self._port = port

    def write(self, data: bytes) -> None:
        import serial

        port = self._require()
        # the wire itself takes 10 bits per byte; the timeout covers that plus a stall margin
        port.write_timeout = self._write_timeout + len(data) * 10 / self.conf.baudrate
        try:
            port.write(data)
            port.flush()
        except (serial.SerialException, OSError) as exc:
            raise WriteFailed(tr(f"{self.name}: ghi lỗi: {exc}",
                                 f"{self.name}: write failed: {exc}")) from None

    def read(self, size: int, timeout: float) -> bytes:
        import serial

        port = self._require()
        port.timeout = timeout
        try:
            return bytes(port.read(size))
        except (serial.SerialException, OSError) as exc:
            raise WriteFailed(tr(f"{self.name}: đọc lỗi: {exc}",
                                 f"{self.name}: read failed: {exc}")) from None

    def discard_input(self) -> None:
        import serial

        try:
            self._require().reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            raise WriteFailed(f"{self.name}: {exc}") from None

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except OSError:
                pass  # an unplugged adapter fails to close; it is gone either way

    def _require(self) -> Any:
        if self._port is None:
            raise PrinterUnreachable(tr(f"{self.name} chưa được mở", f"{self.name} is not open"))
        return self._port


class NetworkLink:
    """A raw TCP printer port (usually 9100)."""

    can_read = True

    def __init__(self, conf: NetworkConf, *, open_timeout: float, write_timeout: float) -> None:
        self.conf = conf
        self.name = f"network:{conf.host}:{conf.port}"
        self._open_timeout = open_timeout
        self._write_timeout = write_timeout
        self._sock: socket.socket | None = None

    def open(self) -> None:
        try:
            sock = socket.create_connection(
                (self.conf.host, self.conf.port), timeout=self._open_timeout
            )
        except OSError as exc:
            raise PrinterUnreachable(tr(f"không kết nối được {self.name}: {exc}",
                                        f"cannot connect to {self.name}: {exc}")) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    def write(self, data: bytes) -> None:
        sock = self._require()
        sock.settimeout(self._write_timeout)
        try:
            sock.sendall(data)
        except OSError as exc:
            raise WriteFailed(tr(f"{self.name}: ghi lỗi: {exc}",
                                 f"{self.name}: write failed: {exc}")) from None

    def read(self, size: int, timeout: float) -> bytes:
        sock = self._require()
        sock.settimeout(timeout)
        try:
            return sock.recv(size)
        except TimeoutError:
            return b""
        except OSError as exc:
            raise WriteFailed(tr(f"{self.name}: đọc lỗi: {exc}",
                                 f"{self.name}: read failed: {exc}")) from None

    def discard_input(self) -> None:
        sock = self._require()
        sock.setblocking(False)
        try:
            while sock.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as exc:
            raise WriteFailed(f"{self.name}: {exc}") from None

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise PrinterUnreachable(tr(f"{self.name} chưa được mở", f"{self.name} is not open"))
        return self._sock


class FileLink:
    """A device file (/dev/usb/lp0 from the kernel's usblp driver) or a plain file.

    Writes go through a non-blocking descriptor and select() so a stalled printer hits the
    timeout instead of hanging the dispenser. Files under /dev are never created: a missing
    device is an unplugged printer, not a reason to make a regular file there.
    """

    def __init__(self, conf: FileConf, *, open_timeout: float, write_timeout: float) -> None:
        self.conf = conf
        self.name = f"file:{conf.path}"
        self.can_read = conf.readable
        self._write_timeout = write_timeout
        self._fd: int | None = None

    def open(self) -> None:
        flags = (os.O_RDWR if self.conf.readable else os.O_WRONLY) | os.O_NONBLOCK
        if not self.conf.path.startswith("/dev/"):
            flags |= os.O_CREAT | os.O_APPEND
        try:
            self._fd = os.open(self.conf.path, flags, 0o644)
        except OSError as exc:
            raise PrinterUnreachable(tr(f"không mở được {self.name}: {exc.strerror}",
                                        f"cannot open {self.name}: {exc.strerror}")) from None

    def write(self, data: bytes) -> None:
        fd = self._require()
        view = memoryview(data)
        deadline = time.monotonic() + self._write_timeout
        try:
            while view:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WriteFailed(tr(
                        f"{self.name}: máy in không nhận dữ liệu trong {self._write_timeout} s",
                        f"{self.name}: printer took no data for {self._write_timeout} s"))
                _, ready, _ = select.select([], [fd], [], left)
                if ready:
                    view = view[os.write(fd, view):]
        except OSError as exc:
            raise WriteFailed(tr(f"{self.name}: ghi lỗi: {exc.strerror}",
                                 f"{self.name}: write failed: {exc.strerror}")) from None

    def read(self, size: int, timeout: float) -> bytes:
        fd = self._require()
        if not self.can_read:
            return b""
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
            return os.read(fd, size) if ready else b""
        except BlockingIOError:
            return b""
        except OSError as exc:
            raise WriteFailed(tr(f"{self.name}: đọc lỗi: {exc.strerror}",
                                 f"{self.name}: read failed: {exc.strerror}")) from None

    def discard_input(self) -> None:
        if self.can_read:
            while self.read(4096, 0):
                pass

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def _require(self) -> int:
        if self._fd is None:
            raise PrinterUnreachable(tr(f"{self.name} chưa được mở", f"{self.name} is not open"))
        return self._fd


class UsbLink:
    """Direct USB through pyusb (bulk endpoints), with millisecond timeouts on every call."""

    can_read = True

    def __init__(self, conf: UsbConf, *, open_timeout: float, write_timeout: float) -> None:
        self.conf = conf
        self.name = f"usb:{conf.vendor_id:04x}:{conf.product_id:04x}"
        self._write_ms = int(write_timeout * 1000)
        self._dev: Any = None

    def open(self) -> None:
        try:
            import usb.core
            import usb.util
        except ImportError:
            raise MissingDependency(
                tr("máy in USB cần pyusb và libusb: `pip install pyusb` và "
                   "`sudo apt-get install libusb-1.0-0` (hoặc dùng /dev/usb/lp0 với "
                   "type = \"file\")",
                   "a USB printer needs pyusb and libusb: `pip install pyusb` and "
                   "`sudo apt-get install libusb-1.0-0` (or use /dev/usb/lp0 with type = \"file\")")
            ) from None
        try:
            dev = usb.core.find(idVendor=self.conf.vendor_id, idProduct=self.conf.product_id)
        except usb.core.NoBackendError:
            raise MissingDependency(
                tr("máy in USB cần libusb: `sudo apt-get install libusb-1.0-0` "
                   "(hoặc dùng /dev/usb/lp0 với type = \"file\")",
                   "a USB printer needs libusb: `sudo apt-get install libusb-1.0-0` "
                   "(or use /dev/usb/lp0 with type = \"file\")")
            ) from None
        try:
            if dev is None:
                raise PrinterUnreachable(tr(f"{self.name} chưa được cắm",
                                            f"{self.name} is not plugged in"))
            if dev.is_kernel_driver_active(self.conf.interface):
                dev.detach_kernel_driver(self.conf.interface)
            dev.set_configuration()
            usb.util.claim_interface(dev, self.conf.interface)
        except usb.core.USBError as exc:
            raise PrinterUnreachable(tr(f"không mở được {self.name}: {exc}",
                                        f"cannot open {self.name}: {exc}")) from None
        self._dev = dev

    def write(self, data: bytes) -> None:
        import usb.core

        try:
            self._require().write(self.conf.out_ep, data, timeout=self._write_ms)
        except usb.core.USBError as exc:
            raise WriteFailed(tr(f"{self.name}: ghi lỗi: {exc}",
                                 f"{self.name}: write failed: {exc}")) from None

    def read(self, size: int, timeout: float) -> bytes:
        import usb.core

        try:
            return bytes(self._require().read(self.conf.in_ep, size,
                                              timeout=max(1, int(timeout * 1000))))
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as exc:
            raise WriteFailed(tr(f"{self.name}: đọc lỗi: {exc}",
                                 f"{self.name}: read failed: {exc}")) from None

    def discard_input(self) -> None:
        while self.read(64, 0.01):
            pass

    def close(self) -> None:
        dev, self._dev = self._dev, None
        if dev is not None:
            import usb.util

            usb.util.dispose_resources(dev)

    def _require(self) -> Any:
        if self._dev is None:
            raise PrinterUnreachable(tr(f"{self.name} chưa được mở", f"{self.name} is not open"))
        return self._dev
