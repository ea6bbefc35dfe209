"""Colours, sizes and small drawing helpers of the lookup kiosk (high contrast, large type)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from display import text as shared

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
OK: Color = (0, 88, 36)
WARN: Color = (115, 58, 0)
BAD: Color = (150, 0, 28)
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


# Measuring text with freetype costs ~0.25 ms a call and a screen has ~40 labels: sizes
# and rendered labels are cached, so a redraw is mostly blits (touch → screen < 50 ms).
@lru_cache(maxsize=4096)
def _fit(text: str, w: int, h: int, size: int, bold: bool, shrink: bool,
         min_size: int) -> tuple[str, int]:
    text = shared.nfc(text)
    if shrink:
        size = shared.fit_size(text, w, h, bold=bold, max_size=size, min_size=min_size)
    if shared.text_size(text, size, bold)[0] > w:
        text = shared.ellipsize(text, size, w, bold)
    return text, size


@lru_cache(maxsize=384)
def _label(text: str, size: int, color: Color, bold: bool) -> pygame.Surface:
    return shared.render_text(text, size, color, bold)


@lru_cache(maxsize=16384)
def _word_w(word: str, size: int, bold: bool) -> int:
    """The advance of ``word`` (ink width alone would undercount side bearings).

    Vietnamese words are syllables from a small set: this cache is nearly always hit.
    """
    return (shared.text_size(f"a{word}a", size, bold)[0]
            - shared.text_size("aa", size, bold)[0])


@lru_cache(maxsize=1024)
def _wrap(text: str, size: int, width: int, bold: bool) -> tuple[str, ...]:
    """Greedy wrap summing cached word widths (one measure per new word, not per line)."""
    space = _word_w(" ", size, bold)
    limit = width - max(2, size // 4)  # kerning across words is ignored: keep some slack
    lines: list[str] = []
    line: list[str] = []
    used = 0
    for word in shared.nfc(text).split():
        w = _word_w(word, size, bold)
        if line and used + space + w <= limit:
            line.append(word)
            used += space + w
            continue
        if line:
            lines.append(" ".join(line))
        if w > limit:
            word = shared.ellipsize(word, size, limit, bold)
            w = limit
        line, used = [word], w
    if line:
        lines.append(" ".join(line))
    return tuple(lines)


def wrap(text: str, size: int, width: int, bold: bool = False) -> list[str]:
    return list(_wrap(text, size, width, bold))


NAME_LINES = 3  # a procedure name longer than this many lines ends with "…"


def name_lines(text: str, size: int, width: int) -> list[str]:
    """A list row's name in lines of full-size bold text (wrapped, never shrunk).

    Elderly readers cannot read a long procedure name squeezed to 60 % on one line; the row
    grows instead (``layout``), and only a name of more than NAME_LINES lines is cut.
    """
    lines = wrap(text, size, width, True)
    if len(lines) > NAME_LINES:
        rest = " ".join(lines[NAME_LINES - 1:])
        lines = [*lines[:NAME_LINES - 1], shared.ellipsize(rest, size, width, True)]
    return lines or [""]


def name_line_h(size: int) -> int:
    return size * 6 // 5


def draw_text(surface: pygame.Surface, text: str, box: pygame.Rect, color: Color, *,
              size: int | None = None, bold: bool = False,
              align: Literal["left", "center", "right"] = "left",
              valign: Literal["top", "middle", "bottom"] = "middle", shrink: bool = True,
              min_size: int = 10) -> pygame.Rect:
    """Like display.text.draw_text (fit, shrink or cut with "…"), with cached labels."""
    fitted, want = _fit(text, box.width, box.height, size or box.height, bold, shrink,
                        min_size)
    label = _label(fitted, want, color, bold)
    rect = shared.align_rect(label.get_rect(), box, align, valign)
    surface.blit(label, rect)
    return rect


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
