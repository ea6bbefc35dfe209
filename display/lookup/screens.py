"""Home, procedure list, search and error screens (what is drawn besides the buttons)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.lookup.state import LookupState
from display.lookup.dossier import day_text
from display.lookup.layout import SEARCH_ROWS, keyboard_height, search_field
from display.lookup.theme import (
    BAD,
    HEADER,
    INK,
    MUTED,
    SELECTED,
    SOFT_BAD,
    SOFT_WARN,
    View,
    box,
    draw_text,
    paragraph,
)

if TYPE_CHECKING:
    import pygame


def draw_home(surface: pygame.Surface, view: View, state: LookupState) -> None:
    import pygame

    m = view.margin
    top = view.header_h + m
    bh = int((view.height - top - m) * 0.62)
    y = top + m + bh + m
    hint = pygame.Rect(m, y, view.width - 2 * m, view.height - y - m)
    box(surface, hint, SOFT_WARN, border=HEADER, width=3)
    lines = hint.h // 2
    draw_text(surface, "Có giấy tiếp nhận hồ sơ? Đưa mã QR vào máy quét để xem ngay.",
              pygame.Rect(hint.x + m, hint.y + m // 2, hint.w - 2 * m, lines), INK,
              size=view.title, bold=True, align="center")
    cat = state.catalogue
    if cat.empty:
        note = "Máy chưa có danh mục thủ tục: vui lòng hỏi cán bộ tại quầy."
        color = BAD
    else:
        when = day_text(cat.fetched_at) if cat.fetched_at else "—"
        note = f"{len(cat.procedures)} thủ tục · danh mục cập nhật ngày {when}"
        color = MUTED
    draw_text(surface, note, pygame.Rect(hint.x + m, hint.y + lines, hint.w - 2 * m,
                                         hint.h - lines - m // 2),
              color, size=view.body, align="center")


def draw_procedures(surface: pygame.Surface, view: View, state: LookupState) -> None:
    import pygame

    if not state.in_sector():
        m = view.margin
        draw_text(surface, "Lĩnh vực này chưa có thủ tục.",
                  pygame.Rect(view.width // 3, view.header_h + m, view.width // 2, view.row_h),
                  MUTED, size=view.body)


def draw_search(surface: pygame.Surface, view: View, state: LookupState) -> None:
    import pygame

    m = view.margin
    f = search_field(view)
    field = pygame.Rect(f.x, f.y, f.w, f.h)
    box(surface, field, SOFT_WARN, border=SELECTED, width=4)
    inner = field.inflate(-2 * m, 0)
    if state.keys:
        drawn = draw_text(surface, state.query, inner, INK, size=view.title, bold=True)
        pygame.draw.rect(surface, INK, pygame.Rect(drawn.right + 4, inner.y + inner.h // 5,
                                                   max(3, m // 4), inner.h * 3 // 5))
    else:
        draw_text(surface, "Gõ tên thủ tục, ví dụ: khai sinh", inner, MUTED, size=view.body)
    if state.keys.strip() and not state.results:
        kb = keyboard_height(view, len(SEARCH_ROWS) + 1) if state.keyboard else 0
        top = view.header_h + m
        area = pygame.Rect(m, top, view.width - 2 * m, view.height - top - kb - 2 * m)
        draw_text(surface, "Không tìm thấy thủ tục phù hợp. Thử gõ ít chữ hơn.", area, MUTED,
                  size=view.body, align="center")


def draw_error(surface: pygame.Surface, view: View, state: LookupState) -> None:
    import pygame

    m = view.margin
    top = view.header_h + 2 * m
    bottom = view.height - 3 * m - view.row_h
    rect = pygame.Rect(2 * m, top, view.width - 4 * m, bottom - top)
    box(surface, rect, SOFT_BAD, border=BAD, width=4)
    paragraph(surface, state.error or "", rect.x + 2 * m, rect.y + 2 * m, rect.w - 4 * m,
              view.big, INK, bold=True, gap=1.25)
