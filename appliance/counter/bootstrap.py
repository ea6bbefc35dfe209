"""Composition root of the counter unit: config → store, bus, board, keypads → service.

``build_counter`` takes the hardware openers as arguments so the test twin and the demo
pass fakes (a pipe-backed keypad, a pty board) while ``run`` passes the real ones; the
service never knows which.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from typing import Any

from appliance.bus import Bus
from appliance.clock import Clock, SystemClock
from appliance.config import UnitConfig
from appliance.config.counter import BoardConfig, CounterSection
from appliance.counter.service import CounterService
from appliance.counter.store import CounterStore
from appliance.errors import ConfigError
from appliance.health import attach_health
from appliance.i18n import tr
from appliance.runtime import add_common_arguments, load_from_args, wait_for_signal
from appliance.watchdog import watch
from drivers.evdev_input import EvdevInput, EvdevOpener, Opener
from drivers.keypad import DEFAULT_KEYS, DEFAULT_RATING_KEYS, KeypadDecoder, resolve_keymap
from drivers.ledboard.base import LedBoard
from drivers.ledboard.keeper import BoardKeeper

log = logging.getLogger(__name__)
EV_KEY, KEY_DOWN = 1, 1


class NoBoard:
    """No LED board configured: nothing to write, nothing to report."""

    answers = False
    can_show_text = True
    digits = 4

    def show(self, text: str) -> None:
        pass  # deliberately nothing: [counter.board] protocol = "none"

    def close(self) -> None:
        pass  # nothing open


def open_board(cfg: BoardConfig, counter: str = "") -> LedBoard:
    if cfg.protocol == "ascii":
        from drivers.ledboard.ascii import AsciiBoard

        return AsciiBoard(cfg.port, baud=cfg.baud, address=cfg.address, digits=cfg.digits,
                          timeout_s=cfg.timeout_s)
    if cfg.protocol == "modbus":
        from drivers.ledboard.modbus import ModbusBoard

        return ModbusBoard(cfg.port, baud=cfg.baud, address=cfg.address, digits=cfg.digits,
                           register=cfg.number_register, letter_register=cfg.letter_register,
                           timeout_s=cfg.timeout_s)
    if cfg.protocol == "screen":
        from drivers.ledboard.screen import ScreenBoard

        return ScreenBoard(label=f"Quầy {counter}", size=cfg.screen_size, digits=cfg.digits,
                           fullscreen=cfg.fullscreen)
    return NoBoard()


class GpioBeeper:
    """A buzzer on a GPIO pin: one short beep for done, three for an error."""

    def __init__(self, pin: int, pin_factory: Any = None) -> None:
        from gpiozero import Buzzer  # lazy: gpiozero probes pin libraries on import

        self.buzzer = Buzzer(pin, pin_factory=pin_factory)

    def ok(self) -> None:
        self.buzzer.beep(on_time=0.08, off_time=0.08, n=1, background=True)

    def error(self) -> None:
        self.buzzer.beep(on_time=0.08, off_time=0.08, n=3, background=True)

    def close(self) -> None:
        self.buzzer.close()


def _key_handler(decoder: KeypadDecoder, service: CounterService) -> Callable[[Any], None]:
    def on_event(event: Any) -> None:
        if event.type != EV_KEY or event.value != KEY_DOWN:
            return
        for r in decoder.press(event.code, time.monotonic()):
            if r.action == "entry":
                service.entry(r.text)
            elif r.action == "rate":
                service.rate(str(r.rating))
            elif r.action == "error":
                service.act("error", reason=r.reason)
            else:
                service.act(r.action, **r.extra())

    return on_event


class CounterUnit:
    def __init__(self, config: UnitConfig, section: CounterSection, *, clock: Clock,
                 board: LedBoard, keypad_opener: Opener | None,
                 rating_opener: Opener | None, pin_factory: Any = None) -> None:
        self.config = config
        self.section = section
        kp, r = section.keypad, section.rating
        # key names are checked before anything is opened: a bad map leaves nothing behind
        keys = resolve_keymap({**DEFAULT_KEYS, **(kp.keys if kp else {})})
        rating_keys = resolve_keymap(r.keys or DEFAULT_RATING_KEYS)
        self.store = CounterStore(config.data_path / "counter.sqlite3")
        self.bus = Bus(site=config.site, unit=config.unit, role="counter",
                       broker=config.broker, clock=clock,
                       status_interval_s=config.status_interval_s)
        attach_health(self.bus, config.data_path)
        b = section.board
        self.keeper = BoardKeeper(board, resend_s=b.resend_s, blink_s=b.blink_s,
                                  notice_s=b.notice_s,
                                  on_health=lambda ok, why: self.service.set_board_health(ok, why))
        self.beeper = (GpioBeeper(section.buzzer.pin, pin_factory)
                       if section.buzzer.pin is not None else None)
        self.heartbeat = watch(self.bus, "counter-worker", config.data_path)
        self.service = CounterService(
            beat=self.heartbeat.beat,
            unit=config.unit, counter=section.counter, bus=self.bus, store=self.store,
            clock=clock, board=self.keeper, beeper=self.beeper,
            request_timeout_s=section.request_timeout_s, hub_unit=section.hub_unit,
            rating_window_s=section.rating.window_s, sync_interval_s=section.sync_interval_s)
        self.service.board_answers = board.answers
        self.inputs: list[EvdevInput] = []
        self.buttons: Any = None
        if keypad_opener is not None:
            decoder = KeypadDecoder(keys, entry_timeout_s=kp.entry_timeout_s if kp else 20.0)
            self.inputs.append(EvdevInput(
                keypad_opener, _key_handler(decoder, self.service), name="keypad",
                grab=kp.grab if kp else True, ignore_repeat=True, event_types={EV_KEY},
                on_presence=self.service.set_keypad_present,
                poll_interval_s=kp.poll_interval_s if kp else 1.0))
        if r.source == "keypad" and rating_opener is not None:
            self.inputs.append(EvdevInput(
                rating_opener, _key_handler(KeypadDecoder(rating_keys), self.service),
                name="rating-keys", event_types={EV_KEY},
                on_presence=self.service.set_rating_keys_present))
        elif r.source == "gpio":
            from drivers.gpio import ButtonPanel

            def on_press(rating: str) -> None:
                self.service.rate(rating)

            self.buttons = ButtonPanel({pin: name for name, pin in r.pins.items()},
                                       on_press=on_press, pin_factory=pin_factory)

    def start(self) -> None:
        self.keeper.start()
        self.service.start()
        self.bus.start()
        for i in self.inputs:
            i.start()

    def stop(self) -> None:
        for i in self.inputs:
            i.stop()
        if self.buttons is not None:
            self.buttons.close()
        self.service.stop()
        self.bus.stop()
        self.keeper.stop()
        if self.beeper is not None:
            self.beeper.close()
        self.store.close()


def counter_section(config: UnitConfig) -> CounterSection:
    config.require_role("counter")
    if config.counter is None:
        raise ConfigError([tr(
            f"{config.source}: thiết bị quầy cần mục [counter] có ít nhất counter = \"<id>\"",
            f"{config.source}: a counter unit needs a [counter] section "
            "with at least counter = \"<id>\"")])
    return config.counter


def build_counter(config: UnitConfig, *, clock: Clock | None = None,
                  board: LedBoard | None = None, keypad_opener: Opener | None = None,
                  rating_opener: Opener | None = None, pin_factory: Any = None) -> CounterUnit:
    """The counter unit. Hardware not passed in is opened from the config (real devices)."""
    section = counter_section(config)
    if keypad_opener is None and section.keypad is not None:
        kp = section.keypad
        keypad_opener = EvdevOpener(by_id=kp.by_id, vendor=kp.vendor, product=kp.product)
    r = section.rating
    if rating_opener is None and r.source == "keypad":
        rating_opener = EvdevOpener(by_id=r.by_id, vendor=r.vendor, product=r.product)
    return CounterUnit(config, section, clock=clock or SystemClock(),
                       board=board or open_board(section.board, section.counter),
                       keypad_opener=keypad_opener, rating_opener=rating_opener,
                       pin_factory=pin_factory)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = load_from_args(args)
    unit = build_counter(config)
    unit.start()
    log.info(tr("quầy %s (thiết bị %s) nối %s, dữ liệu ở %s",
                "counter %s (unit %s) on %s, data in %s"), unit.section.counter, config.unit,
             config.broker.url, config.data_path)
    wait_for_signal()
    unit.stop()
    return 0
