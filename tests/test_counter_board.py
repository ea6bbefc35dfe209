"""LED number boards: ASCII frames byte for byte over a pty, Modbus RTU against pymodbus's
server on the far end of a pty null modem, the keeper's re-send, blink and fault report."""

from __future__ import annotations

import asyncio
import os
import select
import threading
import time
import tty
from collections.abc import Iterator

import pytest

from drivers.ledboard.ascii import AsciiBoard, decode_frames, frame
from drivers.ledboard.base import BoardError, fit_text
from drivers.ledboard.keeper import BLINK_PERIOD_S, BoardKeeper, Display, visible
from drivers.ledboard.modbus import ModbusBoard, registers_for
from tests.cpu import thread_cpu_s


def _read_for(fd: int, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        r, _, _ = select.select([fd], [], [], left)
        if r:
            out += os.read(fd, 4096)
    return out


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


class NullModem:
    """Two ptys with their masters joined: what one side writes, the other reads."""

    def __init__(self) -> None:
        self.a_master, self.a_slave = os.openpty()
        self.b_master, self.b_slave = os.openpty()
        for fd in (self.a_master, self.a_slave, self.b_master, self.b_slave):
            tty.setraw(fd)
        self.a_path, self.b_path = os.ttyname(self.a_slave), os.ttyname(self.b_slave)
        self.cut = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        peer = {self.a_master: self.b_master, self.b_master: self.a_master}
        while not self._stop.is_set():
            r, _, _ = select.select(list(peer), [], [], 0.05)
            for fd in r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                if not self.cut:
                    os.write(peer[fd], data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for fd in (self.a_master, self.a_slave, self.b_master, self.b_slave):
            os.close(fd)


class ModbusServerThread:
    """pymodbus's own RTU server (the board side) on a serial port, in a thread."""

    def __init__(self, port: str, unit: int = 1) -> None:
        from pymodbus.framer import FramerType
        from pymodbus.server import ModbusSerialServer
        from pymodbus.simulator import DataType, SimData, SimDevice

        self.unit = unit
        context = SimDevice(id=unit, simdata=[SimData(0, values=[0] * 16,
                                                      datatype=DataType.REGISTERS)])
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()

        async def serve() -> None:
            # pymodbus wants its server built inside the running loop
            self.server = ModbusSerialServer(context, framer=FramerType.RTU, port=port,
                                             baudrate=9600)
            self._ready.set()
            await self.server.serve_forever()

        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(serve(),),
                                       daemon=True)
        self.thread.start()
        assert self._ready.wait(5)
        time.sleep(0.2)  # let it open the port

    def registers(self, n: int = 4) -> list[int]:
        """Holding registers 0..n-1 as the simulated board holds them."""
        got = asyncio.run_coroutine_threadsafe(
            self.server.context.async_getValues(self.unit, 3, 0, n), self.loop).result(5)
        assert isinstance(got, list), got
        return [int(v) for v in got]

    def power_cycle(self) -> None:
        """The board lost power: it comes back blank."""
        asyncio.run_coroutine_threadsafe(
            self.server.context.async_setValues(self.unit, 16, 0, [0] * 4), self.loop
        ).result(5)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(5)
        self.thread.join(5)
        self.loop.close()


# ---- ASCII ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("address", "text", "digits", "wire"), [
    (1, "A015", 4, b"\x0201A015\x03"),
    (7, "B2", 4, b"\x0207  B2\x03"),
    (12, "", 4, b"\x0212    \x03"),
    (99, "A1015", 4, b"\x02991015\x03"),
])
def test_ascii_frames_byte_for_byte_over_a_pty(pty_pair, address, text, digits, wire) -> None:
    master, path = pty_pair
    board = AsciiBoard(path, baud=9600, address=address, digits=digits)
    try:
        board.show(text)
        assert _read_for(master, 0.2) == wire
    finally:
        board.close()


def test_ascii_frame_rules() -> None:
    assert frame(3, "C007") == b"\x0203C007\x03"
    with pytest.raises(ValueError):
        frame(100, "A")
    with pytest.raises(ValueError, match="cannot show"):
        frame(1, "Số")
    frames, rest = decode_frames(b"junk\x0201A001\x03\x0202  B7\x03\x0203C")
    assert frames == [(1, "A001"), (2, "  B7")] and rest == b"\x0203C"
    assert fit_text("a7", 4) == "  A7"


def test_ascii_board_on_a_missing_port_is_a_board_error(tmp_path) -> None:
    board = AsciiBoard(str(tmp_path / "ttyUSB9"))
    with pytest.raises(BoardError, match="ttyUSB9"):
        board.show("A001")


# ---- Modbus --------------------------------------------------------------------------------
def test_registers_for_numbers_and_letters() -> None:
    assert registers_for("A015", 4) == (15, ord("A"))
    assert registers_for("", 4) == (0, 0x20)
    assert registers_for("12345", 4) == (2345, 0x20)
    with pytest.raises(ValueError):
        registers_for("OFF!", 4)


def test_modbus_board_against_pymodbus_server_register_read_back() -> None:
    modem = NullModem()
    server = ModbusServerThread(modem.b_path, unit=5)
    board = ModbusBoard(modem.a_path, baud=9600, address=5, register=0, letter_register=1,
                        timeout_s=1.0)
    try:
        board.show("B042")
        assert server.registers(2) == [42, ord("B")]
        assert board.read_back() == 42
        board.show("")
        assert server.registers(2) == [0, 0x20]
    finally:
        board.close()
        server.stop()
        modem.close()


def test_modbus_board_that_does_not_answer_is_a_fault() -> None:
    modem = NullModem()
    server = ModbusServerThread(modem.b_path, unit=1)
    board = ModbusBoard(modem.a_path, address=1, timeout_s=0.3)
    try:
        board.show("A001")
        modem.cut = True  # the RS-485 line is broken: the board hears nothing
        with pytest.raises(BoardError, match="did not answer"):
            board.show("A002")
        modem.cut = False
        board.show("A003")
        assert server.registers(1) == [3]
    finally:
        board.close()
        server.stop()
        modem.close()


def test_modbus_board_with_a_wrong_unit_id_is_a_fault() -> None:
    modem = NullModem()
    server = ModbusServerThread(modem.b_path, unit=1)
    board = ModbusBoard(modem.a_path, address=9, timeout_s=0.3)
    try:
        with pytest.raises(BoardError):
            board.show("A001")
    finally:
        board.close()
        server.stop()
        modem.close()


# ---- the keeper ----------------------------------------------------------------------------
@pytest.mark.parametrize(("now", "text_board", "expected"), [
    (0.0, True, "A001"),
    (BLINK_PERIOD_S / 2 + 0.01, True, ""),
    (BLINK_PERIOD_S + 0.01, True, "A001"),
    (3.5, True, "A001"),  # blink over
    (1.0, True, "A001"),
])
def test_visible_blinks_a_new_call(now, text_board, expected) -> None:
    d = Display(text="A001", blink_from=0.0, blink_until=3.0)
    assert visible(d, now, can_show_text=text_board) == expected


def test_visible_notice_then_back_and_number_boards_blink_instead() -> None:
    d = Display(text="A001", notice="----", notice_until=2.0)
    assert visible(d, 1.0) == "----"
    assert visible(d, 2.5) == "A001"
    shown = {visible(d, t / 10, can_show_text=False) for t in range(0, 20)}
    assert shown == {"A001", ""}


def test_keeper_resends_periodically_and_blinks(pty_pair) -> None:
    master, path = pty_pair
    keeper = BoardKeeper(AsciiBoard(path, address=1), resend_s=0.2, blink_s=0.6)
    keeper.start()
    try:
        keeper.show("A007")
        assert keeper.wait_written("A007", 1)
        _read_for(master, 0.05)  # the start-up blank and the first write
        data = _read_for(master, 0.7)
        frames, _ = decode_frames(data)
        # re-sent about every 0.2 s while nothing changes
        assert len(frames) >= 3 and all(f == (1, "A007") for f in frames)
        keeper.show("A008", blink=True)
        frames, _ = decode_frames(_read_for(master, 0.7))
        texts = [t for _, t in frames]
        assert "A008" in texts and "    " in texts  # on and off phases
        frames, _ = decode_frames(_read_for(master, 0.5))
        assert frames and frames[-1] == (1, "A008")  # steady after the blink
    finally:
        keeper.stop()


def test_keeper_reports_a_dead_modbus_board_and_its_return() -> None:
    modem = NullModem()
    server = ModbusServerThread(modem.b_path, unit=1)
    health: list[bool] = []
    keeper = BoardKeeper(ModbusBoard(modem.a_path, address=1, timeout_s=0.2),
                         resend_s=0.3, retry_s=0.3,
                         on_health=lambda ok, why: health.append(ok))
    keeper.start()
    try:
        keeper.show("C012")
        assert keeper.wait_written("C012", 2)
        assert server.registers(1) == [12]
        modem.cut = True
        deadline = time.monotonic() + 3
        while keeper.ok is not False and time.monotonic() < deadline:
            time.sleep(0.02)
        assert keeper.ok is False and "did not answer" in (keeper.problem or "")
        server.power_cycle()  # the board lost power meanwhile: blank
        modem.cut = False
        deadline = time.monotonic() + 3
        while keeper.ok is not True and time.monotonic() < deadline:
            time.sleep(0.02)
        assert keeper.ok is True
        assert server.registers(1) == [12]  # re-sent: it shows the number again
        assert health == [True, False, True]
    finally:
        keeper.stop()
        server.stop()
        modem.close()


class _DeadBoard:
    answers = True
    can_show_text = True
    digits = 4

    def __init__(self) -> None:
        self.tries = 0

    def show(self, text: str) -> None:
        self.tries += 1
        raise BoardError("LED board 1 did not answer")

    def close(self) -> None:
        pass


def test_keeper_retries_a_dead_board_without_spinning() -> None:
    board = _DeadBoard()
    keeper = BoardKeeper(board, resend_s=10, retry_s=0.1)
    keeper.start()
    try:
        cpu0 = thread_cpu_s("ledboard")
        time.sleep(0.55)
        keeper.show("A001")  # a change is still tried at once
        time.sleep(0.05)
        assert 4 <= board.tries <= 9, board.tries
        assert thread_cpu_s("ledboard") - cpu0 < 0.2
        assert keeper.ok is False
    finally:
        keeper.stop()


# ---- HDMI screen instead of an LED board ------------------------------------------------
def test_screen_board_draws_the_number_with_a_vietnamese_font(tmp_path) -> None:
    import pygame

    from display.fonts import missing_glyphs
    from display.text import get_font
    from drivers.ledboard.screen import BACKGROUND, NUMBER, ScreenBoard

    shot = tmp_path / "screen.png"
    board = ScreenBoard(label="Quầy 1", size=(320, 200), fullscreen=False, snapshot=shot)
    try:
        board.show("A015")
        first = pygame.image.load(str(shot))
        number_box = pygame.Rect(16, 40, 288, 140)

        def number_pixels(img: pygame.Surface) -> int:
            return sum(1 for x in range(number_box.left, number_box.right, 2)
                       for y in range(number_box.top, number_box.bottom, 2)
                       if img.get_at((x, y))[:3] == NUMBER)

        assert number_pixels(first) > 100
        board.show("A016")
        second = pygame.image.load(str(shot))
        assert pygame.image.tobytes(first, "RGB") != pygame.image.tobytes(second, "RGB")
        board.show("")
        blank = pygame.image.load(str(shot))
        assert number_pixels(blank) == 0 and blank.get_at((160, 110))[:3] == BACKGROUND
        # the label's face has every letter it needs (no tofu boxes)
        assert not missing_glyphs(get_font(20).path, "Quầy 1 · Đang phục vụ")
    finally:
        board.close()


def test_open_board_picks_the_driver_from_config() -> None:
    from appliance.config.counter import BoardConfig
    from appliance.counter.bootstrap import NoBoard, open_board
    from drivers.ledboard.screen import ScreenBoard

    assert isinstance(open_board(BoardConfig(protocol="ascii", port="loop://")), AsciiBoard)
    assert isinstance(open_board(BoardConfig(protocol="modbus", port="/dev/null")), ModbusBoard)
    screen = open_board(BoardConfig(protocol="screen"), "2")
    assert isinstance(screen, ScreenBoard) and screen.label == "Quầy 2"
    assert isinstance(open_board(BoardConfig()), NoBoard)
    loop = open_board(BoardConfig(protocol="ascii", port="loop://", address=4))
    loop.show("B12")  # pyserial's loop:// takes the frame like a port would
    loop.close()
