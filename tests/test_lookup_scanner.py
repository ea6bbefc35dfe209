"""Receipt scanners: HID via evdev's real reader (fake device on a pipe), serial via a pty."""

from __future__ import annotations

import os
import queue
import time
import tty

import pytest
from evdev import ecodes

from appliance.core.dossier_code import parse_scan
from drivers.evdev_fake import FakeUsbPort
from drivers.scanner import BAD, HidScanner, ScanDecoder, SerialScanner
from tests.cpu import thread_cpu_s

SCAN = "000.00.06.G04-261127-0012/K7M2QA"
URL = "https://tracuu.example.vn/hs?ma=000.00.06.G04-261127-0012&mk=K7M2QA"


def _feed(dec: ScanDecoder, events: list[tuple[int, int]], t0: float = 100.0,
          dt: float = 0.005) -> list[str]:
    out = []
    for i, (code, value) in enumerate(events):
        got = dec.feed(code, value, t0 + i * dt)
        if got is not None:
            out.append(got)
    return out


def _press(code: int) -> list[tuple[int, int]]:
    return [(code, 1), (code, 0)]


def test_decoder_tracks_shift_and_caps_lock() -> None:
    dec = ScanDecoder()
    shift, rshift = ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT
    ev = [*_press(ecodes.KEY_A), (shift, 1), *_press(ecodes.KEY_B), *_press(ecodes.KEY_SLASH),
          (shift, 0), *_press(ecodes.KEY_CAPSLOCK), *_press(ecodes.KEY_C), (rshift, 1),
          *_press(ecodes.KEY_D), (rshift, 0), *_press(ecodes.KEY_1), *_press(ecodes.KEY_ENTER)]
    assert _feed(dec, ev) == ["aB?Cd1"]


def test_decoder_enter_alone_gives_nothing_and_unknown_keys_poison_the_scan() -> None:
    dec = ScanDecoder()
    assert _feed(dec, _press(ecodes.KEY_ENTER)) == []
    got = _feed(dec, _press(ecodes.KEY_A) + _press(ecodes.KEY_F5) + _press(ecodes.KEY_ENTER))
    assert got == ["a" + BAD]
    assert parse_scan(got[0]) is None


def test_decoder_drops_a_partial_scan_that_went_stale() -> None:
    dec = ScanDecoder(stale_after_s=2.0)
    assert dec.feed(ecodes.KEY_A, 1, 10.0) is None
    assert dec.feed(ecodes.KEY_B, 1, 10.01) is None
    # three seconds later a new scan starts: "ab" was a half scan and is dropped
    assert dec.feed(ecodes.KEY_C, 1, 13.0) is None
    assert dec.feed(ecodes.KEY_ENTER, 1, 13.01) == "c"
    assert dec.dropped == 1
    # Enter that comes too late ends nothing
    dec.feed(ecodes.KEY_D, 1, 20.0)
    assert dec.feed(ecodes.KEY_ENTER, 1, 25.0) is None


def test_decoder_caps_length() -> None:
    dec = ScanDecoder()
    got = _feed(dec, _press(ecodes.KEY_A) * 300 + _press(ecodes.KEY_ENTER), dt=0.0001)
    assert len(got[0]) == 201 and parse_scan(got[0]) is None


@pytest.fixture
def port() -> FakeUsbPort:
    return FakeUsbPort(name="Fake scanner", vendor=0x0C2E, product=0x0B61)


def _scanner(port: FakeUsbPort, **kw: object) -> tuple[HidScanner, queue.Queue[str]]:
    got: queue.Queue[str] = queue.Queue()
    sc = HidScanner(port.open, got.put, poll_interval_s=0.1, **kw)  # type: ignore[arg-type]
    sc.start()
    assert sc.reader.wait_present(2.0)
    return sc, got


def test_hid_scan_through_evdevs_reader_is_grabbed_and_exact(port: FakeUsbPort) -> None:
    sc, got = _scanner(port)
    try:
        assert port.device is not None and port.device.grabbed
        port.type_text(SCAN + "\n")
        port.type_text(URL + "\n")
        first, second = got.get(timeout=2), got.get(timeout=2)
        assert first == SCAN and second == URL
        assert parse_scan(first) == parse_scan(second)
        assert parse_scan(first) is not None
    finally:
        sc.stop()


def test_hid_partial_scan_then_stale_then_good_scan(port: FakeUsbPort) -> None:
    sc, got = _scanner(port, stale_after_s=0.3)
    try:
        port.type_text("000.00.06.G04-26")  # the cable wobbled: no Enter
        time.sleep(0.5)
        port.type_text(SCAN + "\n")
        assert got.get(timeout=2) == SCAN
        assert got.empty()
        assert sc.decoder.dropped == 1
    finally:
        sc.stop()


def test_hid_unplug_mid_scan_recovers_without_spinning(port: FakeUsbPort) -> None:
    presence: list[bool] = []
    got: queue.Queue[str] = queue.Queue()
    sc = HidScanner(port.open, got.put, poll_interval_s=0.1, on_presence=presence.append)
    sc.start()
    try:
        assert sc.reader.wait_present(2.0)
        port.type_text("000.00.06")
        time.sleep(0.1)
        port.unplug()
        deadline = time.monotonic() + 2
        while sc.present and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not sc.present
        before = thread_cpu_s("evdev-scanner")
        time.sleep(1.0)
        cpu = thread_cpu_s("evdev-scanner") - before
        assert cpu < 0.3, f"{cpu:.2f} s of CPU in 1 s while unplugged: spinning"
        port.plug()
        assert sc.reader.wait_present(2.0)
        port.type_text(SCAN + "\n")
        assert got.get(timeout=2) == SCAN  # the half scan from before is not glued on
        assert presence[:3] == [True, False, True]
    finally:
        sc.stop()


def test_serial_scanner_over_a_pty_drops_stale_partials() -> None:
    master, slave = os.openpty()
    tty.setraw(master)
    got: queue.Queue[str] = queue.Queue()
    sc = SerialScanner(os.ttyname(slave), got.put, baudrate=9600, stale_after_s=0.3)
    sc.start()
    try:
        assert sc.wait_present(2.0)
        os.write(master, (SCAN + "\r\n").encode())
        assert got.get(timeout=2) == SCAN
        os.write(master, b"000.00")
        time.sleep(0.5)
        os.write(master, (URL + "\r").encode())
        assert got.get(timeout=2) == URL
        assert sc.dropped == 1
    finally:
        sc.stop()
        os.close(master)
        os.close(slave)
