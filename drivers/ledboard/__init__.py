"""The counter's LED number board: one small interface, several wire protocols.

* :class:`~drivers.ledboard.ascii.AsciiBoard` — STX, two ASCII address digits, the
  text, ETX (no checksum, no answer);
* :class:`~drivers.ledboard.modbus.ModbusBoard` — Modbus RTU holding-register write
  (pymodbus does the framing and CRC; the board answers every write);
* :class:`~drivers.ledboard.keeper.BoardKeeper` — one thread that owns a board:
  shows the current number, blinks a new call, flashes short notices, re-sends
  periodically so a board that lost power comes back right, and reports whether the
  board answers.

Boards are opened from plain settings so code above ``drivers/`` never knows
whether the serial port is a real RS-485 adapter or a pty.
"""

from drivers.ledboard.base import BoardError, LedBoard, fit_text

__all__ = ["BoardError", "LedBoard", "fit_text"]
