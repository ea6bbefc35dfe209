"""The demo's touch lookup kiosk: a window to use by hand, or PNG frames of a scripted visit.

Live: ``motcua lookup --windowed`` in its own process (pygame has one window per process)
with a serial scanner on a pty; a few seconds after start the demo "scans" a receipt
through it, and the code/secret are logged so a person can type them too.
Headless: the real kiosk app in this process on an off-screen surface, driven by touches
on its own layout and by a fake USB scanner (evdev's real reader); every new screen is
saved in ``<out>/lookup-1/`` (search "ddawng kys khai sinh" with the on-screen keyboard,
a procedure page dragged, a dossier typed in, then the same dossier scanned, then a
priority ticket taken on "Lấy số thứ tự" and printed on the demo's fake printer, saved as
``ticket-<number>.png``). The demo terminal has a (dummy) printer in both modes.

The dossiers come from the demo store: the QR codes on the receipts the store plug-in
printed are decoded (zxing-cpp) and "scanned"; with no store plug-in configured, this
plug-in runs the site's store itself and adds one dossier.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import tomllib
import tty
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from appliance.config import parse_unit_config
from appliance.contract import decode
from appliance.core.dossier_code import parse_scan
from appliance.errors import ContractError
from appliance.i18n import tr
from appliance.lookup.state import LookupState, Screen
from display.lookup import layout
from drivers.touch import Pointer

if TYPE_CHECKING:
    from pathlib import Path

    from appliance.bus import Message
    from appliance.demo.office import Office
    from appliance.lookup.app import LookupApp
    from appliance.lookup.bootstrap import LookupUnit
    from appliance.store.bootstrap import StoreUnit

log = logging.getLogger("demo.lookup")
UNIT = "lookup-1"
SCAN_AFTER_S = 8.0  # live mode: time for a person to see the window before the scan
# the demo terminal prints tickets too, on a printer kept in memory
DEMO_PRINTER: dict[str, Any] = {"connector": {"type": "dummy"}}


def _store(office: Office) -> tuple[StoreUnit | None, bool]:
    """(a store unit we may add a demo dossier to, whether this plug-in started it)."""
    from appliance.demo.office import PLUGINS

    if "store" in PLUGINS or not (office.site_dir / "store.toml").exists():
        return None, False  # the store plug-in runs it and prints receipts we can scan
    from appliance.store.bootstrap import build_store

    own = build_store(office.unit_config("store"), clock=office.clock, http=False)
    own.start()
    own.bus.wait_connected(10)
    return own, True


def _created(store: StoreUnit) -> list[str]:
    from appliance.store.models import DossierIn, StageMove

    try:
        d = store.store.dossiers.create(DossierIn(
            procedure_code=store.store.catalogue.page(0, 1)[0]["code"],
            applicant_name="Nguyễn Thị Demo", missing=[]), "demo")
        store.store.dossiers.move_stage(d["code"], StageMove(stage="processing"), "demo")
    except Exception:  # the demo goes on without a dossier; the reason is logged
        log.exception(tr("không thêm được hồ sơ mẫu vào kho hồ sơ",
                         "could not add a demo dossier to the store"))
        return []
    return [f"{d['code']}/{d['secret']}"]


def _receipts(office: Office) -> list[str]:
    """What the QR codes on the store plug-in's printed receipts say (a scan, simulated)."""
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:
        log.warning(tr("chưa cài zxing-cpp: bản chạy thử không có giấy tiếp nhận để quét",
                       "zxing-cpp is not installed: no receipts to scan in the demo"))
        return []
    texts = []
    for path in sorted((office.out_dir / "store").glob("receipt-*.png")):
        with Image.open(path) as img:
            texts += [r.text for r in zxingcpp.read_barcodes(img)
                      if r.format == zxingcpp.BarcodeFormat.QRCode]
    return texts


def _demo_scans(office: Office, store: StoreUnit | None) -> list[str]:
    scans = _created(store) if store is not None else _receipts(office)
    if not scans:
        log.warning(tr("không có hồ sơ mẫu để tra: máy tra cứu sẽ báo không tìm thấy",
                       "no demo dossier to look up: the kiosk will show 'not found'"))
    return scans


def _config(office: Office, **scanner: Any) -> Any:
    path = office.site_dir / f"{UNIT}.toml"
    raw = tomllib.loads(path.read_text("utf-8"))
    raw["unit"] = UNIT
    section = dict(raw.get("lookup", {}))
    section["scanner"] = {**section.get("scanner", {}), **scanner}
    section["fullscreen"] = False
    section.setdefault("printer", DEMO_PRINTER)
    raw["lookup"] = section
    return parse_unit_config(raw, source=path, broker_url=office.broker_url)


class Visitor:
    """A person at the kiosk: taps the centres of the buttons the kiosk itself laid out."""

    def __init__(self, app: LookupApp) -> None:
        self.app = app

    def wait(self, done: Callable[[LookupState], bool], what: str, timeout: float = 10) -> None:
        if not self.app.run_until(done, timeout):
            raise RuntimeError(tr(
                f"máy tra cứu không tới được: {what} (đang ở {self.app.state.screen})",
                f"the kiosk did not reach: {what} (at {self.app.state.screen})"))

    def tap(self, kind: str, value: str = "") -> None:
        for b in layout(self.app.state, self.app.view):
            if b.target.kind == kind and (not value or b.target.value == value):
                x, y = b.rect.x + b.rect.w / 2, b.rect.y + b.rect.h / 2
                before = self.app.state

                def changed(s: LookupState, was: LookupState = before) -> bool:
                    return s is not was

                self.app.post(Pointer("down", x, y, time.monotonic()))
                self.app.post(Pointer("up", x, y, time.monotonic()))
                self.wait(changed, f"after tapping {kind} {value}")
                return
        raise RuntimeError(f"no {kind} {value!r} on the {self.app.state.screen} screen")

    def shown(self, kind: str, value: str) -> bool:
        return any(b.target.kind == kind and b.target.value == value
                   for b in layout(self.app.state, self.app.view))

    def tap_sector(self, name: str) -> None:
        for _ in range(20):  # page down through the sectors until it shows
            if self.shown("sector", name) or not self.shown("sector_page", "1"):
                break
            self.tap("sector_page", "1")
        self.tap("sector", name)

    def type_keys(self, text: str) -> None:
        for ch in text:
            if ch == " ":
                self.tap("space")
            else:
                self.tap("key", ch)

    def drag(self, dy: int) -> None:
        x, y = self.app.view.width / 2, self.app.view.height * 0.7
        self.app.post(Pointer("down", x, y, 0.0))
        for step in range(1, 11):
            self.app.post(Pointer("move", x, y + dy * step / 10, 0.01 * step))
        self.app.post(Pointer("up", x, y + dy, 0.2))
        self.app.step_once()


def _visit(app: LookupApp, scan: Callable[[str], None], scans: list[str]) -> None:
    v = Visitor(app)
    v.wait(lambda s: not s.catalogue.empty, "the catalogue from the store", 20)
    v.tap("procedures")
    sectors = app.state.sector_list
    v.tap_sector("Hộ tịch" if "Hộ tịch" in sectors else sectors[0])
    v.tap("procedure")
    v.drag(-300)
    v.tap("back")
    v.tap("search")
    v.type_keys("ddawng kys khai sinh")
    log.info(tr("máy tra cứu tìm %r thấy %r", "kiosk search %r shows %r"), app.state.query,
             [p["name"] for p in app.state.results][:3])
    v.tap("submit")
    if app.state.results:
        v.tap("procedure", str(app.state.results[0]["code"]))
    v.tap("home")
    typed = parse_scan(scans[0]) if scans else None
    code, secret = (typed.code, typed.secret) if typed else ("000.00.06.G04-261130-9999",
                                                              "ABCDEF")
    v.tap("dossier")
    v.type_keys(code)
    v.tap("submit")
    v.type_keys(secret)
    v.tap("submit")
    v.wait(lambda s: s.screen in (Screen.DOSSIER_RESULT, Screen.ERROR), "the typed lookup")
    log.info(tr("máy tra cứu, gõ mã %s: %s",
                "kiosk typed lookup of %s: %s"), code, app.state.screen.value)
    v.tap("home")
    scanned = scans[-1] if scans else f"{code}/{secret}"
    scan(scanned + "\n")
    v.wait(lambda s: s.screen in (Screen.DOSSIER_RESULT, Screen.ERROR), "the scanned lookup")
    log.info(tr("máy tra cứu, quét %s: %s",
                "kiosk scanned %s: %s"), scanned, app.state.screen.value)


def _take_ticket(unit: LookupUnit, folder: Path) -> None:
    """A priority ticket through the "Lấy số thứ tự" screens; the paper saved as a PNG."""
    v = Visitor(unit.app)
    v.tap("home")
    # the hub's site info came long ago if there is a hub; without one, do not hold the demo
    if not unit.app.run_until(lambda s: bool(s.desk.services), 1):
        log.info(tr("ki-ốt: hub chưa gửi dịch vụ nào, không lấy số",
                    "kiosk: no services from the hub, no ticket taken"))
        return
    v.tap("take")
    v.tap("take_service")
    if unit.app.state.desk.categories:
        v.tap("category", unit.app.state.desk.categories[0])
    v.tap("print")
    v.wait(lambda s: s.screen is not Screen.TICKET_PRINTING, "the ticket printed", 30)
    ticket = unit.app.state.ticket
    fake = unit.tickets.fake_printer if unit.tickets else None
    if ticket is None or fake is None or not fake.printed:
        log.info(tr("ki-ốt: không cấp được số: %s", "kiosk ticket not issued: %s"),
                 unit.app.state.error)
        return
    from drivers.printer import decode as escpos

    paper = escpos.printed_image(bytes(fake.received))
    path = folder / f"ticket-{ticket.number}.png"
    paper.save(path)  # type: ignore[attr-defined]
    log.info(tr("ki-ốt đã in phiếu %s (%s)", "kiosk printed ticket %s (%s)"), ticket.number, path)


def _headless(office: Office, scans: list[str]) -> Callable[[], None]:
    import pygame

    from appliance.lookup.bootstrap import build_lookup
    from drivers.evdev_fake import FakeUsbPort

    port = FakeUsbPort(name="Demo receipt scanner", vendor=0x0C2E, product=0x0B61)
    config = _config(office, kind="hid", device=port.path)
    assert config.lookup is not None
    pygame.init()
    surface = pygame.Surface((config.lookup.width, config.lookup.height))
    unit = build_lookup(config, clock=office.clock, surface=surface,
                        frames_dir=office.out_dir / UNIT, scanner_opener=port.open)
    unit.start()
    try:
        _visit(unit.app, port.type_text, scans)
        _take_ticket(unit, office.out_dir / UNIT)
    except RuntimeError as exc:
        log.error(tr("lượt dùng thử máy tra cứu dừng: %s", "the kiosk visit stopped: %s"), exc)
    if unit.frames is not None:
        log.info(tr("ảnh máy tra cứu: %d tệp PNG trong %s",
                    "kiosk frames: %d PNGs in %s"), len(unit.frames.written), unit.frames.folder)
    # the kiosk stays on for the rest of the simulated morning: its idle timeout wipes the
    # last dossier off the screen (one more frame) as the simulated clock moves on
    stop_loop = threading.Event()
    loop = threading.Thread(target=unit.run, args=(stop_loop,), name="demo-lookup",
                            daemon=True)
    loop.start()

    def stop() -> None:
        stop_loop.set()
        loop.join(timeout=5)
        unit.stop()

    return stop


def _live(office: Office, scans: list[str]) -> Callable[[], None]:
    master, slave = os.openpty()
    tty.setraw(master)
    config_file = office.site_dir / f"{UNIT}-demo.toml"
    text = (office.site_dir / f"{UNIT}.toml").read_text("utf-8")
    text = f'unit = "{UNIT}"\n' + text.replace("fullscreen = true", "fullscreen = false")
    text = text.replace('kind = "none"', f'kind = "serial"\ndevice = "{os.ttyname(slave)}"', 1)
    text += '\n[lookup.printer]\nconnector = { type = "dummy" }\n'  # tickets on screen too
    config_file.write_text(text, "utf-8")
    # the kiosk says when its scanner is open (its retained status): a scan written to the
    # pty before that may be flushed away when the port opens, on a slow or busy machine
    listening = threading.Event()
    watch = office.bus_for("demo-lookup-watch", "board")

    def on_status(msg: Message) -> None:
        try:
            status = decode(msg.payload)
        except ContractError:
            return
        if status.get("state") in ("ready", "alert") and "scanner_unplugged" not in (
                status.get("reasons") or []):
            listening.set()

    watch.subscribe(watch.topics.status(UNIT), on_status)
    proc = subprocess.Popen([sys.executable, "-m", "appliance.cli", "lookup", "--config",
                             str(config_file), "--broker", office.broker_url, "--windowed"])
    if scans:
        for text in scans:
            found = parse_scan(text)
            if found:
                log.info(tr("cửa sổ máy tra cứu: thử mã hồ sơ %s, mã tra cứu %s",
                            "kiosk window: try code %s, Mã tra cứu %s"), found.code, found.secret)

        def scan_later() -> None:
            listening.wait(60)
            time.sleep(SCAN_AFTER_S)
            if proc.poll() is None:
                os.write(master, f"{scans[-1]}\r\n".encode())
                log.info(tr("demo: đã quét một giấy tiếp nhận tại máy tra cứu (%s)",
                            "demo: a receipt was scanned at the kiosk (%s)"), scans[-1])

        threading.Thread(target=scan_later, name="demo-scan", daemon=True).start()

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(master)
        os.close(slave)

    return stop


def attach(office: Office) -> Callable[[], None]:
    if not (office.site_dir / f"{UNIT}.toml").exists():
        return lambda: None
    store, own = _store(office)
    scans = _demo_scans(office, store)
    stop_kiosk = _headless(office, scans) if office.headless else _live(office, scans)

    def stop() -> None:
        stop_kiosk()
        if own and store is not None:
            store.stop()

    return stop
