"""Composition root of the lookup kiosk: ``motcua lookup --config lookup-1.toml``.

``build_lookup`` wires the bus, the store client, the catalogue cache, the screen and
the input devices chosen by config; tests and the demo pass fakes for the devices
(``scanner_opener``, ``touch_opener``) and an off-screen surface.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.bus import Bus
from appliance.clock import Clock, SystemClock
from appliance.config import UnitConfig
from appliance.config.lookup import LookupSection
from appliance.errors import DeviceError
from appliance.health import attach_health
from appliance.i18n import tr
from appliance.lookup.app import FrameWriter, LookupApp
from appliance.lookup.service import CatalogueSync, StoreClient, UnitStatus
from appliance.lookup.state import Settings
from appliance.runtime import add_common_arguments, load_from_args
from appliance.watchdog import watch
from display.lookup import View

if TYPE_CHECKING:
    import pygame

    from appliance.lookup.ticket_desk import TicketDesk
    from appliance.ticketing.outbox import Outbox
    from appliance.ticketing.sync import Syncer
    from drivers.evdev_input import Opener
    from drivers.printer import FakePrinter

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--windowed", action="store_true", help=tr(
        "một cửa sổ thay vì toàn màn hình (máy tính để bàn)",
        "a window instead of full screen (a desktop)"))
    parser.add_argument("--headless", action="store_true", help=tr(
        "không có màn hình (SDL dummy); dùng cùng --frames",
        "no screen at all (SDL dummy driver); use with --frames"))
    parser.add_argument("--frames", metavar=tr("THƯ_MỤC", "DIR"), help=tr(
        "lưu mỗi màn hình mới thành ảnh PNG trong THƯ_MỤC",
        "save every new screen as a PNG in DIR"))


def section_of(config: UnitConfig) -> LookupSection:
    config.require_role("lookup")
    return config.lookup or LookupSection()


def open_display(section: LookupSection, *, headless: bool, windowed: bool) -> pygame.Surface:
    """The screen: KMSDRM full screen on a Pi, a window on a desktop, dummy when headless."""
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    elif section.video_driver:
        os.environ["SDL_VIDEODRIVER"] = section.video_driver
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    try:
        pygame.display.init()
        flags = pygame.FULLSCREEN if section.fullscreen and not (windowed or headless) else 0
        surface = pygame.display.set_mode((section.width, section.height), flags)
    except pygame.error as exc:
        raise DeviceError(tr(
            f"không mở được màn hình ({exc}); trên Pi không có giao diện đồ hoạ, đặt "
            "[lookup] video_driver = \"kmsdrm\" và chạy dịch vụ trên một tty",
            f"cannot open the screen ({exc}); on a Pi without a desktop set "
            "[lookup] video_driver = \"kmsdrm\" and start the service on a tty")) from exc
    pygame.display.set_caption("motcua – tra cứu")
    if flags:
        pygame.mouse.set_visible(False)
    return surface


@dataclass
class Tickets:
    """The ticket printer's part of a terminal (only with ``[lookup.printer]``)."""

    desk: TicketDesk
    syncer: Syncer
    outbox: Outbox
    fake_printer: FakePrinter | None


@dataclass
class LookupUnit:
    config: UnitConfig
    bus: Bus
    status: UnitStatus
    sync: CatalogueSync
    app: LookupApp
    devices: list[Any] = field(default_factory=list)
    frames: FrameWriter | None = None
    tickets: Tickets | None = None

    def start(self) -> None:
        # subscribe before connecting: the subscription is then part of every (re)connect
        self.sync.start()
        self.bus.start()
        self.status.publish()
        if self.tickets is not None:
            self.tickets.syncer.start()
        for device in self.devices:
            device.start()

    def run(self, stop: threading.Event) -> None:
        self.app.run(stop)

    def stop(self) -> None:
        for device in self.devices:
            device.stop()
        self.sync.stop()
        if self.tickets is not None:
            self.tickets.syncer.stop()
        self.app.close()
        self.bus.stop()
        if self.tickets is not None:
            self.tickets.outbox.close()


def build_lookup(
    config: UnitConfig,
    *,
    clock: Clock | None = None,
    surface: pygame.Surface | None = None,
    headless: bool = False,
    windowed: bool = False,
    frames_dir: Path | None = None,
    scanner_opener: Opener | None = None,
    touch_opener: Opener | None = None,
    fake_printer: FakePrinter | None = None,
) -> LookupUnit:
    section = section_of(config)
    clock = clock or SystemClock()
    bus = Bus(site=config.site, unit=config.unit, role="lookup", broker=config.broker,
              clock=clock, status_interval_s=config.status_interval_s)
    attach_health(bus, config.data_path)
    status = UnitStatus(bus)
    store = StoreClient(bus, status, timeout_s=section.lookup_timeout_s)
    present = None
    if surface is None:
        import pygame

        surface = open_display(section, headless=headless, windowed=windowed)
        present = pygame.display.flip  # the display surface shows only once flipped
    view = View(surface.get_width(), surface.get_height(), section.min_target_px)
    frames = FrameWriter(frames_dir) if frames_dir else None
    tickets = _tickets(config, section, bus, status, clock, fake_printer)
    settings = Settings(idle_timeout_s=section.idle_timeout_s,
                        dossier_timeout_s=section.dossier_timeout_s,
                        lookup_timeout_s=section.lookup_timeout_s, telex=section.telex,
                        tickets=tickets is not None)
    holder: dict[str, LookupApp] = {}
    sync = CatalogueSync(bus, store, status, config.data_path / section.catalogue_file,
                         clock=clock, page_size=section.page_size,
                         on_catalogue=lambda c: holder["app"].new_catalogue(c))
    app = LookupApp(settings=settings, view=view, title=section.title, clock=clock,
                    catalogue=sync.current, lookup=store.lookup, surface=surface,
                    sdl_touch=section.touch.source == "sdl", on_frame=frames,
                    present=present,
                    beat=watch(bus, "lookup-screen", config.data_path).beat,
                    issue=tickets.desk.issue if tickets else None)
    holder["app"] = app
    store.on_no_answer = sync.nudge
    if tickets is not None:
        tickets.desk.on_desk = app.new_desk
        app.new_desk(tickets.desk.desk())  # the cached site info: services before the hub
    unit = LookupUnit(config, bus, status, sync, app, frames=frames, tickets=tickets)
    unit.devices.extend(_devices(section, app, status, scanner_opener, touch_opener, view))
    return unit


def _tickets(config: UnitConfig, section: LookupSection, bus: Bus, status: UnitStatus,
             clock: Clock, fake_printer: FakePrinter | None) -> Tickets | None:
    """The printer, the outbox and the desk that issues tickets, when a printer is set."""
    pconf = section.printer
    if pconf is None:
        return None
    from appliance.lookup.ticket_desk import TicketDesk, TicketHealth
    from appliance.ticketing import printing
    from appliance.ticketing.outbox import TERMINAL, Outbox
    from appliance.ticketing.sync import Syncer
    from drivers.printer import FakePrinter, TicketPrinter, make_link

    printing.escpos_cache(config.data_path)
    width = printing.printable_width(pconf)
    if pconf.connector.type == "dummy" and fake_printer is None:
        fake_printer = FakePrinter(paper=pconf.connector.paper)
    printer = TicketPrinter(lambda: make_link(pconf, fake_printer),
                            paper_sensor=pconf.paper_sensor,
                            status_timeout_s=pconf.status_timeout_s)
    outbox = Outbox(config.data_path / "tickets.sqlite", TERMINAL)
    health = TicketHealth(status, paper_sensor=pconf.paper_sensor)
    build_job = printing.job_builder(pconf)
    desk = TicketDesk(unit=config.unit, bus=bus, printer=printer, build_job=build_job,
                      layout=section.ticket, width=width, outbox=outbox, clock=clock,
                      health=health, hub_timeout_s=section.hub_timeout_s,
                      hub_unit=section.hub_unit, public_url=config.public_url)
    desk.attach()
    syncer = Syncer(desk, interval_s=section.sync_interval_s,
                    poll_interval_s=pconf.poll_interval_s, name="lookup-ticket-sync")
    printing.warm_up(build_job, section.ticket, width)
    return Tickets(desk, syncer, outbox, fake_printer)


def _devices(section: LookupSection, app: LookupApp, status: UnitStatus,
             scanner_opener: Opener | None, touch_opener: Opener | None,
             view: View) -> list[Any]:
    devices: list[Any] = []
    sc = section.scanner

    def presence(reason: str) -> Any:
        status.set(reason, True)  # until the device is open: an empty kiosk is not "ready"
        return lambda present: status.set(reason, not present)

    if sc.kind == "hid":
        from drivers.scanner import HidScanner
        from drivers.touch import opener_for

        devices.append(HidScanner(scanner_opener or opener_for(str(sc.device)), app.scan,
                                  layout=sc.layout, stale_after_s=sc.stale_after_s,
                                  on_presence=presence("scanner_unplugged")))
    elif sc.kind == "serial":
        from drivers.scanner import SerialScanner

        devices.append(SerialScanner(str(sc.device), app.scan, baudrate=sc.baudrate,
                                     stale_after_s=sc.stale_after_s,
                                     on_presence=presence("scanner_unplugged")))
    if section.touch.source == "evdev":
        from drivers.touch import EvdevTouch, opener_for

        devices.append(EvdevTouch(touch_opener or opener_for(str(section.touch.device)),
                                  section.touch, (view.width, view.height), app.post,
                                  on_presence=presence("touch_unplugged")))
    return devices


def run(args: argparse.Namespace) -> int:
    config = load_from_args(args)
    unit = build_lookup(config, headless=args.headless, windowed=args.windowed,
                        frames_dir=Path(args.frames) if args.frames else None)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    unit.start()
    try:
        unit.run(stop)
    finally:
        unit.stop()
    return 0
