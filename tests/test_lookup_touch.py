"""Touch sequences into the running kiosk loop: through evdev's reader and through SDL events."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import pygame
import pytest
from evdev import ecodes

from appliance.clock import VN_TZ, ManualClock
from appliance.config.lookup import Calibration, TouchConfig
from appliance.lookup import sample
from appliance.lookup.app import LookupApp
from appliance.lookup.state import Screen, Settings, Target
from display.lookup import View, layout
from drivers.evdev_fake import FakeUsbPort
from drivers.touch import EvdevTouch, MultiTouchDecoder, Pointer

W, H = 1280, 800
VIEW = View(W, H, 89)
NOW = datetime(2026, 11, 30, 9, 41, tzinfo=VN_TZ)


def make_app(surface: pygame.Surface, *, sdl: bool) -> LookupApp:
    return LookupApp(settings=Settings(), view=VIEW, title="Demo", clock=ManualClock(NOW),
                     catalogue=sample.catalogue(), lookup=lambda c, s: None, surface=surface,
                     sdl_touch=sdl, sdl_keys=sdl)


def centre(app: LookupApp, kind: str, value: str = "") -> tuple[float, float]:
    for b in layout(app.state, VIEW):
        if b.target == Target(kind, value):
            return b.rect.x + b.rect.w / 2, b.rect.y + b.rect.h / 2
    raise AssertionError(f"no {kind} {value} on {app.state.screen}")


# ---- evdev (multi-touch protocol B) --------------------------------------------------
RAW = Calibration(min_x=0, max_x=4095, min_y=0, max_y=4095)


def raw_of(x: float, y: float) -> tuple[int, int]:
    return round(x / (W - 1) * 4095), round(y / (H - 1) * 4095)


class Finger:
    def __init__(self, port: FakeUsbPort, slot: int, tracking: int) -> None:
        self.port, self.slot, self.tracking = port, slot, tracking

    def _pos(self, x: float, y: float) -> None:
        rx, ry = raw_of(x, y)
        self.port.inject(ecodes.EV_ABS, ecodes.ABS_MT_SLOT, self.slot)
        self.port.inject(ecodes.EV_ABS, ecodes.ABS_MT_POSITION_X, rx)
        self.port.inject(ecodes.EV_ABS, ecodes.ABS_MT_POSITION_Y, ry)

    def down(self, x: float, y: float) -> None:
        self.port.inject(ecodes.EV_ABS, ecodes.ABS_MT_SLOT, self.slot)
        self.port.inject(ecodes.EV_ABS, ecodes.ABS_MT_TRACKING_ID, self.tracking)
        self._pos(x, y)
        self.port.inject(ecodes.EV_KEY, ecodes.BTN_TOUCH, 1)
        self.port.syn()

    def move(self, x: float, y: float) -> None:
        self._pos(x, y)
        self.port.syn()

    def up(self) -> None:
        self.port.inject(ecodes.EV_ABS, ecodes.ABS_MT_SLOT, self.slot)
        self.port.inject(ecodes.EV_ABS, ecodes.ABS_MT_TRACKING_ID, -1)
        self.port.syn()


@pytest.fixture
def evdev_app() -> Iterator[tuple[LookupApp, FakeUsbPort, EvdevTouch]]:
    pygame.init()
    app = make_app(pygame.Surface((W, H)), sdl=False)
    port = FakeUsbPort(name="Fake touch panel", vendor=0x222A, product=0x0001)
    cfg = TouchConfig(source="evdev", device=port.path, calibration=RAW)
    touch = EvdevTouch(port.open, cfg, (W, H), app.post)
    touch.start()
    assert touch.reader.wait_present(2.0)
    yield app, port, touch
    touch.stop()
    app.close()


def test_evdev_taps_walk_through_screens(evdev_app) -> None:
    app, port, _ = evdev_app
    app.step_once()
    finger = Finger(port, 0, 101)
    finger.down(*centre(app, "procedures"))
    finger.up()
    assert app.run_until(lambda s: s.screen is Screen.PROCEDURES, 2.0)
    finger.down(*centre(app, "sector", "Hộ tịch"))
    finger.up()
    assert app.run_until(lambda s: s.sector == "Hộ tịch", 2.0)
    finger.down(*centre(app, "procedure", "1.001193"))
    finger.up()
    assert app.run_until(lambda s: s.screen is Screen.DETAIL, 2.0)


def test_evdev_drag_scrolls_the_detail_page_and_presses_nothing(evdev_app) -> None:
    app, port, _ = evdev_app
    from appliance.lookup.state import Tap
    app.post(Tap(Target("procedures")))
    app.post(Tap(Target("procedure", "1.001193")))
    app.step_once()
    assert app.state.screen is Screen.DETAIL
    finger = Finger(port, 0, 7)
    finger.down(600, 600)
    for y in range(580, 300, -20):
        finger.move(600, y)
    finger.up()
    assert app.run_until(lambda s: s.scroll >= 250, 2.0), app.state.scroll
    assert app.state.screen is Screen.DETAIL


def test_evdev_second_finger_is_ignored(evdev_app) -> None:
    app, port, _ = evdev_app
    app.step_once()
    first, second = Finger(port, 0, 1), Finger(port, 1, 2)
    first.down(20, 20)  # on the header: nothing there
    second.down(*centre(app, "procedures"))  # a palm on the big button
    second.up()
    first.up()
    time.sleep(0.2)
    app.step_once()
    assert app.state.screen is Screen.HOME


@pytest.mark.parametrize(
    ("rotation", "swap", "inv_x", "inv_y", "raw", "screen"),
    [
        (0, False, False, False, (0, 0), (0, 0)),
        (0, False, False, False, (4095, 4095), (W - 1, H - 1)),
        (0, False, True, False, (0, 0), (W - 1, 0)),
        (0, True, False, False, (4095, 0), (0, H - 1)),
        (180, False, False, False, (0, 0), (W - 1, H - 1)),
        (90, False, False, False, (0, 0), (W - 1, 0)),
        (270, False, False, False, (0, 0), (0, H - 1)),
        (0, False, False, True, (2048, 4095), (640, 0)),
    ],
)
def test_calibration_and_rotation(rotation, swap, inv_x, inv_y, raw, screen) -> None:
    cfg = TouchConfig(source="evdev", device="x", rotation=rotation, swap_xy=swap,
                      invert_x=inv_x, invert_y=inv_y, calibration=RAW)
    x, y = MultiTouchDecoder(cfg, (W, H)).to_screen(*raw)
    assert abs(x - screen[0]) <= 1 and abs(y - screen[1]) <= 1


def test_decoder_reports_down_move_up_of_the_first_finger() -> None:
    cfg = TouchConfig(source="evdev", device="x", calibration=RAW)
    dec = MultiTouchDecoder(cfg, (W, H))
    A, S = ecodes.EV_ABS, ecodes.EV_SYN
    seq = [(A, ecodes.ABS_MT_SLOT, 0), (A, ecodes.ABS_MT_TRACKING_ID, 5),
           (A, ecodes.ABS_MT_POSITION_X, 0), (A, ecodes.ABS_MT_POSITION_Y, 0), (S, 0, 0),
           (A, ecodes.ABS_MT_POSITION_X, 4095), (S, 0, 0),
           (A, ecodes.ABS_MT_TRACKING_ID, -1), (S, 0, 0)]
    out = [p for e in seq if (p := dec.feed(*e, t=1.0)) is not None]
    assert [p.kind for p in out] == ["down", "move", "up"]
    assert out[1] == Pointer("move", W - 1, 0.0, 1.0)


def test_touch_panel_unplug_and_replug(evdev_app) -> None:
    app, port, touch = evdev_app
    app.step_once()
    port.unplug()
    deadline = time.monotonic() + 2
    while touch.reader.present and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not touch.reader.present
    port.plug()
    assert touch.reader.wait_present(3.0)
    finger = Finger(port, 0, 9)
    finger.down(*centre(app, "dossier"))
    finger.up()
    assert app.run_until(lambda s: s.screen is Screen.DOSSIER_ENTRY, 2.0)


# ---- SDL events -----------------------------------------------------------------------
@pytest.fixture
def sdl_app() -> Iterator[LookupApp]:
    pygame.display.init()
    surface = pygame.display.set_mode((W, H))
    pygame.event.clear()
    app = make_app(surface, sdl=True)
    yield app
    app.close()
    pygame.display.quit()


def finger(kind: int, x: float, y: float, fid: int = 0) -> pygame.event.Event:
    return pygame.event.Event(kind, touch_id=1, finger_id=fid, x=x / W, y=y / H, dx=0.0,
                              dy=0.0, pressure=1.0)


def test_sdl_finger_events_drive_the_kiosk(sdl_app: LookupApp) -> None:
    app = sdl_app
    app.step_once()
    x, y = centre(app, "dossier")
    pygame.event.post(finger(pygame.FINGERDOWN, x, y))
    # SDL's copy of the touch as a mouse click must not press a second time
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(int(x), int(y)),
                                         button=1, touch=True))
    pygame.event.post(finger(pygame.FINGERUP, x, y))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(int(x), int(y)),
                                         button=1, touch=True))
    assert app.run_until(lambda s: s.screen is Screen.DOSSIER_ENTRY, 2.0)
    for ch in "12":
        kx, ky = centre(app, "key", ch)
        pygame.event.post(finger(pygame.FINGERDOWN, kx, ky))
        pygame.event.post(finger(pygame.FINGERUP, kx, ky))
    assert app.run_until(lambda s: s.code == "12", 2.0), app.state.code


def test_sdl_mouse_clicks_and_keyboard_on_a_desktop(sdl_app: LookupApp) -> None:
    app = sdl_app
    app.step_once()
    x, y = centre(app, "procedures")
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(int(x), int(y)),
                                         button=1, touch=False))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(int(x), int(y)),
                                         button=1, touch=False))
    assert app.run_until(lambda s: s.screen is Screen.PROCEDURES, 2.0)
    x, y = centre(app, "search")
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(int(x), int(y)),
                                         button=1, touch=False))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(int(x), int(y)),
                                         button=1, touch=False))
    assert app.run_until(lambda s: s.screen is Screen.SEARCH, 2.0)
    pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text="khai sinh"))
    assert app.run_until(lambda s: bool(s.results), 2.0)
    assert app.state.results[0]["name"] == "Đăng ký khai sinh"


def test_sdl_drag_scrolls(sdl_app: LookupApp) -> None:
    app = sdl_app
    from appliance.lookup.state import Tap
    app.post(Tap(Target("procedures")))
    app.post(Tap(Target("procedure", "1.001193")))
    app.step_once()
    pygame.event.post(finger(pygame.FINGERDOWN, 600, 600))
    for y in range(580, 380, -20):
        pygame.event.post(finger(pygame.FINGERMOTION, 600, y))
    pygame.event.post(finger(pygame.FINGERUP, 600, 380))
    assert app.run_until(lambda s: s.scroll > 150, 2.0), app.state.scroll
