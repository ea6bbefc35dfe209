"""Push buttons and status lights on GPIO pins, through gpiozero, with debounce done here.

gpiozero's mock pins ignore ``bounce_time`` and real contacts bounce for a few milliseconds,
so every edge goes through our own filter: an edge that comes less than ``debounce_s``
after the previous edge on the same pin is contact bounce and is dropped.

A ``ButtonPanel`` maps pin -> name. A button without a long-press action reports its press
on the falling edge (no added delay); one with a long-press action reports a short press on
release, or the long press once it has been held ``long_press_s``. Callbacks run on
gpiozero's threads: keep them quick.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.errors import ConfigError, DeviceError, MissingDependency
from appliance.i18n import tr

log = logging.getLogger(__name__)

Callback = Callable[[str], None]


def is_pi5(model_file: Path = Path("/proc/device-tree/model")) -> bool:
    try:
        return "Raspberry Pi 5" in model_file.read_text(errors="replace")
    except OSError:
        return False


def make_pin_factory(name: str = "auto") -> Any:
    """The gpiozero pin factory to use, or None to let gpiozero choose its default.

    "auto" honours GPIOZERO_PIN_FACTORY; without it a Pi 5 gets lgpio explicitly, because
    some gpiozero 2.0.1 post releases fall back to RPi.GPIO there and see no pins.
    """
    if name == "auto":
        if os.environ.get("GPIOZERO_PIN_FACTORY"):
            return None
        if not is_pi5():
            return None
        name = "lgpio"
    if name == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    modules = {
        "lgpio": ("gpiozero.pins.lgpio", "LGPIOFactory", "python3-lgpio"),
        "rpigpio": ("gpiozero.pins.rpigpio", "RPiGPIOFactory", "python3-rpi.gpio"),
        "pigpio": ("gpiozero.pins.pigpio", "PiGPIOFactory", "python3-pigpio"),
        "native": ("gpiozero.pins.native", "NativeFactory", "gpiozero"),
    }
    if name not in modules:
        raise ConfigError([tr(f"pin_factory: không có pin factory {name!r}",
                              f"pin_factory: unknown pin factory {name!r}")])
    module, cls, package = modules[name]
    try:
        factory_cls = getattr(__import__(module, fromlist=[cls]), cls)
        return factory_cls()
    except ImportError as exc:
        raise MissingDependency(tr(f"pin factory {name} cần gói {package}: {exc}",
                                   f"pin factory {name} needs {package}: {exc}")) from None
    except Exception as exc:  # noqa: BLE001 - gpiozero raises many kinds when no GPIO chip
        raise DeviceError(tr(f"pin factory {name} không khởi động được: {exc}",
                             f"pin factory {name} could not start: {exc}")) from None


@dataclass
class _PinState:
    name: str
    on_press: Callback | None
    on_long: Callback | None
    last_edge: float = -1e9
    pressed_at: float | None = None
    held_fired: bool = False
    device: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class ButtonPanel:
    """Named buttons on pins, debounced in software, with optional long-press actions."""

    def __init__(
        self,
        buttons: Mapping[int, str],
        *,
        on_press: Callback,
        on_long_press: Mapping[str, Callback] | None = None,
        debounce_s: float = 0.05,
        long_press_s: float = 2.0,
        pull_up: bool = True,
        pin_factory: Any = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        from gpiozero import Button  # lazy: gpiozero probes for pin libraries on import

        self.debounce_s = debounce_s
        self.factory = pin_factory
        self._now = monotonic
        self._pins: dict[int, _PinState] = {}
        long_actions = dict(on_long_press or {})
        try:
            for pin, name in buttons.items():
                state = _PinState(name=name, on_press=on_press, on_long=long_actions.get(name))
                dev = Button(pin, pull_up=pull_up, bounce_time=None, hold_time=long_press_s,
                             pin_factory=pin_factory)
                dev.when_pressed = lambda _d=None, s=state: self._pressed(s)
                dev.when_released = lambda _d=None, s=state: self._released(s)
                if state.on_long is not None:
                    dev.when_held = lambda _d=None, s=state: self._held(s)
                state.device = dev
                self._pins[pin] = state
        except Exception as exc:  # gpiozero's pin errors have no common base
            self.close()
            raise DeviceError(tr(f"không cài đặt được chân nút bấm: {exc}",
                                   f"cannot set up button pins: {exc}")) from exc

    def names(self) -> dict[int, str]:
        return {pin: s.name for pin, s in self._pins.items()}

    def _bounce(self, state: _PinState) -> bool:
        now = self._now()
        bouncing = now - state.last_edge < self.debounce_s
        state.last_edge = now
        return bouncing

    def _pressed(self, state: _PinState) -> None:
        with state.lock:
            if self._bounce(state):
                return
            state.pressed_at = self._now()
            state.held_fired = False
            fire_now = state.on_long is None
        if fire_now and state.on_press is not None:
            state.on_press(state.name)

    def _released(self, state: _PinState) -> None:
        with state.lock:
            if self._bounce(state):
                return
            was_pressed = state.pressed_at is not None
            state.pressed_at = None
            short = was_pressed and state.on_long is not None and not state.held_fired
        if short and state.on_press is not None:
            state.on_press(state.name)

    def _held(self, state: _PinState) -> None:
        with state.lock:
            if state.pressed_at is None or state.held_fired:
                return
            state.held_fired = True
        if state.on_long is not None:
            state.on_long(state.name)

    def close(self) -> None:
        for state in self._pins.values():
            if state.device is not None:
                state.device.close()
        self._pins.clear()


class StatusLights:
    """Named LEDs; each can be on, off or blinking. Unknown names are ignored (optional LEDs)."""

    def __init__(self, pins: Mapping[str, int], *, active_high: bool = True,
                 pin_factory: Any = None) -> None:
        from gpiozero import LED

        self._leds: dict[str, Any] = {}
        self._state: dict[str, str] = {}
        try:
            for name, pin in pins.items():
                self._leds[name] = LED(pin, active_high=active_high, pin_factory=pin_factory)
                self._state[name] = "off"
        except Exception as exc:  # gpiozero's pin errors have no common base
            self.close()
            raise DeviceError(tr(f"không cài đặt được đèn trạng thái: {exc}",
                                   f"cannot set up status lights: {exc}")) from exc

    def show(self, wanted: Mapping[str, str]) -> None:
        """Set every light: "on", "off" or "blink"; lights not named are turned off."""
        for name, led in self._leds.items():
            mode = wanted.get(name, "off")
            if self._state.get(name) == mode:
                continue
            self._state[name] = mode
            if mode == "on":
                led.on()
            elif mode == "blink":
                led.blink(on_time=0.3, off_time=0.3)
            else:
                led.off()

    @property
    def state(self) -> dict[str, str]:
        return dict(self._state)

    def close(self) -> None:
        for led in self._leds.values():
            led.close()
        self._leds.clear()
