"""Pieces of the lobby board: colours, Vietnamese wording, and one draw function per region.

Each ``draw_*`` paints only inside its rectangle, from plain data, so the board can redraw
one region when only that region's data changed (dirty rectangles).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from appliance.board.view import Call, CounterView, DossierBoard, ServiceView
from display.text import draw_text, fit_size, render_text, wrap

if TYPE_CHECKING:
    import pygame

BG = (10, 30, 58)
PANEL = (18, 46, 84)
PANEL_ALT = (14, 38, 70)
HEADER = (6, 20, 40)
WHITE = (255, 255, 255)
MUTED = (160, 180, 205)
DIM = (100, 120, 150)
ACCENT = (255, 200, 40)
HIGHLIGHT = (255, 196, 0)
HIGHLIGHT_TEXT = (20, 20, 20)
ALERT = (198, 40, 40)
GOOD = (90, 200, 120)
LATE = (240, 110, 90)

# Ticket numbers are sized as this sample: all the same size, measured once per box.
NUMBER_SAMPLE = "D088"
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


@dataclass(frozen=True)
class Style:
    """Sizes derived from the screen: ``u`` pixels is one unit of a 1080-pixel side."""

    u: float
    english: bool

    def px(self, n: float) -> int:
        return max(1, round(n * self.u))


def minutes_text(seconds: int | None, english: bool) -> str:
    if seconds is None:
        return "—"
    minutes = max(1, round(seconds / 60))
    if minutes >= 90:
        vi = f"~{minutes // 60} giờ {minutes % 60:02d}"
        en = f"~{minutes // 60} h {minutes % 60:02d}"
    else:
        vi, en = f"~{minutes} phút", f"~{minutes} min"
    return f"{vi} / {en}" if english else vi


def date_text(now: datetime) -> str:
    return f"{WEEKDAYS_VI[now.weekday()]}, {now:%d/%m/%Y}"


def _label(st: Style, vi: str, en: str) -> str:
    return f"{vi} / {en}" if st.english else vi


def draw_header(s: pygame.Surface, r: pygame.Rect, st: Style, name: str,
                name_en: str | None) -> None:
    import pygame

    s.fill(HEADER, r)
    pad = st.px(28)
    text_w = r.width - pad * 2
    has_en = bool(st.english and name_en)
    name = name or "Bộ phận Một cửa"
    main_h = int(r.height * (0.5 if has_en else 0.64))
    en_h = int(r.height * 0.22) if has_en else 0
    top = r.top + (r.height - main_h - en_h) // 2
    box = pygame.Rect(r.left + pad, top, text_w, main_h)
    if fit_size(name, box.width, box.height, bold=True) < box.height * 0.6:
        # a narrow (portrait) header: two lines read better than one tiny line
        size = int(box.height * 0.46)
        lines = wrap(name, size, box.width, bold=True)[:2]
        for i, line in enumerate(lines):
            draw_text(s, line, pygame.Rect(box.left, box.top + i * box.height // 2, box.width,
                                           box.height // 2), WHITE, bold=True)
    else:
        draw_text(s, name, box, WHITE, bold=True)
    if has_en:
        draw_text(s, name_en or "", pygame.Rect(r.left + pad, top + main_h, text_w, en_h),
                  MUTED)


def draw_clock(s: pygame.Surface, r: pygame.Rect, st: Style, now: datetime) -> None:
    import pygame

    s.fill(HEADER, r)
    pad = st.px(28)
    inner = r.inflate(-pad * 2, 0)
    draw_text(s, f"{now:%H:%M}", pygame.Rect(inner.left, r.top + r.height * 0.08, inner.width,
                                             r.height * 0.56), ACCENT, bold=True, align="right")
    draw_text(s, date_text(now), pygame.Rect(inner.left, r.top + r.height * 0.64, inner.width,
                                             r.height * 0.28), MUTED, align="right")


def draw_banner(s: pygame.Surface, r: pygame.Rect, st: Style, vi: str, en: str,
                last: datetime | None) -> None:
    import pygame

    s.fill(ALERT, r)
    when = f"{last:%H:%M:%S %d/%m}" if last else None
    inner = r.inflate(-st.px(40), -st.px(10))
    vi_text = f"{vi} — lần cuối lúc {when}" if when else vi
    if st.english:
        en_text = f"{en} — last update at {when}" if when else en
        draw_text(s, vi_text, pygame.Rect(inner.left, inner.top, inner.width,
                                          inner.height * 0.6), WHITE, bold=True,
                  align="center")
        draw_text(s, en_text, pygame.Rect(inner.left, inner.top + inner.height * 0.6,
                                          inner.width, inner.height * 0.4), WHITE,
                  align="center")
    else:
        draw_text(s, vi_text, inner.inflate(0, -inner.height * 0.2), WHITE, bold=True,
                  align="center")
    pygame.draw.rect(s, WHITE, r, max(1, st.px(3)))


def draw_table(s: pygame.Surface, r: pygame.Rect, st: Style, counters: tuple[CounterView, ...],
               fresh_number: str | None) -> None:
    import pygame

    s.fill(BG, r)
    pad = st.px(24)
    title_h = st.px(78)
    draw_text(s, _label(st, "Đang phục vụ", "Now serving"),
              pygame.Rect(r.left + pad, r.top + st.px(8), r.width - 2 * pad, title_h),
              ACCENT, bold=True, size=st.px(54))
    head_h = st.px(44)
    cols = (0.0, 0.30, 0.58, 1.0)
    y = r.top + title_h + st.px(12)
    heads = (_label(st, "Quầy", "Counter"), _label(st, "Số", "No."),
             _label(st, "Dịch vụ", "Service"))
    inner = r.inflate(-2 * pad, 0)
    for i, head in enumerate(heads):
        cell = pygame.Rect(inner.left + inner.width * cols[i] + st.px(16), y,
                           inner.width * (cols[i + 1] - cols[i]) - st.px(24), head_h)
        draw_text(s, head, cell, MUTED, size=st.px(32))
    y += head_h + st.px(6)
    if not counters:
        draw_text(s, "Chưa có thông tin quầy", pygame.Rect(inner.left, y, inner.width,
                                                             st.px(60)), DIM)
        return
    row_h = min(st.px(150), (r.bottom - y - pad) // max(1, len(counters)))
    for i, c in enumerate(counters):
        row = pygame.Rect(inner.left, y + i * row_h, inner.width, row_h - st.px(6))
        fresh = c.serving is not None and c.serving == fresh_number
        s.fill(HIGHLIGHT if fresh else (PANEL if i % 2 == 0 else PANEL_ALT), row)
        fg = HIGHLIGHT_TEXT if fresh else WHITE
        num_fg = HIGHLIGHT_TEXT if fresh else ACCENT
        cells = [pygame.Rect(row.left + row.width * cols[k] + st.px(16), row.top,
                             row.width * (cols[k + 1] - cols[k]) - st.px(24), row.height)
                 for k in range(3)]
        draw_text(s, c.name, cells[0].inflate(0, -row.height * 0.3), fg, bold=True)
        if not c.open:
            draw_text(s, _label(st, "Tạm nghỉ", "Closed"), cells[1].inflate(0, -row.height *
                                                                          0.45), DIM)
            continue
        draw_text(s, c.serving or "—", cells[1].inflate(0, -row.height * 0.16), num_fg,
                  bold=True, fit_as=NUMBER_SAMPLE)
        draw_text(s, c.service_name or "", cells[2].inflate(0, -row.height * 0.5), fg)


def draw_call(s: pygame.Surface, r: pygame.Rect, st: Style, calls: tuple[Call, ...],
              highlighted: bool) -> None:
    """The newest call, large (highlighted while fresh); earlier calls listed small."""
    import pygame

    s.fill(BG, r)
    box = r.inflate(-st.px(24), -st.px(24))
    if not calls:
        pygame.draw.rect(s, PANEL, box, border_radius=st.px(18))
        draw_text(s, _label(st, "Chưa gọi số nào", "No number called yet"),
                  box.inflate(-st.px(40), -box.height * 0.8), MUTED)
        return
    call = calls[0]
    fill, fg, accent = (HIGHLIGHT, HIGHLIGHT_TEXT, HIGHLIGHT_TEXT) if highlighted else (
        PANEL, WHITE, ACCENT)
    pygame.draw.rect(s, fill, box, border_radius=st.px(18))
    inner = box.inflate(-st.px(40), -st.px(20))
    history = calls[1:4]
    hist_h = st.px(56) if history else 0
    label_h = inner.height * 0.16
    title = _label(st, "Mời công dân có số", "Now calling") if highlighted else _label(
        st, "Số vừa gọi", "Last called")
    draw_text(s, title, pygame.Rect(inner.left, inner.top, inner.width, label_h), fg,
              align="center")
    body_h = inner.height - label_h - hist_h
    num_rect = pygame.Rect(inner.left, inner.top + label_h, inner.width, body_h * 0.58)
    draw_text(s, call.number, num_rect, accent, bold=True, align="center",
              fit_as=NUMBER_SAMPLE)
    to = f"đến {call.counter_name}" if highlighted else call.counter_name
    draw_text(s, to, pygame.Rect(inner.left, num_rect.bottom, inner.width, body_h * 0.26), fg,
              bold=True, align="center")
    draw_text(s, call.service_name, pygame.Rect(inner.left, num_rect.bottom + body_h * 0.27,
                                                inner.width, body_h * 0.14), fg,
              align="center")
    if history:
        text = "   ·   ".join(f"{c.number} – {c.counter_name}" for c in history)
        line = _label(st, "Trước đó", "Before") + ":   " + text
        # sized as the same line with every digit an 8 (digits are equally wide): the size
        # is found once, not again for every new number
        draw_text(s, line,
                  pygame.Rect(inner.left, inner.bottom - hist_h, inner.width, hist_h * 0.8),
                  fg if highlighted else MUTED, align="center",
                  fit_as="".join("8" if ch.isdigit() else ch for ch in line))


def draw_waiting(s: pygame.Surface, r: pygame.Rect, st: Style,
                 services: tuple[ServiceView, ...]) -> None:
    import pygame

    s.fill(BG, r)
    pad = st.px(24)
    inner = r.inflate(-2 * pad, -st.px(8))
    title_h = st.px(64)
    draw_text(s, _label(st, "Đang chờ", "Waiting"), pygame.Rect(inner.left, inner.top,
                                                                inner.width, title_h),
              ACCENT, bold=True, size=st.px(48))
    y = inner.top + title_h + st.px(6)
    if not services:
        draw_text(s, "Chưa có thông tin dịch vụ", pygame.Rect(inner.left, y, inner.width,
                                                                st.px(50)), DIM)
        return
    row_h = min(st.px(92), (inner.bottom - y) // max(1, len(services)))
    for i, svc in enumerate(services):
        row = pygame.Rect(inner.left, y + i * row_h, inner.width, row_h - st.px(6))
        s.fill(PANEL if i % 2 == 0 else PANEL_ALT, row)
        name_w = row.width * 0.50
        draw_text(s, f"{svc.id}  {svc.name}",
                  pygame.Rect(row.left + st.px(14), row.top, name_w - st.px(14), row.height
                              ).inflate(0, -row.height * 0.42), WHITE, bold=True)
        count = f"{svc.waiting} người" if svc.waiting else "Không ai chờ"
        draw_text(s, count, pygame.Rect(row.left + name_w, row.top, row.width * 0.2,
                                         row.height).inflate(0, -row.height * 0.45), ACCENT,
                  bold=True)
        wait = minutes_text(svc.est_wait_s, st.english) if svc.waiting else ""
        draw_text(s, wait, pygame.Rect(row.left + row.width * 0.70, row.top,
                                       row.width * 0.30 - st.px(14), row.height
                                       ).inflate(0, -row.height * 0.5), MUTED, align="right")


def draw_ticker(s: pygame.Surface, r: pygame.Rect, st: Style, strip: pygame.Surface | None,
                offset: int) -> None:
    """The notice line; ``strip`` is its pre-rendered text, shifted left by ``offset``."""
    s.fill(HEADER, r)
    if strip is None:
        return
    y = r.top + (r.height - strip.get_height()) // 2
    if strip.get_width() <= r.width - st.px(40):
        s.blit(strip, (r.left + (r.width - strip.get_width()) // 2, y))
        return
    period = strip.get_width() + st.px(160)
    x = r.left + r.width - offset % (period + r.width)
    clip = s.get_clip()
    s.set_clip(r)
    s.blit(strip, (x, y))
    if x + period < r.right:
        s.blit(strip, (x + period, y))
    s.set_clip(clip)


def ticker_strip(text: str, height: int, bold: bool = False) -> pygame.Surface | None:
    if not text.strip():
        return None
    import pygame

    size = int(height * 0.62)
    text_surface = render_text(" ".join(text.split()), size, WHITE, bold)
    # Opaque on the line's own background: moving it is a plain copy, not alpha blending
    # (the notice line is the only thing that moves on an idle board).
    strip = pygame.Surface(text_surface.get_size())
    strip.fill(HEADER)
    strip.blit(text_surface, (0, 0))
    return strip


def ticker_period(strip: pygame.Surface | None, width: int, st: Style) -> int:
    """Pixels the notice moves before it repeats; 0 when it fits and stands still."""
    if strip is None or strip.get_width() <= width - st.px(40):
        return 0
    return strip.get_width() + st.px(160) + width


def _titled_panel(s: pygame.Surface, r: pygame.Rect, st: Style, title: str,
                  title_en: str) -> tuple[pygame.Rect, int]:
    """Clear a dossier-page panel and draw its title: (inner box, y below the title)."""
    import pygame

    s.fill(BG, r)
    inner = r.inflate(-2 * st.px(24), -st.px(8))
    title_h = st.px(72)
    draw_text(s, _label(st, title, title_en),
              pygame.Rect(inner.left, inner.top, inner.width, title_h), ACCENT, bold=True,
              size=st.px(50))
    return inner, inner.top + title_h + st.px(8)


def draw_ready(s: pygame.Surface, r: pygame.Rect, st: Style, board: DossierBoard | None) -> None:
    import pygame

    inner, y = _titled_panel(s, r, st, "Hồ sơ đã có kết quả, mời nhận",
                             "Results ready for pickup")
    if board is None:
        draw_text(s, "Chưa nhận được dữ liệu từ kho hồ sơ", pygame.Rect(
            inner.left, y, inner.width, st.px(50)), DIM)
        return
    if not board.ready:
        draw_text(s, "Hiện chưa có hồ sơ chờ trả", pygame.Rect(inner.left, y, inner.width,
                                                                st.px(50)), MUTED)
        return
    # few dossiers get taller rows (larger names) instead of leaving the panel half empty
    room = inner.bottom - y - st.px(40)
    row_h = max(st.px(96), min(st.px(150), room // max(4, len(board.ready))))
    rows = max(1, room // row_h)
    shown = board.ready[:rows]
    for i, d in enumerate(shown):
        row = pygame.Rect(inner.left, y + i * row_h, inner.width, row_h - st.px(6))
        s.fill(PANEL if i % 2 == 0 else PANEL_ALT, row)
        left = pygame.Rect(row.left + st.px(14), row.top, row.width * 0.76, row.height)
        # a taller row has a larger name; the code and procedure keep their size (room)
        name_h = min(row.height * 0.5, st.px(60))
        sub_h = st.px(33)
        top = row.top + (row.height - name_h - sub_h - st.px(6)) / 2
        draw_text(s, d.applicant, pygame.Rect(left.left, top, left.width, name_h), WHITE,
                  bold=True)
        draw_text(s, f"{d.code} · {d.procedure}", pygame.Rect(
            left.left, top + name_h + st.px(6), left.width, sub_h), MUTED, shrink=False)
        where = f"Quầy {d.counter}" if d.counter else ""
        draw_text(s, where, pygame.Rect(row.left + row.width * 0.78, row.top,
                                        row.width * 0.22 - st.px(14), row.height
                                        ).inflate(0, -row.height * 0.45), ACCENT, bold=True,
                  align="right")
    more = len(board.ready) - len(shown)
    if more > 0:
        note = f"… và {more} hồ sơ khác" + (f" / and {more} more" if st.english else "")
        draw_text(s, note, pygame.Rect(inner.left, inner.bottom - st.px(40), inner.width,
                                       st.px(36)), MUTED, align="right")


# Counted over the day and over the month (a result counts when it is ready, whether or
# not it was picked up yet: "giải quyết", not "trả") ...
FIGURE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("received", "Tiếp nhận", "Received"),
    ("returned_early", "Giải quyết trước hạn", "Resolved early"),
    ("returned_on_time", "Giải quyết đúng hạn", "Resolved on time"),
    ("returned_late", "Giải quyết quá hạn", "Resolved late"),
)
# ... and what is open right now: one number, the same for the day and the month
STOCK_ROWS: tuple[tuple[str, str, str], ...] = (
    ("in_progress", "Đang giải quyết", "In progress"),
    ("overdue", "Đang quá hạn", "Overdue"),
)


def draw_figures(s: pygame.Surface, r: pygame.Rect, st: Style, board: DossierBoard | None,
                 now: datetime) -> None:
    import pygame

    inner, y = _titled_panel(s, r, st, "Tình hình giải quyết hồ sơ", "Dossier figures")
    if board is None:
        draw_text(s, "—", pygame.Rect(inner.left, y, inner.width, st.px(50)), DIM)
        return
    head_h = st.px(52)
    name_w = inner.width * 0.52
    col_w = (inner.width - name_w) / 2
    heads = (_label(st, "Hôm nay", "Today"), f"Tháng {now:%m/%Y}")
    for k, head in enumerate(heads):
        draw_text(s, head, pygame.Rect(inner.left + name_w + k * col_w, y, col_w - st.px(12),
                                       head_h), MUTED, align="right", size=st.px(34))
    y += head_h + st.px(4)
    rows = len(FIGURE_ROWS) + len(STOCK_ROWS)
    row_h = min(st.px(84), (inner.bottom - y - head_h) // rows)
    for i, (key, vi, en) in enumerate(FIGURE_ROWS):
        row = pygame.Rect(inner.left, y + i * row_h, inner.width, row_h - st.px(6))
        _figure_row(s, row, st, i, vi, en, name_w)
        for k, figs in enumerate((board.today, board.month)):
            draw_text(s, str(getattr(figs, key)), pygame.Rect(
                row.left + name_w + k * col_w, row.top, col_w - st.px(12), row.height
            ).inflate(0, -row.height * 0.36), _figure_color(key), bold=True, align="right")
    y += len(FIGURE_ROWS) * row_h + st.px(8)
    draw_text(s, _label(st, "Hiện nay", "Now"), pygame.Rect(
        inner.left + name_w, y, 2 * col_w - st.px(12), head_h), MUTED, align="right",
              size=st.px(34))
    y += head_h + st.px(4)
    for i, (key, vi, en) in enumerate(STOCK_ROWS):
        row = pygame.Rect(inner.left, y + i * row_h, inner.width, row_h - st.px(6))
        _figure_row(s, row, st, i, vi, en, name_w)
        draw_text(s, str(getattr(board.today, key)), pygame.Rect(
            row.left + name_w, row.top, 2 * col_w - st.px(12), row.height
        ).inflate(0, -row.height * 0.36), _figure_color(key), bold=True, align="right")


def _figure_color(key: str) -> tuple[int, int, int]:
    if key in ("returned_late", "overdue"):
        return LATE
    return GOOD if key in ("returned_early", "returned_on_time") else ACCENT


def _figure_row(s: pygame.Surface, row: pygame.Rect, st: Style, i: int, vi: str, en: str,
                name_w: float) -> None:
    """A figures row's stripe and its label (Vietnamese, English below it)."""
    import pygame

    s.fill(PANEL if i % 2 == 0 else PANEL_ALT, row)
    label = pygame.Rect(row.left + st.px(14), row.top, name_w - st.px(14), row.height)
    if st.english:
        draw_text(s, vi, pygame.Rect(label.left, label.top + label.height * 0.06,
                                     label.width, label.height * 0.52), WHITE)
        draw_text(s, en, pygame.Rect(label.left, label.top + label.height * 0.6,
                                     label.width, label.height * 0.32), DIM)
    else:
        draw_text(s, vi, label.inflate(0, -row.height * 0.4), WHITE)
