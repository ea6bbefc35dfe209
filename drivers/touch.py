"""Touch input for the kiosk: SDL's own touch/mouse events, or an evdev multi-touch panel.

Both paths give the same thing to the code above: :class:`Pointer` events (down / move /
up at screen pixels) for the primary finger. One path is chosen by config
(``[lookup.touch] source``):

* ``"sdl"``: pygame delivers FINGERDOWN/FINGERMOTION/FINGERUP (normalised 0..1) and
  mouse events (a desktop, or a panel SDL already understands); :func:`from_sdl` converts.
* ``"evdev"``: the panel is read directly (multi-touch protocol B: ``ABS_MT_SLOT``,
  ``ABS_MT_TRACKING_ID``, ``ABS_MT_POSITION_X/Y``, frames closed by ``SYN_REPORT``) for
  panels that report raw coordinates; :class:`MultiTouchDecoder` applies calibration and
  rotation from config. :class:`EvdevTouch` reads the device on its own thread (grabbed,
  survives unplug) through ``drivers.evdev_input.EvdevInput``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from evdev import InputEvent

    from appliance.config.lookup import TouchConfig
    from drivers.evdev_input import EvdevInput, Opener

# linux/input-event-codes.h (kept here so importing this module does not load evdev)
EV_SYN, EV_KEY, EV_ABS = 0x00, 0x01, 0x03
SYN_REPORT = 0
BTN_TOUCH = 0x14A
ABS_X, ABS_Y = 0x00, 0x01
ABS_MT_SLOT, ABS_MT_POSITION_X, ABS_MT_POSITION_Y = 0x2F, 0x35, 0x36
ABS_MT_TRACKING_ID = 0x39


@dataclass(frozen=True)
class Pointer:
    kind: Literal["down", "move", "up"]
    x: float
    y: float
    t: float  # seconds (event time): lets the gesture code tell a tap from a hold


def from_sdl(event: Any, size: tuple[int, int]) -> Pointer | None:
    """A pygame event as a Pointer, or None if it is not a touch or left-button mouse event.

    SDL also turns each touch into a mouse event (``event.touch`` is True on those): they
    are skipped so one finger never counts twice.
    """
    import pygame

    t = pygame.time.get_ticks() / 1000.0
    kinds = {pygame.FINGERDOWN: "down", pygame.FINGERMOTION: "move", pygame.FINGERUP: "up"}
    if event.type in kinds:
        if getattr(event, "finger_id", 0) not in (0, None):
            return None  # only the first finger steers; a palm elsewhere is ignored
        return Pointer(kinds[event.type], event.x * size[0], event.y * size[1], t)  # type: ignore[arg-type]
    if getattr(event, "touch", False):
        return None
    if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
        return Pointer("down", float(event.pos[0]), float(event.pos[1]), t)
    if event.type == pygame.MOUSEBUTTONUP and event.button == 1:
        return Pointer("up", float(event.pos[0]), float(event.pos[1]), t)
    if event.type == pygame.MOUSEMOTION and event.buttons and event.buttons[0]:
        return Pointer("move", float(event.pos[0]), float(event.pos[1]), t)
    return None


class MultiTouchDecoder:
    """Protocol B events → Pointer events of the primary contact, in screen pixels.

    The primary contact is the first finger down; others are tracked (so their slots do
    not confuse the first) but not reported. Coordinates are mapped through calibration
    (raw min/max → 0..1), optional axis swap/inversion, then rotation.
    """

    def __init__(self, config: TouchConfig, size: tuple[int, int]) -> None:
        self._cfg = config
        self._size = size
        cal = config.calibration
        # without calibration the panel is taken to report screen pixels (rotated size)
        w, h = (size[1], size[0]) if config.rotation in (90, 270) else size
        self._range = ((cal.min_x, cal.max_x, cal.min_y, cal.max_y) if cal
                       else (0, w - 1, 0, h - 1))
        self._slot = 0
        self._slots: dict[int, dict[str, int]] = {}
        self._primary: int | None = None
        self._down = False
        self._dirty = False
        self._last = (0.0, 0.0)

    def feed(self, etype: int, code: int, value: int, t: float) -> Pointer | None:
        if etype == EV_ABS:
            if code == ABS_MT_SLOT:
                self._slot = value
            elif code == ABS_MT_TRACKING_ID:
                if value == -1:
                    self._slots.pop(self._slot, None)
                else:
                    self._slots[self._slot] = {"id": value}
                    if self._primary is None:
                        self._primary = self._slot
            elif code in (ABS_MT_POSITION_X, ABS_MT_POSITION_Y):
                contact = self._slots.setdefault(self._slot, {"id": -2})
                contact["x" if code == ABS_MT_POSITION_X else "y"] = value
            if self._slot == self._primary or self._primary is None:
                self._dirty = True
            return None
        if etype == EV_SYN and code == SYN_REPORT:
            return self._frame(t)
        return None

    def _frame(self, t: float) -> Pointer | None:
        if not self._dirty:
            return None
        self._dirty = False
        contact = self._slots.get(self._primary) if self._primary is not None else None
        if contact is None:
            # the first finger lifted: other fingers still down are ignored until a new touch
            self._primary = None
            if self._down:
                self._down = False
                return Pointer("up", self._last[0], self._last[1], t)
            return None
        if "x" not in contact or "y" not in contact:
            return None
        x, y = self.to_screen(contact["x"], contact["y"])
        self._last = (x, y)
        kind: Literal["down", "move"] = "move" if self._down else "down"
        self._down = True
        return Pointer(kind, x, y, t)

    def to_screen(self, raw_x: int, raw_y: int) -> tuple[float, float]:
        cfg = self._cfg
        min_x, max_x, min_y, max_y = self._range
        u = (raw_x - min_x) / (max_x - min_x)
        v = (raw_y - min_y) / (max_y - min_y)
        if cfg.swap_xy:
            u, v = v, u
        if cfg.invert_x:
            u = 1.0 - u
        if cfg.invert_y:
            v = 1.0 - v
        # rotation: how the panel is mounted relative to the screen, clockwise
        if cfg.rotation == 90:
            u, v = 1.0 - v, u
        elif cfg.rotation == 180:
            u, v = 1.0 - u, 1.0 - v
        elif cfg.rotation == 270:
            u, v = v, 1.0 - u
        u = min(1.0, max(0.0, u))
        v = min(1.0, max(0.0, v))
        w, h = self._size
        return u * (w - 1), v * (h - 1)


class EvdevTouch:
    """A multi-touch panel read with evdev (grabbed; unplug and re-plug recovered)."""

    def __init__(self, opener: Opener, config: TouchConfig, size: tuple[int, int],
                 on_pointer: Callable[[Pointer], None],
                 on_presence: Callable[[bool], None] | None = None) -> None:
        from drivers.evdev_input import EvdevInput

        self._decoder = MultiTouchDecoder(config, size)
        self._on_pointer = on_pointer
        self.reader: EvdevInput = EvdevInput(
            opener, self._on_event, name="touch", grab=True, ignore_repeat=True,
            event_types=(EV_SYN, EV_ABS), on_presence=self._presence,
        )
        self._user_presence = on_presence

    def _presence(self, present: bool) -> None:
        if not present:
            # a finger "down" when the cable went is not pressed any more
            self._decoder = MultiTouchDecoder(self._decoder._cfg, self._decoder._size)
        if self._user_presence is not None:
            self._user_presence(present)

    def _on_event(self, event: InputEvent) -> None:
        p = self._decoder.feed(event.type, event.code, event.value, event.timestamp())
        if p is not None:
            self._on_pointer(p)

    def start(self) -> None:
        self.reader.start()

    def stop(self) -> None:
        self.reader.stop()


def opener_for(device: str) -> Opener:
    """A real device opener from config: a path (by-id symlink) or an event device path."""
    from drivers.evdev_input import EvdevOpener

    return EvdevOpener(by_id=device)
