"""Drawing the pieces every kiosk screen shares: the header, buttons, list rows."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from display.lookup.layout import Button, Rect
from display.lookup.theme import (
    HEADER,
    HEADER_INK,
    LINE,
    STYLES,
    View,
    box,
    draw_text,
    name_line_h,
    name_lines,
    wrap,
)

if TYPE_CHECKING:
    import pygame

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def prect(r: Rect) -> pygame.Rect:
    import pygame

    return pygame.Rect(r.x, r.y, r.w, r.h)


def clock_text(now: datetime) -> str:
    return f"{now:%H:%M}  {WEEKDAYS[now.weekday()]}, {now:%d/%m/%Y}"


def header(surface: pygame.Surface, view: View, title: str, now: datetime, *,
           centered: bool = False) -> None:
    """The blue band on top: screen title (between the back/home buttons) and the time."""
    import pygame

    m = view.margin
    pygame.draw.rect(surface, HEADER, pygame.Rect(0, 0, view.width, view.header_h))
    if centered:
        # Home has no back/home buttons: the office name on the left, the time on the right
        half = view.width // 2
        draw_text(surface, title, pygame.Rect(m, 0, half, view.header_h), HEADER_INK,
                  size=view.title, bold=True)
        draw_text(surface, clock_text(now),
                  pygame.Rect(half + m, 0, half - 2 * m, view.header_h), HEADER_INK,
                  size=view.body, align="right")
        return
    side = max(2 * view.target, view.width // 6) + 2 * m
    area = pygame.Rect(side, 0, view.width - 2 * side, view.header_h)
    draw_text(surface, title, area, HEADER_INK, size=view.title, bold=True, align="center")


def _arrow(surface: pygame.Surface, r: Rect, up: bool, color: tuple[int, int, int]) -> None:
    import pygame

    s = min(r.w, r.h) // 4
    cx, cy = r.x + r.w // 2, r.y + r.h // 2
    if up:
        pts = [(cx - s, cy + s // 2), (cx + s, cy + s // 2), (cx, cy - s)]
    else:
        pts = [(cx - s, cy - s // 2), (cx + s, cy - s // 2), (cx, cy + s)]
    pygame.draw.polygon(surface, color, pts)


def button(surface: pygame.Surface, view: View, b: Button) -> None:
    import pygame

    if b.style == "none":  # drawn by the screen itself (the search box)
        return
    bg, ink = STYLES.get(b.style, STYLES["secondary"])
    border = LINE if b.style in ("secondary", "key", "field") else None
    if b.style == "field_active":
        border = (11, 61, 145)
    box(surface, prect(b.rect), bg, border=border, width=4 if b.style == "field_active" else 2)
    if b.label in ("▲", "▼"):
        _arrow(surface, b.rect, b.label == "▲", ink)
        return
    pad = view.margin
    inner = b.rect.inset(pad)
    if b.rect.h >= 2.5 * view.target:  # a big card (Home): centred title and subtitle
        title_h = view.big
        mid = b.rect.y + b.rect.h // 2
        draw_text(surface, b.label, pygame.Rect(inner.x, mid - title_h - pad // 2, inner.w,
                                                title_h + pad // 2),
                  ink, size=view.big, bold=True, align="center", valign="bottom")
        draw_text(surface, b.sub, pygame.Rect(inner.x, mid + pad, inner.w, view.body * 2),
                  ink, size=view.body, align="center", valign="top")
        return
    if b.sub:  # a list row: name on top, details below, left aligned, little padding
        inner = Rect(b.rect.x + pad, b.rect.y + pad // 4, b.rect.w - 2 * pad,
                     b.rect.h - 2 * (pad // 4))
        names = name_lines(b.label, view.body, inner.w)
        step = name_line_h(view.body)
        extra = (len(names) - 1) * step  # the row grew by this much (layout)
        block = (inner.h - extra) * 11 // 20 + extra
        if len(names) == 1:
            draw_text(surface, b.label, prect(Rect(inner.x, inner.y, inner.w, block)), ink,
                      size=view.body, bold=True)
        else:
            y = inner.y + (block - len(names) * step) // 2
            for part in names:
                draw_text(surface, part, prect(Rect(inner.x, y, inner.w, step)), ink,
                          size=view.body, bold=True, shrink=False)
                y += step
        sub = prect(Rect(inner.x, inner.y + block, inner.w, (inner.h - extra) * 9 // 20))
        draw_text(surface, b.sub, sub, ink, size=view.body * 4 // 5)
        return
    if b.style in ("field", "field_active"):
        draw_text(surface, b.label, prect(inner), ink, size=view.title, bold=True)
        return
    size = view.title if b.style == "key" and len(b.label) == 1 else view.body
    if b.style != "key" and len(wrap(b.label, size, inner.w, True)) > 1:
        # a long sector name: two lines of readable text rather than one line of tiny text
        small = min(size, (b.rect.h - view.margin // 2) * 10 // 24)
        lines = wrap(b.label, small, inner.w, True)
        while len(lines) > 2 and small > size * 2 // 3:
            small -= 1
            lines = wrap(b.label, small, inner.w, True)
        if len(lines) == 2:
            half = small * 12 // 10
            y0 = b.rect.y + (b.rect.h - 2 * half) // 2
            for i, part in enumerate(lines):
                draw_text(surface, part, prect(Rect(inner.x, y0 + i * half, inner.w, half)),
                          ink, size=small, bold=True, align="center")
            return
    draw_text(surface, b.label, prect(inner), ink, size=size, bold=True, align="center")
