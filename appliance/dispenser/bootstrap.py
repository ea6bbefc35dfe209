"""Composition root of the dispenser: config in, a running dispenser out.

``build_dispenser`` wires the real parts chosen by the config; tests and the demo pass a
``pin_factory`` (gpiozero MockFactory) and, for the ``dummy`` connector, get the FakePrinter
back on ``app.fake_printer`` to run it out of paper or unplug it.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appliance.bus import Bus
from appliance.clock import Clock, SystemClock
from appliance.config import UnitConfig
from appliance.config.dispenser import DispenserSection
from appliance.dispenser.controls import Controls, button_names
from appliance.dispenser.health import Health
from appliance.dispenser.service import Dispenser
from appliance.health import attach_health
from appliance.i18n import tr
from appliance.ticketing.outbox import Outbox
from appliance.ticketing.printing import escpos_cache as set_escpos_cache
from appliance.ticketing.printing import job_builder
from appliance.ticketing.printing import printable_width as printer_width
from appliance.ticketing.printing import warm_up as warm_tickets
from appliance.ticketing.sync import Syncer
from appliance.watchdog import Heartbeat, watch

if TYPE_CHECKING:
    from drivers.gpio import ButtonPanel, StatusLights
    from drivers.printer import FakePrinter

log = logging.getLogger(__name__)


def section_of(config: UnitConfig) -> DispenserSection:
    config.require_role("dispenser")
    return config.dispenser or DispenserSection()


def printable_width(section: DispenserSection) -> int:
    """Dots across the paper: the config's, or the profile's if it is narrower."""
    return printer_width(section.printer)


def escpos_cache(config: UnitConfig) -> None:
    set_escpos_cache(config.data_path)


@dataclass
class DispenserApp:
    config: UnitConfig
    bus: Bus
    dispenser: Dispenser
    controls: Controls
    syncer: Syncer
    outbox: Outbox
    panel: ButtonPanel | None
    lights: StatusLights | None
    fake_printer: FakePrinter | None
    pin_factory: Any
    heartbeat: Heartbeat

    def start(self) -> None:
        self.dispenser.health.publish()
        self.bus.start()
        self.controls.start()
        self.syncer.start()

    def stop(self) -> None:
        self.controls.stop()
        self.heartbeat.stop()
        self.syncer.stop()
        if self.panel is not None:
            self.panel.close()
        if self.lights is not None:
            self.lights.close()
        self.bus.stop()
        self.outbox.close()


def build_dispenser(
    config: UnitConfig,
    *,
    clock: Clock | None = None,
    pin_factory: Any = None,
    fake_printer: FakePrinter | None = None,
) -> DispenserApp:
    from drivers.gpio import ButtonPanel, StatusLights, make_pin_factory
    from drivers.printer import FakePrinter, TicketPrinter, make_link

    section = section_of(config)
    pconf = section.printer
    escpos_cache(config)
    width = printable_width(section)
    clock = clock or SystemClock()
    if pconf.connector.type == "dummy" and fake_printer is None:
        fake_printer = FakePrinter(paper=pconf.connector.paper)
    factory = pin_factory if pin_factory is not None else make_pin_factory(section.pin_factory)

    bus = Bus(site=config.site, unit=config.unit, role="dispenser", broker=config.broker,
              clock=clock, status_interval_s=config.status_interval_s)
    attach_health(bus, config.data_path)
    outbox = Outbox(config.data_path / "dispenser.sqlite")
    lights = (StatusLights(section.leds.pins(), active_high=section.leds.active_high,
                           pin_factory=factory) if section.leds.pins() else None)
    health = Health(bus, lights, width=width, paper_sensor=pconf.paper_sensor)
    printer = TicketPrinter(lambda: make_link(pconf, fake_printer),
                            paper_sensor=pconf.paper_sensor,
                            status_timeout_s=pconf.status_timeout_s)

    dispenser = Dispenser(unit=config.unit, section=section, bus=bus, printer=printer,
                          build_job=job_builder(pconf), outbox=outbox, clock=clock,
                          health=health, public_url=config.public_url)
    dispenser.attach()
    heartbeat = watch(bus, "dispenser-worker", config.data_path)
    controls = Controls(dispenser, section, beat=heartbeat.beat)
    panel = None
    names = button_names(section)
    if names:
        panel = ButtonPanel(names, on_press=controls.on_button,
                            on_long_press=controls.long_press_actions(),
                            debounce_s=section.debounce_s, long_press_s=section.long_press_s,
                            pull_up=section.pull_up, pin_factory=factory)
    syncer = Syncer(dispenser, interval_s=section.sync_interval_s,
                    poll_interval_s=pconf.poll_interval_s)
    warm_up(dispenser, width)
    return DispenserApp(config, bus, dispenser, controls, syncer, outbox, panel, lights,
                        fake_printer, factory, heartbeat)


def warm_up(dispenser: Dispenser, width: int) -> None:
    """Load fonts and python-escpos now, so the first citizen does not wait for imports."""
    warm_tickets(dispenser.build_job, dispenser.conf.ticket, width)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from appliance.runtime import add_common_arguments

    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from appliance.runtime import load_from_args, wait_for_signal

    config = load_from_args(args)
    app = build_dispenser(config)
    app.start()
    log.info(tr("máy lấy số %s đã chạy (%d nút)", "dispenser %s started (%d buttons)"), config.unit,
             len(app.panel.names()) if app.panel else 0)
    try:
        wait_for_signal()
    finally:
        app.stop()
    return 0
