"""Colours, sizes and small drawing helpers of the lookup kiosk (high contrast, large type)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from display.text import draw_text, wrap

if TYPE_CHECKING:
    import pygame

Color = tuple[int, int, int]

BG: Color = (255, 255, 255)
INK: Color = (17, 17, 17)
MUTED: Color = (70, 70, 70)  # still 9.7:1 on white
HEADER: Color = (11, 45, 110)
HEADER_INK: Color = (255, 255, 255)
PRIMARY: Color = (11, 61, 145)
PRIMARY_INK: Color = (255, 255, 255)
SECONDARY: Color = (225, 230, 238)
SECONDARY_INK: Color = (17, 17, 17)
SELECTED: Color = (255, 214, 0)
SELECTED_INK: Color = (17, 17, 17)
LINE: Color = (150, 155, 165)
OK: Color = (0, 110, 45)
WARN: Color = (150, 80, 0)
BAD: Color = (176, 0, 32)
SOFT_OK: Color = (222, 244, 228)
SOFT_WARN: Color = (255, 240, 205)
SOFT_BAD: Color = (253, 226, 229)

STYLES: dict[str, tuple[Color, Color]] = {
    "primary": (PRIMARY, PRIMARY_INK),
    "secondary": (SECONDARY, SECONDARY_INK),
    "selected": (SELECTED, SELECTED_INK),
    "header": (HEADER, HEADER_INK),
    "key": (SECONDARY, SECONDARY_INK),
    "ok": (OK, PRIMARY_INK),
    "field": (BG, INK),
    "field_active": (SOFT_WARN, INK),
}


@dataclass(frozen=True)
class View:
    """The screen: its size and the smallest touch target (15 mm) in pixels."""

    width: int
    height: int
    target: int

    @property
    def margin(self) -> int:
        return max(12, self.width // 80)

    @property
    def header_h(self) -> int:
        return max(self.target + self.margin, self.height // 9)

    @property
    def row_h(self) -> int:
        return max(self.target, self.height // 10)

    @property
    def body(self) -> int:
        """Body text size in pixels: large enough for elderly eyes (≥ 5 mm cap height)."""
        return max(30, self.height // 26)

    @property
    def title(self) -> int:
        return max(38, self.height // 18)

    @property
    def big(self) -> int:
        return max(48, self.height // 13)


def box(surface: pygame.Surface, rect: pygame.Rect, color: Color, *, radius: int = 12,
        border: Color | None = None, width: int = 3) -> None:
    import pygame

    pygame.draw.rect(surface, color, rect, border_radius=radius)
    if border is not None:
        pygame.draw.rect(surface, border, rect, width=width, border_radius=radius)


def paragraph(surface: pygame.Surface, text: str, left: int, top: int, width: int,
              size: int, color: Color, *, bold: bool = False, gap: float = 1.3) -> int:
    """Wrapped text from (left, top); returns the y below it."""
    import pygame

    line_h = int(size * gap)
    for line in wrap(text, size, width, bold):
        draw_text(surface, line, pygame.Rect(left, top, width, line_h), color, size=size,
                  bold=bold, shrink=False)
        top += line_h
    return top
