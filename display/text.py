"""Shared pygame text helpers: NFC text, checked Vietnamese fonts, text fitted to a box.

Every screen (lobby board, lookup terminal) draws text through here, so no code path can
fall back to pygame's default font (it has none of ờ ố ế ầ ủ ụ ứ ự). pygame is imported
lazily: importing this module costs nothing until something is drawn.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from display.fonts import font_path, nfc

if TYPE_CHECKING:
    import pygame
    import pygame.freetype

Align = Literal["left", "center", "right"]
Color = tuple[int, int, int] | tuple[int, int, int, int]

__all__ = [
    "Align",
    "draw_text",
    "ellipsize",
    "fit_size",
    "get_font",
    "nfc",
    "render_text",
    "text_size",
    "wrap",
]


def _freetype() -> object:
    import pygame.freetype

    if not pygame.freetype.get_init():
        pygame.freetype.init()
    return pygame.freetype


@lru_cache(maxsize=64)
def get_font(size: int, bold: bool = False) -> pygame.freetype.Font:
    """A freetype font of the checked Vietnamese face (font_path) at ``size`` pixels."""
    _freetype()
    import pygame.freetype

    font = pygame.freetype.Font(str(font_path(bold)), size)
    # Kerning and a fixed origin make the same text render to the same pixels every time.
    font.kerning = True
    font.pad = False
    font.origin = True  # render_to positions are baselines: lines of any text line up
    font.antialiased = True
    return font


@lru_cache(maxsize=4096)
def _measure(text: str, size: int, bold: bool) -> tuple[int, int, int]:
    font = get_font(size, bold)
    rect = font.get_rect(text)
    left = max(0, -rect.x)
    # Ink can start left of the origin and end right of the advance (ỵ, ự): count both.
    return left + rect.x + rect.width, font.get_sized_height(size), left


def text_size(text: str, size: int, bold: bool = False) -> tuple[int, int]:
    """Width and height of ``text`` as it would be drawn (ascent+descent of the face)."""
    w, h, _ = _measure(nfc(text), size, bold)
    return w, h


_PROBE = 64  # measuring at one size and scaling saves rasterising the glyphs at many sizes


@lru_cache(maxsize=4096)
def fit_size(
    text: str, max_w: int, max_h: int, *, bold: bool = False, max_size: int = 200,
    min_size: int = 8,
) -> int:
    """The largest size (≤ max_size) at which ``text`` fits in max_w × max_h."""
    w, h = text_size(text, _PROBE, bold)
    guess = int(min(max_size, max_h * _PROBE / max(1, h), max_w * _PROBE / max(1, w)))
    size = max(min_size, guess)
    # text does not scale exactly linearly (hinting): step to the exact fit from the guess
    while size < max_size:
        w, h = text_size(text, size + 1, bold)
        if w > max_w or h > max_h:
            break
        size += 1
    while size > min_size:
        w, h = text_size(text, size, bold)
        if w <= max_w and h <= max_h:
            break
        size -= 1
    return size


def ellipsize(text: str, size: int, max_w: int, bold: bool = False) -> str:
    """``text`` cut at a word or letter and ended with "…" so that it fits in max_w."""
    text = nfc(text)
    if text_size(text, size, bold)[0] <= max_w:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_size(text[:mid].rstrip() + "…", size, bold)[0] <= max_w:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…" if lo else "…"


def wrap(text: str, size: int, max_w: int, bold: bool = False) -> list[str]:
    """Break ``text`` into lines no wider than max_w (at spaces; long words are cut)."""
    words = nfc(text).split()
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if text_size(candidate, size, bold)[0] <= max_w:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word if text_size(word, size, bold)[0] <= max_w else ellipsize(
            word, size, max_w, bold)
    if line:
        lines.append(line)
    return lines


@lru_cache(maxsize=512)
def render_text(text: str, size: int, color: Color, bold: bool = False) -> pygame.Surface:
    """A transparent surface holding ``text`` (NFC), exactly as tall as the face.

    Cached: labels and names are drawn again and again; callers only blit the result.
    """
    import pygame

    font = get_font(size, bold)
    text = nfc(text)
    width, height, left = _measure(text, size, bold)
    surface = pygame.Surface((max(1, width), max(1, height)), pygame.SRCALPHA)
    if text:
        # Baseline at the face's ascender: lines of different text line up.
        font.render_to(surface, (left, font.get_sized_ascender(size)), text, fgcolor=color,
                       style=pygame.freetype.STYLE_DEFAULT)
    return surface


def align_rect(rect: pygame.Rect, box: pygame.Rect,
               align: Literal["left", "center", "right"] = "left",
               valign: Literal["top", "middle", "bottom"] = "middle") -> pygame.Rect:
    """``rect`` moved inside ``box`` as the alignment says (a new Rect)."""
    rect = rect.copy()
    if align == "left":
        rect.left = box.left
    elif align == "right":
        rect.right = box.right
    else:
        rect.centerx = box.centerx
    if valign == "top":
        rect.top = box.top
    elif valign == "bottom":
        rect.bottom = box.bottom
    else:
        rect.centery = box.centery
    return rect


def draw_text(
    target: pygame.Surface,
    text: str,
    box: pygame.Rect,
    color: Color,
    *,
    size: int | None = None,
    bold: bool = False,
    align: Align = "left",
    valign: Literal["top", "middle", "bottom"] = "middle",
    shrink: bool = True,
    min_size: int = 10,
    fit_as: str | None = None,
) -> pygame.Rect:
    """Draw ``text`` inside ``box``; shrink (or cut with "…") so it never spills out.

    ``size`` defaults to the box height. ``fit_as`` sizes the text as if it were that
    sample (e.g. "W888" for ticket numbers: every number the same size, measured once).
    Returns the rectangle actually drawn.
    """
    import pygame

    text = nfc(text)
    want = size or box.height
    if shrink:
        want = fit_size(nfc(fit_as) if fit_as else text, box.width, box.height, bold=bold,
                        max_size=want, min_size=min_size)
        if fit_as and text_size(text, want, bold)[0] > box.width:
            # wider than the sample (e.g. "WW1234"): this one text gets its own size
            want = fit_size(text, box.width, box.height, bold=bold, max_size=want,
                            min_size=min_size)
    if text_size(text, want, bold)[0] > box.width:
        text = ellipsize(text, want, box.width, bold)
    surface = render_text(text, want, color, bold)
    rect = align_rect(surface.get_rect(), box, align, valign)
    target.blit(surface, rect)
    return pygame.Rect(rect)
