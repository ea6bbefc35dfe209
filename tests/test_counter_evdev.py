"""EvdevInput over evdev's real reading code (a pipe-backed EventIO): events, repeat, unplug."""

from __future__ import annotations

import queue
import threading
import time

import pytest
from evdev import InputEvent, ecodes

from drivers.evdev_fake import FakeInputDevice, FakeUsbPort
from drivers.evdev_input import EvdevInput, EvdevOpener
from tests.cpu import thread_cpu_s


def _collect(port: FakeUsbPort, **kw: object) -> tuple[EvdevInput, queue.Queue[InputEvent]]:
    got: queue.Queue[InputEvent] = queue.Queue()
    reader = EvdevInput(port.open, got.put, name="test-keypad", poll_interval_s=0.05,
                        **kw)  # type: ignore[arg-type]
    reader.start()
    assert reader.wait_present(2)
    return reader, got


def _keys(got: queue.Queue[InputEvent], n: int, timeout: float = 2.0) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        ev = got.get(timeout=max(0.01, deadline - time.monotonic()))
        if ev.type == ecodes.EV_KEY:
            out.append((ev.code, ev.value))
    return out


def test_events_come_through_evdevs_reader_as_input_events() -> None:
    port = FakeUsbPort()
    reader, got = _collect(port)
    try:
        assert port.device is not None and port.device.grabbed
        port.tap(ecodes.KEY_KP5)
        first = got.get(timeout=2)
        assert isinstance(first, InputEvent)
        assert (first.type, first.code, first.value) == (ecodes.EV_KEY, ecodes.KEY_KP5, 1)
        assert first.timestamp() == pytest.approx(time.time(), abs=5)
        assert _keys(got, 1) == [(ecodes.KEY_KP5, 0)]
    finally:
        reader.stop()
    assert port.device.closed and not port.device.grabbed
    assert port.open_files == 0


def test_auto_repeat_is_dropped_when_asked_and_kept_otherwise() -> None:
    port = FakeUsbPort()
    reader, got = _collect(port, event_types={ecodes.EV_KEY})
    try:
        assert port.device is not None
        port.hold(ecodes.KEY_KPENTER, repeats=5)
        port.tap(ecodes.KEY_KP1)
        assert _keys(got, 4) == [(ecodes.KEY_KPENTER, 1), (ecodes.KEY_KPENTER, 0),
                                 (ecodes.KEY_KP1, 1), (ecodes.KEY_KP1, 0)]
    finally:
        reader.stop()
    port2 = FakeUsbPort()
    reader2, got2 = _collect(port2, ignore_repeat=False, event_types={ecodes.EV_KEY})
    try:
        assert port2.device is not None
        port2.hold(ecodes.KEY_A, repeats=2)
        assert _keys(got2, 4) == [(ecodes.KEY_A, 1), (ecodes.KEY_A, 2), (ecodes.KEY_A, 2),
                                  (ecodes.KEY_A, 0)]
    finally:
        reader2.stop()


def test_unplug_closes_the_device_polls_without_spinning_and_replug_resumes() -> None:
    port = FakeUsbPort()
    presence: list[bool] = []
    got: queue.Queue[InputEvent] = queue.Queue()
    calls = 0
    real_open = port.open

    def counting_open() -> FakeInputDevice | None:
        nonlocal calls
        calls += 1
        return real_open()

    reader = EvdevInput(counting_open, got.put, name="kp", poll_interval_s=0.1,
                        on_presence=presence.append, event_types={ecodes.EV_KEY})
    reader.start()
    try:
        assert reader.wait_present(2)
        old = port.device
        assert old is not None
        port.unplug()
        deadline = time.monotonic() + 2
        while reader.present and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not reader.present
        assert old.closed, "the dead device must be closed, or select spins on it"
        cpu0, calls0 = thread_cpu_s("evdev-kp"), calls
        time.sleep(0.6)
        assert reader.problem == "kp: not plugged in"
        # polled about every 0.1 s, not in a tight loop
        assert 2 <= calls - calls0 <= 9
        assert thread_cpu_s("evdev-kp") - cpu0 < 0.3
        with pytest.raises(OSError):
            port.tap(ecodes.KEY_KP2)  # nothing to press while it is out
        port.plug()
        assert reader.wait_present(2)
        new = port.device
        assert new is not None and new is not old and new.grabbed and reader.opens == 2
        port.tap(ecodes.KEY_KP2)
        assert _keys(got, 2) == [(ecodes.KEY_KP2, 1), (ecodes.KEY_KP2, 0)]
        assert presence == [True, False, True]
    finally:
        reader.stop()


def test_end_of_file_is_treated_as_unplugged_not_spun_on() -> None:
    # evdev's reader returns no events (no error) at end of file; a reader that
    # trusted select would loop forever on it.
    dev = FakeInputDevice()
    handed: list[FakeInputDevice] = []

    def once() -> FakeInputDevice | None:
        if handed:
            return None
        handed.append(dev)
        return dev

    reader = EvdevInput(once, lambda e: None, name="kp", poll_interval_s=0.05)
    reader.start()
    try:
        assert reader.wait_present(2)
        dev.hang_up()
        deadline = time.monotonic() + 2
        while not dev.closed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert dev.closed and not reader.present
        cpu0 = thread_cpu_s("evdev-kp")
        time.sleep(0.3)
        assert thread_cpu_s("evdev-kp") - cpu0 < 0.2
    finally:
        reader.stop()


def test_a_device_held_by_another_program_is_reported_and_retried() -> None:
    port = FakeUsbPort()
    other = port.open()
    assert other is not None
    other.grab()  # someone else holds it
    got: queue.Queue[InputEvent] = queue.Queue()
    reader = EvdevInput(port.open, got.put, name="kp", poll_interval_s=0.05)
    reader.start()
    try:
        time.sleep(0.2)
        assert not reader.present
        assert reader.problem == "kp: another program holds the device"
        assert port.open_files == 1, "failed opens must be closed again"
        other.close()  # the other program lets go
        assert reader.wait_present(2)
        port.tap(ecodes.KEY_KP4)
        assert got.get(timeout=2).code == ecodes.KEY_KP4
    finally:
        reader.stop()


def test_stop_returns_promptly_while_waiting_for_events_and_while_absent() -> None:
    port = FakeUsbPort()
    reader, _ = _collect(port)
    t0 = time.monotonic()
    reader.stop()
    assert time.monotonic() - t0 < 0.5
    absent = FakeUsbPort(plugged=False)
    r2 = EvdevInput(absent.open, lambda e: None, poll_interval_s=30)
    r2.start()
    time.sleep(0.05)
    t0 = time.monotonic()
    r2.stop()
    assert time.monotonic() - t0 < 0.5
    assert not any(t.name.startswith("evdev-") for t in threading.enumerate())


def test_handler_errors_do_not_kill_the_reader() -> None:
    port = FakeUsbPort()
    seen: list[int] = []

    def handler(ev: InputEvent) -> None:
        if ev.code == ecodes.KEY_KP0:
            raise RuntimeError("boom")
        seen.append(ev.code)

    reader = EvdevInput(port.open, handler, event_types={ecodes.EV_KEY})
    reader.start()
    try:
        assert reader.wait_present(2) and port.device is not None
        port.tap(ecodes.KEY_KP0)
        port.tap(ecodes.KEY_KP3)
        deadline = time.monotonic() + 2
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen == [ecodes.KEY_KP3, ecodes.KEY_KP3]
    finally:
        reader.stop()


def test_type_text_shifts_capitals_like_a_scanner() -> None:
    port = FakeUsbPort()
    reader, got = _collect(port, event_types={ecodes.EV_KEY})
    try:
        assert port.device is not None
        port.type_text("a-B\n")
        assert _keys(got, 10) == [
            (ecodes.KEY_A, 1), (ecodes.KEY_A, 0), (ecodes.KEY_MINUS, 1), (ecodes.KEY_MINUS, 0),
            (ecodes.KEY_LEFTSHIFT, 1), (ecodes.KEY_B, 1), (ecodes.KEY_B, 0),
            (ecodes.KEY_LEFTSHIFT, 0), (ecodes.KEY_ENTER, 1), (ecodes.KEY_ENTER, 0)]
        with pytest.raises(ValueError, match="no key for"):
            port.type_text("ơ")
    finally:
        reader.stop()


def test_real_opener_finds_nothing_when_the_by_id_path_is_absent(tmp_path) -> None:
    opener = EvdevOpener(by_id=str(tmp_path / "usb-Keypad-event-kbd"))
    assert opener() is None
    assert EvdevOpener(vendor=0x1234, product=0x5678, input_dir=str(tmp_path))() is None
    with pytest.raises(ValueError):
        EvdevOpener()


def test_an_absent_device_is_reported_absent_at_start_not_left_unknown() -> None:
    port = FakeUsbPort(plugged=False)
    presence: list[bool] = []
    reader = EvdevInput(port.open, lambda e: None, name="kp", poll_interval_s=0.05,
                        on_presence=presence.append)
    reader.start()
    try:
        deadline = time.monotonic() + 2
        while not presence and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # several polls: still one report
        assert presence == [False] and reader.problem == "kp: not plugged in"
        port.plug()
        assert reader.wait_present(2)
        assert presence == [False, True]
    finally:
        reader.stop()
