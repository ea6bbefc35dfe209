"""Buttons and lights on gpiozero's MockFactory, driven from the test."""

from __future__ import annotations

import time

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from drivers.gpio import ButtonPanel, StatusLights, make_pin_factory


@pytest.fixture
def factory():
    f = MockFactory()
    Device.pin_factory = f
    yield f
    f.reset()
    Device.pin_factory = None


def _tap(factory, pin: int, hold: float = 0.0) -> None:
    factory.pin(pin).drive_low()
    if hold:
        time.sleep(hold)
    factory.pin(pin).drive_high()


def test_press_reports_the_button_name_at_once(factory):
    seen: list[str] = []
    panel = ButtonPanel({17: "service:A", 27: "service:B"}, on_press=seen.append,
                        debounce_s=0.02)
    factory.pin(27).drive_low()
    assert seen == ["service:B"]  # on the falling edge, before release
    factory.pin(27).drive_high()
    time.sleep(0.03)
    _tap(factory, 17)
    assert seen == ["service:B", "service:A"]
    panel.close()


def test_contact_bounce_gives_one_press(factory):
    seen: list[str] = []
    panel = ButtonPanel({17: "service:A"}, on_press=seen.append, debounce_s=0.05)
    pin = factory.pin(17)
    for _ in range(6):  # a bouncing contact: six closures within a few milliseconds
        pin.drive_low()
        pin.drive_high()
    pin.drive_low()
    time.sleep(0.08)
    pin.drive_high()  # release, with its own bounce
    pin.drive_low()
    pin.drive_high()
    assert seen == ["service:A"]
    time.sleep(0.08)
    _tap(factory, 17)  # a real second press later is a second press
    assert seen == ["service:A", "service:A"]
    panel.close()


def test_long_press_is_not_also_a_short_press(factory):
    short: list[str] = []
    long: list[str] = []
    panel = ButtonPanel({24: "priority"}, on_press=short.append,
                        on_long_press={"priority": long.append}, debounce_s=0.01,
                        long_press_s=0.5)
    _tap(factory, 24, hold=0.05)
    assert short == ["priority"] and long == []  # short: reported on release
    time.sleep(0.05)
    _tap(factory, 24, hold=0.9)
    assert short == ["priority"] and long == ["priority"]
    panel.close()


def test_status_lights(factory):
    lights = StatusLights({"ready": 5, "fault": 6, "offline": 13})
    lights.show({"ready": "on"})
    assert factory.pin(5).state == 1 and factory.pin(6).state == 0
    lights.show({"fault": "blink", "offline": "on"})
    assert factory.pin(5).state == 0 and factory.pin(13).state == 1
    flips: set[int] = set()
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline and len(flips) < 2:
        flips.add(factory.pin(6).state)
        time.sleep(0.02)
    assert flips == {0, 1}, "the fault light should blink"
    lights.close()


def test_pin_factory_choice(monkeypatch):
    import drivers.gpio as g
    from appliance.errors import DeviceError, MissingDependency

    assert isinstance(make_pin_factory("mock"), MockFactory)
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    assert make_pin_factory("auto") is None  # the environment decides
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY")
    monkeypatch.setattr(g, "is_pi5", lambda: False)
    assert make_pin_factory("auto") is None  # gpiozero's own default elsewhere
    monkeypatch.setattr(g, "is_pi5", lambda: True)
    # on a Pi 5 "auto" means lgpio explicitly; lgpio is not installed here, which is loud
    with pytest.raises((MissingDependency, DeviceError), match="lgpio"):
        make_pin_factory("auto")


def test_pi5_detection(tmp_path):
    from drivers.gpio import is_pi5

    model = tmp_path / "model"
    model.write_text("Raspberry Pi 5 Model B Rev 1.0\x00")
    assert is_pi5(model)
    model.write_text("Raspberry Pi 3 Model B Plus Rev 1.3\x00")
    assert not is_pi5(model)
    assert not is_pi5(tmp_path / "absent")


class _Presses:
    """Stands in for the Dispenser behind Controls: records presses, can hold one open."""

    def __init__(self) -> None:
        import threading

        self.calls: list[tuple[str, bool]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()

    def press(self, service: str, priority: bool = False):
        self.calls.append((service, priority))
        self.started.set()
        self.gate.wait(5)

    def reprint(self):
        self.calls.append(("reprint", False))


def _section(**kw):
    from appliance.config.dispenser import DispenserSection

    return DispenserSection.model_validate(
        {"buttons": [{"pin": 17, "service": "A"},
                     {"pin": 18, "service": "C", "priority": True}],
         "priority_pin": 24, **kw})


def _drain(controls, n: int) -> None:
    deadline = time.monotonic() + 5
    while len(controls.d.calls) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)


def test_priority_window_and_dedicated_priority_button():
    from appliance.dispenser.controls import Controls, button_names

    now = [100.0]
    presses = _Presses()
    controls = Controls(presses, _section(priority_window_s=8.0),  # type: ignore[arg-type]
                        monotonic=lambda: now[0])
    assert button_names(controls.conf) == {17: "service:A", 18: "priority:C",
                                           24: "priority"}
    controls.start()
    try:
        controls.on_button("priority")
        controls.on_button("service:A")
        _drain(controls, 1)
        controls.on_button("service:A")  # priority was used up
        _drain(controls, 2)
        controls.on_button("priority:C")
        _drain(controls, 3)
        controls.on_button("priority")
        now[0] += 9  # the citizen walked away: the armed priority lapses
        controls.on_button("service:A")
        _drain(controls, 4)
        controls.on_long_press("priority")
        _drain(controls, 5)
    finally:
        controls.stop()
    assert presses.calls == [("A", True), ("A", False), ("C", True), ("A", False),
                                ("reprint", False)]


def test_busy_policy_queue_is_bounded_and_ignore_drops():
    from appliance.dispenser.controls import Controls, Job

    for policy, accepted in (("queue", 3), ("ignore", 1)):
        presses = _Presses()
        presses.gate.clear()  # the first ticket is "printing" until the gate opens
        controls = Controls(presses, _section(busy_policy=policy, queue_max=2))  # type: ignore[arg-type]
        controls.start()
        try:
            jobs = [controls.submit(Job("press", service="A"))]
            presses.started.wait(5)
            jobs += [controls.submit(Job("press", service="A")) for _ in range(4)]
            presses.gate.set()
            _drain(controls, accepted)
        finally:
            controls.stop()
        assert sum(j is not None for j in jobs) == accepted, policy
        assert len(presses.calls) == accepted and controls.ignored == 5 - accepted
