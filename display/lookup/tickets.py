"""The "Lấy số thứ tự" screens: where their buttons are (pure, for drawing and hit-testing
alike) and what is drawn besides the buttons. Big rows and cards for elderly users: every
target is at least the 15 mm of ``view.target``, most are far bigger."""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.lookup.state import DeskService, LookupState, Screen, Target
from appliance.ticketing.ticket import wait_text
from display.lookup.layout import Button, Rect, _list_area, header_buttons
from display.lookup.theme import (
    HEADER,
    INK,
    MUTED,
    SOFT_OK,
    SOFT_WARN,
    View,
    box,
    draw_text,
    paragraph,
)

if TYPE_CHECKING:
    import pygame

DONE_HINT = "Vui lòng nhận phiếu ở khe máy in và chờ đến lượt được mời."
PRINTING = "Đang in phiếu, vui lòng chờ trong giây lát…"


def wait_line(svc: DeskService) -> str:
    """"Đang chờ: 5 người · khoảng 15 phút" from the hub's last queue/state."""
    if svc.waiting is None:
        return "Chưa có thông tin hàng chờ"
    if svc.waiting == 0:
        return "Không có người chờ: được mời ngay"
    wait = wait_text(svc.est_wait_s) if svc.est_wait_s else None
    return f"Đang chờ: {svc.waiting} người" + (f" · {wait}" if wait else "")


def home_cards(view: View) -> list[Button]:
    """Home with a printer: taking a number first (what most people come for)."""
    m = view.margin
    top = view.header_h + 2 * m
    height = int((view.height - view.header_h - 2 * m) * 0.62)  # as the two cards without
    bw = (view.width - 4 * m) // 3
    cards = [(Target("take"), "Lấy số thứ tự", "Chờ đến lượt làm thủ tục"),
             (Target("dossier"), "Tra cứu hồ sơ", "Xem hồ sơ của tôi đang ở đâu"),
             (Target("procedures"), "Thủ tục hành chính", "Giấy tờ cần nộp, lệ phí, thời hạn")]
    return [Button(Rect(m + i * (bw + m), top, bw, height), t, label, "primary", sub)
            for i, (t, label, sub) in enumerate(cards)]


def _confirm_zones(view: View) -> tuple[Rect, int, int]:
    """(the wait box, the y of the priority label, the y of the first category row)."""
    m = view.margin
    top = view.header_h + m
    info = Rect(m, top, view.width - 2 * m, int(view.row_h * 2.4))
    label_y = info.bottom + m
    return info, label_y, label_y + int(view.body * 1.5)


def layout(state: LookupState, view: View) -> list[Button]:
    if state.screen is Screen.HOME:
        return home_cards(view)
    w, h, m = view.width, view.height, view.margin
    top = view.header_h + m
    if state.screen is Screen.TICKET_SERVICE:
        items = [(Target("take_service", s.id), s.name, wait_line(s))
                 for s in state.desk.services]
        rows, _ = _list_area(view, top, m, w - m, h - m, items, state.page, row_scale=1.5)
        return header_buttons(view) + rows
    if state.screen is Screen.TICKET_CONFIRM:
        out = header_buttons(view)
        _, _, y = _confirm_zones(view)
        cats = state.desk.categories
        cols = 2 if len(cats) <= 4 else 3
        cw = (w - (cols + 1) * m) // cols
        for i, name in enumerate(cats):
            r, c = divmod(i, cols)
            style = "selected" if name == state.take_category else "secondary"
            out.append(Button(Rect(m + c * (cw + m), y + r * (view.row_h + m), cw, view.row_h),
                              Target("category", name), name[:1].upper() + name[1:], style))
        ph = int(view.row_h * 1.3)
        label = "In phiếu ưu tiên" if state.take_category else "In phiếu"
        out.append(Button(Rect(w // 4, h - m - ph, w // 2, ph), Target("print"), label,
                          "primary"))
        return out
    if state.screen is Screen.TICKET_DONE:
        bw = max(3 * view.target, w // 4)
        return [Button(Rect(w - m - bw, h - m - view.row_h, bw, view.row_h), Target("home"),
                       "Xong", "primary")]
    return []  # TICKET_PRINTING: nothing to touch while the paper comes out


def draw(surface: pygame.Surface, view: View, state: LookupState) -> None:
    if state.screen is Screen.TICKET_CONFIRM:
        _draw_confirm(surface, view, state)
    elif state.screen is Screen.TICKET_PRINTING:
        _draw_note(surface, view, PRINTING)
    elif state.screen is Screen.TICKET_DONE:
        _draw_done(surface, view, state)
    elif state.screen is Screen.TICKET_SERVICE and not state.desk.services:
        _draw_note(surface, view, "Chưa có dịch vụ nào để lấy số.")


def _draw_confirm(surface: pygame.Surface, view: View, state: LookupState) -> None:
    import pygame

    from display.lookup.widgets import prect

    svc = state.desk.service(state.take_service)
    if svc is None:
        return
    info, label_y, _ = _confirm_zones(view)
    m = view.margin
    box(surface, prect(info), SOFT_WARN, border=HEADER, width=3)
    half = info.h // 2
    draw_text(surface, svc.name, pygame.Rect(info.x + m, info.y + m // 2, info.w - 2 * m,
                                             half), INK, size=view.big, bold=True)
    draw_text(surface, wait_line(svc), pygame.Rect(info.x + m, info.y + half,
                                                   info.w - 2 * m, half - m // 2),
              INK, size=view.title)
    if state.desk.categories:
        draw_text(surface, f"{state.desk.priority_label} (chạm để chọn nếu ông/bà là):",
                  pygame.Rect(m, label_y, view.width - 2 * m, int(view.body * 1.4)), MUTED,
                  size=view.body)


def _draw_note(surface: pygame.Surface, view: View, text: str) -> None:
    import pygame

    m = view.margin
    top = view.header_h + 3 * m
    rect = pygame.Rect(2 * m, top, view.width - 4 * m, view.height // 2)
    box(surface, rect, SOFT_WARN, border=HEADER, width=3)
    paragraph(surface, text, rect.x + 2 * m, rect.y + 2 * m, rect.w - 4 * m, view.big, INK,
              bold=True, gap=1.25)


def _draw_done(surface: pygame.Surface, view: View, state: LookupState) -> None:
    import pygame

    t = state.ticket
    if t is None:
        return
    m = view.margin
    top = view.header_h + m
    bottom = view.height - 2 * m - view.row_h
    rect = pygame.Rect(m, top, view.width - 2 * m, bottom - top)
    box(surface, rect, SOFT_OK, border=HEADER, width=3)
    line = view.title + m
    draw_text(surface, "Số thứ tự của ông/bà", pygame.Rect(rect.x, rect.y + m, rect.w, line),
              INK, size=view.title, align="center")
    number_h = rect.h - 3 * line - 2 * m
    draw_text(surface, t.number or "", pygame.Rect(rect.x, rect.y + m + line, rect.w,
                                                   number_h),
              INK, size=number_h, bold=True, align="center")
    y = rect.y + m + line + number_h
    draw_text(surface, t.service_name, pygame.Rect(rect.x + m, y, rect.w - 2 * m, line), INK,
              size=view.title, bold=True, align="center")
    draw_text(surface, DONE_HINT, pygame.Rect(rect.x + m, y + line, rect.w - 2 * m, line),
              INK, size=view.body, align="center")
