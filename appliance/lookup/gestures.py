"""Finger down/move/up → a tap at a point, or a vertical drag (pure, no pygame)."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.touch import Pointer


@dataclass(frozen=True)
class TapAt:
    x: float
    y: float


@dataclass(frozen=True)
class DragBy:
    dy: int


Gesture = TapAt | DragBy


class GestureReader:
    """A finger that moves less than ``slop`` pixels is a tap (at where it went down);
    one that moves more is a drag, reported as it goes. A tap fires on lift, so a
    drag that starts on a button never presses it."""

    def __init__(self, slop: float) -> None:
        self._slop = slop
        self._start: tuple[float, float] | None = None
        self._last_y = 0.0
        self._dragging = False

    def feed(self, p: Pointer) -> Gesture | None:
        if p.kind == "down":
            self._start = (p.x, p.y)
            self._last_y = p.y
            self._dragging = False
            return None
        if self._start is None:
            return None  # a move/up without a down (finger was down before start-up)
        if p.kind == "move":
            if not self._dragging and abs(p.y - self._start[1]) + abs(p.x - self._start[0]) \
                    > self._slop:
                self._dragging = True
            if self._dragging:
                dy = round(p.y - self._last_y)
                if dy:
                    self._last_y += dy
                    return DragBy(dy)
            return None
        start, self._start = self._start, None
        if self._dragging:
            self._dragging = False
            dy = round(p.y - self._last_y)
            return DragBy(dy) if dy else None
        return TapAt(*start)
