"""Dossier screens: typing the code and secret, waiting, and the answer as a timeline."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from appliance.lookup.state import LookupState
from display.lookup.layout import CODE_ROWS, keyboard_height
from display.lookup.theme import (
    BAD,
    BG,
    HEADER,
    INK,
    LINE,
    MUTED,
    OK,
    SELECTED,
    SOFT_BAD,
    SOFT_OK,
    SOFT_WARN,
    WARN,
    View,
    box,
    draw_text,
    paragraph,
    wrap,
)

if TYPE_CHECKING:
    import pygame

# the last step is named, not claimed: "Đã trả" only once the result was handed over
STAGES = (("received", "Đã tiếp nhận"), ("processing", "Đang giải quyết"),
          ("ready", "Có kết quả"), ("returned", "Trả kết quả"))
# The store's ``timing``: early / on time / late for a dossier with its result, not yet due
# / overdue for an open one, in the words offices use ("returned" only after the return).
TIMING = {"early": ("Trước hạn", OK), "on_time": ("Đúng hạn", OK), "late": ("Quá hạn", BAD),
          "not_yet_due": ("Trong hạn", OK), "overdue": ("Quá hạn", BAD)}


def day_text(value: Any) -> str:
    """dd/mm/yyyy of an RFC 3339 time or an ISO date; the raw text if it is neither."""
    if not isinstance(value, str) or not value:
        return "—"
    try:
        if len(value) == 10:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        return datetime.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


def draw_entry(surface: pygame.Surface, view: View, state: LookupState) -> None:
    import pygame

    m = view.margin
    top = view.header_h + m
    fw = (view.width - 3 * m) // 2
    draw_text(surface, "Mã hồ sơ", pygame.Rect(m, top, fw, int(view.body * 1.5)), INK,
              size=view.body, bold=True)
    draw_text(surface, "Mã tra cứu (6 ký tự)",
              pygame.Rect(2 * m + fw, top, fw, int(view.body * 1.5)), INK, size=view.body,
              bold=True)
    hint_y = top + int(view.body * 1.6) + view.row_h + m // 4
    kb_top = view.height - m - keyboard_height(view, len(CODE_ROWS) + 1)
    room = min(int(view.body * 1.4), kb_top - hint_y - m // 4)
    draw_text(surface, "Có thể quét mã QR trên giấy tiếp nhận hồ sơ thay cho việc nhập.",
              pygame.Rect(m, hint_y, view.width - 2 * m, room), MUTED, size=view.body)


def draw_wait(surface: pygame.Surface, view: View, state: LookupState) -> None:
    import pygame

    mid = view.header_h + (view.height - view.header_h) // 2
    draw_text(surface, "Đang tra cứu hồ sơ…",
              pygame.Rect(0, mid - view.big, view.width, view.big * 2), INK, size=view.big,
              bold=True, align="center")
    draw_text(surface, f"Mã hồ sơ {state.code}",
              pygame.Rect(0, mid + view.big, view.width, view.body * 2), MUTED,
              size=view.body, align="center")


def _timeline(surface: pygame.Surface, view: View, d: Mapping[str, Any], y: int) -> int:
    import pygame

    stage = str(d.get("stage", ""))
    steps = [label for _, label in STAGES]
    keys = [k for k, _ in STAGES]
    if stage == "awaiting_supplement":
        steps.insert(2, "Chờ bổ sung")
        keys.insert(2, stage)
    elif stage in ("refused", "withdrawn"):
        steps = [steps[0], steps[1], str(d.get("stage_label") or stage)]
        keys = [keys[0], keys[1], stage]
    current = keys.index(stage) if stage in keys else 0
    m = view.margin
    n = len(steps)
    span = (view.width - 2 * m) // n
    r = max(14, view.target // 4)
    for i in range(n - 1):
        cx = m + span * i + span // 2
        color = HEADER if i < current else LINE
        pygame.draw.line(surface, color, (cx, y + r), (cx + span, y + r), max(4, r // 3))
    for i, label in enumerate(steps):
        cx = m + span * i + span // 2
        done = i <= current
        bad = i == current and stage in ("refused", "withdrawn")
        fill = BAD if bad else (HEADER if done else BG)
        if i == current:
            pygame.draw.circle(surface, SELECTED, (cx, y + r), r + r // 2)
        pygame.draw.circle(surface, fill, (cx, y + r), r)
        pygame.draw.circle(surface, HEADER if done else LINE, (cx, y + r), r, 3)
        if keys[i] == "returned" and stage == "returned":
            label = "Đã trả"
        draw_text(surface, label, pygame.Rect(cx - span // 2 + 4, y + 2 * r + m // 2, span - 8,
                                              int(view.body * 1.3)),
                  INK if done else MUTED, size=view.body * 9 // 10, bold=i == current,
                  align="center")
    return y + 2 * r + m + int(view.body * 1.4)


def when_text(value: Any) -> str:
    """dd/mm/yyyy HH:MM of an RFC 3339 time (the date alone for a date)."""
    if isinstance(value, str) and len(value) > 10:
        try:
            return datetime.fromisoformat(value).strftime("%d/%m/%Y %H:%M")
        except ValueError:
            return value
    return day_text(value)


def _history(surface: pygame.Surface, view: View, d: Mapping[str, Any], top: int,
             bottom: int) -> None:
    """The newest steps of the dossier's history, as many as fit (newest first)."""
    import pygame

    history = [h for h in d.get("history") or [] if isinstance(h, Mapping)]
    line_h = int(view.body * 1.3)
    rows = (bottom - top) // line_h - 1
    if not history or rows < 1:
        return
    m = view.margin
    w = view.width - 2 * m
    draw_text(surface, "Quá trình xử lý", pygame.Rect(m, top, w, line_h), HEADER,
              size=view.body, bold=True)
    date_w = view.body * 8
    for i, h in enumerate(list(reversed(history))[:rows]):
        y = top + (i + 1) * line_h
        draw_text(surface, when_text(h.get("at")), pygame.Rect(m, y, date_w, line_h), MUTED,
                  size=view.body * 9 // 10, shrink=True)
        label = str(h.get("stage_label") or h.get("stage") or "")
        if h.get("note"):
            label += f" — {h['note']}"
        draw_text(surface, label, pygame.Rect(m + date_w + m, y, w - date_w - m, line_h), INK,
                  size=view.body * 9 // 10)


def draw_result(surface: pygame.Surface, view: View, state: LookupState) -> None:
    import pygame

    d = state.dossier or {}
    m = view.margin
    w = view.width - 2 * m
    y = view.header_h + m
    proc = d.get("procedure") or {}
    name = proc.get("name") if isinstance(proc, Mapping) else str(proc)
    y = paragraph(surface, str(name or ""), m, y, w, view.title, INK, bold=True, gap=1.2)
    facts = f"Mã hồ sơ {d.get('code', state.code)}"
    if d.get("applicant"):
        facts += f"  ·  Người nộp: {d['applicant']}"
    y = paragraph(surface, facts, m, y, w, view.body, MUTED)
    due = (f"Ngày nhận: {day_text(d.get('received_at'))}    "
           f"Ngày hẹn trả: {day_text(d.get('due_at'))}")
    draw_text(surface, due, pygame.Rect(m, y, w * 3 // 4, int(view.body * 1.5)), INK,
              size=view.body, bold=True)
    # ``status`` alone (an older store) folds "not yet due" into "on_time": prefer ``timing``
    timing = TIMING.get(str(d.get("timing") or d.get("status") or ""))
    if timing:
        draw_text(surface, timing[0], pygame.Rect(m + w * 3 // 4, y, w // 4,
                                                   int(view.body * 1.5)),
                  timing[1], size=view.body, bold=True, align="right")
    y += int(view.body * 1.5) + m
    y = _timeline(surface, view, d, y) + m // 2
    # the one sentence that matters most, in a coloured box
    stage = str(d.get("stage", ""))
    label = str(d.get("stage_label") or "")
    counter = d.get("pickup_counter")
    if d.get("ready") or stage == "ready":
        where = f"Quầy {counter}" if counter else "quầy trả kết quả"
        text, bg, ink = f"Hồ sơ đã có kết quả. Mời ông/bà đến {where} để nhận.", SOFT_OK, OK
    elif stage == "awaiting_supplement":
        missing = "; ".join(str(x) for x in d.get("missing") or []) or "xem hướng dẫn tại quầy"
        text, bg, ink = f"Hồ sơ cần bổ sung: {missing}.", SOFT_WARN, WARN
    elif stage in ("refused", "withdrawn"):
        text, bg, ink = f"{label}. Vui lòng hỏi tại quầy để biết thêm.", SOFT_BAD, BAD
    elif stage == "returned":
        text, bg, ink = "Hồ sơ đã được trả kết quả.", SOFT_OK, OK
    else:
        text, bg, ink = (f"{label or 'Đang giải quyết'}. Ngày hẹn trả kết quả: "
                         f"{day_text(d.get('due_at'))}.", SOFT_WARN, INK)
    avail = view.height - y - view.row_h - 3 * m
    lines = len(wrap(text, view.title, w - 2 * m, True))
    rect = pygame.Rect(m, y, w, max(view.row_h, min(avail, int(view.title * 1.25 * lines)
                                                    + m)))
    box(surface, rect, bg, border=ink, width=3)
    paragraph(surface, text, rect.x + m, rect.y + m // 2, rect.w - 2 * m, view.title, ink,
              bold=True, gap=1.25)
    _history(surface, view, d, rect.bottom + m, view.height - 2 * m - view.row_h)
    draw_text(surface, "Màn hình sẽ tự xoá sau ít phút để bảo vệ thông tin của ông/bà.",
              pygame.Rect(m, view.height - m - view.row_h, w * 2 // 3, view.row_h), MUTED,
              size=view.body * 4 // 5)
