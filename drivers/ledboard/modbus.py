"""Modbus RTU LED boards: the number goes into a holding register (function 16).

pymodbus builds the frames and checks the CRC. The board answers every write, so
a write that gets no answer (or an exception answer) is a fault, never "fine".
Register layout as data: ``register`` holds the number (0 = blank on most boards);
``letter_register``, when the board has one, holds the service letter's ASCII code
(0x20 = blank).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from appliance.i18n import tr
from drivers.ledboard.base import BoardError

log = logging.getLogger(__name__)


def registers_for(text: str, digits: int) -> tuple[int, int]:
    """("A015", 4) → (15, ord("A")); blank → (0, 0x20). Letters other than a leading
    service letter cannot be shown by a number board."""
    text = text.strip().upper()
    letter = ""
    while text and text[0].isalpha():
        letter, text = letter + text[0], text[1:]
    if text and not text.isdigit():
        raise ValueError(f"{text!r} is not a number a Modbus number board can show")
    number = int(text[-digits:]) if text else 0
    return number, (ord(letter[-1]) if letter else 0x20)


class ModbusBoard:
    answers = True
    can_show_text = False

    def __init__(self, port: str, *, baud: int = 9600, address: int = 1, digits: int = 4,
                 register: int = 0, letter_register: int | None = None,
                 timeout_s: float = 0.5) -> None:
        self.port = port
        self.baud = baud
        self.address = address
        self.digits = digits
        self.register = register
        self.letter_register = letter_register
        self.timeout_s = timeout_s
        self._client: Any = None
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        from pymodbus.client import ModbusSerialClient  # lazy: heavy import
        from pymodbus.framer import FramerType

        if self._client is None:
            client = ModbusSerialClient(self.port, framer=FramerType.RTU, baudrate=self.baud,
                                        timeout=self.timeout_s, retries=0)
            if not client.connect():
                raise BoardError(tr(f"bảng LED: không mở được cổng nối tiếp {self.port}",
                                   f"LED board: cannot open serial port {self.port}"))
            self._client = client
        return self._client

    def show(self, text: str) -> None:
        number, letter = registers_for(text, self.digits)
        writes: list[tuple[int, list[int]]]
        if self.letter_register is None:
            writes = [(self.register, [number])]
        elif self.letter_register == self.register + 1:
            writes = [(self.register, [number, letter])]
        elif self.letter_register == self.register - 1:
            writes = [(self.letter_register, [letter, number])]
        else:
            writes = [(self.register, [number]), (self.letter_register, [letter])]
        from pymodbus.exceptions import ModbusException

        with self._lock:
            try:
                client = self._connect()
                for address, values in writes:
                    reply = client.write_registers(address, values, device_id=self.address)
                    if reply.isError():
                        raise BoardError(tr(
                            f"bảng LED {self.address} trên {self.port} từ chối ghi: {reply}",
                            f"LED board {self.address} on {self.port} refused the write: "
                            f"{reply}"))
            except ModbusException as exc:
                self._drop()
                raise BoardError(tr(
                    f"bảng LED {self.address} trên {self.port} không trả lời ({exc})",
                    f"LED board {self.address} on {self.port} did not answer ({exc})")) from exc
            except OSError as exc:
                self._drop()
                raise BoardError(tr(f"bảng LED trên {self.port}: {exc}",
                                   f"LED board on {self.port}: {exc}")) from exc

    def read_back(self) -> int:
        """The number register as the board holds it (for diagnostics)."""
        from pymodbus.exceptions import ModbusException

        with self._lock:
            try:
                reply = self._connect().read_holding_registers(
                    self.register, count=1, device_id=self.address)
            except ModbusException as exc:
                self._drop()
                raise BoardError(tr(f"bảng LED {self.address} không trả lời ({exc})",
                                   f"LED board {self.address} did not answer ({exc})")) from exc
            if reply.isError():
                raise BoardError(tr(f"bảng LED {self.address} từ chối đọc: {reply}",
                                   f"LED board {self.address} refused the read: {reply}"))
            return int(reply.registers[0])

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    def close(self) -> None:
        with self._lock:
            self._drop()
