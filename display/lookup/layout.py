"""Where every button of every screen is: the one layout both drawing and hit-testing use.

``layout(state, view)`` is pure and needs no fonts, so a touch resolves to an action in
microseconds and a test can check every target is at least 15 mm on the panel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from appliance.lookup.state import LookupState, Screen, Target
from display.lookup.theme import View, name_line_h, name_lines


@dataclass(frozen=True)
class Rect:
    """A plain rectangle (no pygame needed to lay out or hit-test)."""

    x: int
    y: int
    w: int
    h: int

    def contains(self, px: float, py: float) -> bool:
        return self.x <= px < self.x + self.w and self.y <= py < self.y + self.h

    def inset(self, d: int) -> Rect:
        return Rect(self.x + d, self.y + d, self.w - 2 * d, self.h - 2 * d)

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def right(self) -> int:
        return self.x + self.w


@dataclass(frozen=True)
class Button:
    rect: Rect
    target: Target
    label: str
    style: str = "secondary"
    sub: str = ""


SEARCH_ROWS = ("qwertyuiop", "asdfghjkl⌫", "zxcvbnm")
CODE_ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL⌫", "ZXCVBNM.-")


def header_buttons(view: View) -> list[Button]:
    m, hh = view.margin, view.header_h
    bw = max(2 * view.target, view.width // 6)
    h = hh - 2 * (m // 2)
    return [
        Button(Rect(m, m // 2, bw, h), Target("back"), "‹ Quay lại", "secondary"),
        Button(Rect(view.width - m - bw, m // 2, bw, h), Target("home"), "Trang chủ",
               "secondary"),
    ]


def _list_area(view: View, top: int, left: int, right: int, bottom: int,
               items: list[tuple[Target, str, str]], page: int, style: str = "secondary",
               row_scale: float = 1.3) -> tuple[list[Button], int]:
    """Rows of items with ▲/▼ page buttons at the right; returns buttons and page count."""
    m = view.margin
    pager_w = view.target + m
    row_h = int(view.row_h * row_scale)
    width = right - left - pager_w - m
    # a long name wraps and its row grows (widgets.button draws it the same way)
    grow = name_line_h(view.body)
    heights = [row_h + (len(name_lines(label, view.body, width - 2 * m)) - 1) * grow
               for _, label, _ in items]
    starts = _page_starts(heights, bottom - top + m, m)
    pages = len(starts)
    page = min(page, pages - 1)
    first = starts[page]
    last = starts[page + 1] if page + 1 < pages else len(items)
    out: list[Button] = []
    y = top
    for (target, label, sub), rh in zip(items[first:last], heights[first:last], strict=True):
        out.append(Button(Rect(left, y, width, rh), target, label, style, sub))
        y += rh + m
    if pages > 1:
        px = right - pager_w + m // 2
        ph = max(view.target, (bottom - top - m) // 2)
        if page > 0:
            out.append(Button(Rect(px, top, pager_w - m // 2, ph), Target("page", "-1"), "▲"))
        if page < pages - 1:
            out.append(Button(Rect(px, bottom - ph, pager_w - m // 2, ph), Target("page", "1"),
                              "▼"))
    return out, pages


def _page_starts(heights: list[int], room: int, gap: int) -> list[int]:
    """Index of the first row of each page, rows of these heights filling ``room``."""
    starts = [0]
    used = 0
    for i, h in enumerate(heights):
        if used and used + h + gap > room:
            starts.append(i)
            used = 0
        used += h + gap
    return starts


def _keyboard(view: View, rows: tuple[str, ...], bottom_row: list[tuple[Target, str, int]],
              top: int) -> list[Button]:
    m = view.margin
    gap = max(6, m // 2)
    cols = 10
    key_w = (view.width - 2 * m - (cols - 1) * gap) // cols
    key_h = max(view.target, view.height // 11)
    out: list[Button] = []
    y = top
    for row in rows:
        x = m + (cols - len(row)) * (key_w + gap) // 2
        for ch in row:
            target = Target("backspace") if ch == "⌫" else Target("key", ch)
            out.append(Button(Rect(x, y, key_w, key_h), target, "Xoá" if ch == "⌫" else ch,
                              "key"))
            x += key_w + gap
        y += key_h + gap
    x = m
    for target, label, span in bottom_row:
        w = span * key_w + (span - 1) * gap
        style = "primary" if target.kind == "submit" else "key"
        out.append(Button(Rect(x, y, w, key_h), target, label, style))
        x += w + gap
    return out


def search_field(view: View) -> Rect:
    """The search box sits in the header, between Back and Home, to leave room for results."""
    back, home = header_buttons(view)
    x = back.rect.right + view.margin
    return Rect(x, back.rect.y, home.rect.x - view.margin - x, back.rect.h)


def keyboard_height(view: View, n_rows: int) -> int:
    gap = max(6, view.margin // 2)
    return n_rows * (max(view.target, view.height // 11) + gap)


def days_text(days: float) -> str:
    return "giải quyết trong ngày" if days == 0 else f"{days:g} ngày làm việc"


def procedure_items(procs: list[Mapping[str, Any]]) -> list[tuple[Target, str, str]]:
    items = []
    for p in procs:
        days = p.get("processing_days")
        sub = f"Mã {p.get('code')}"
        if isinstance(days, int | float):
            sub += " · " + days_text(days)
        items.append((Target("procedure", str(p["code"])), str(p.get("name", "")), sub))
    return items


def layout(state: LookupState, view: View) -> list[Button]:
    """Every touchable thing on the current screen, in drawing order."""
    w, h, m = view.width, view.height, view.margin
    top = view.header_h + m
    if state.screen is Screen.HOME:
        bw = (w - 3 * m) // 2
        bh = int((h - top - m) * 0.62)
        return [
            Button(Rect(m, top + m, bw, bh), Target("dossier"), "Tra cứu hồ sơ", "primary",
                   "Xem hồ sơ của tôi đang ở đâu"),
            Button(Rect(2 * m + bw, top + m, bw, bh), Target("procedures"),
                   "Thủ tục hành chính", "primary", "Giấy tờ cần nộp, lệ phí, thời hạn"),
        ]
    if state.screen is Screen.PROCEDURES:
        out = header_buttons(view)
        col = max(3 * view.target, w * 3 // 10)
        names = state.sector_list
        sector = state.sector or (names or [""])[0]
        sec_h = view.row_h
        per_page = max(1, (h - top - view.row_h - 2 * m) // (sec_h + m))
        if len(names) > per_page:  # a row of ▲ ▼ under the sectors pages through them
            per_page = max(1, (h - top - 2 * view.row_h - 3 * m) // (sec_h + m))
            pages = -(-len(names) // per_page)
            page = min(state.sector_page, pages - 1)
            py = h - 2 * (m + view.row_h)
            half = (col - m) // 2
            if page > 0:
                out.append(Button(Rect(m, py, half, view.row_h), Target("sector_page", "-1"),
                                  "▲"))
            if page < pages - 1:
                out.append(Button(Rect(2 * m + half, py, half, view.row_h),
                                  Target("sector_page", "1"), "▼"))
        else:
            page = 0
        y = top
        for name in names[page * per_page:(page + 1) * per_page]:
            style = "selected" if name == sector else "secondary"
            out.append(Button(Rect(m, y, col, sec_h), Target("sector", name), name, style))
            y += sec_h + m
        out.append(Button(Rect(m, h - m - view.row_h, col, view.row_h), Target("search"),
                          "Tìm thủ tục", "primary"))
        items = procedure_items(state.in_sector())
        rows, _ = _list_area(view, top, 2 * m + col, w - m, h - m, items, state.page)
        return out + rows
    if state.screen is Screen.SEARCH:
        out = header_buttons(view)
        field = search_field(view)
        out.append(Button(field, Target("keyboard", "show"), "", "none"))
        kb_top = h - m - keyboard_height(view, len(SEARCH_ROWS) + 1) if state.keyboard else h
        items = procedure_items(list(state.results))
        rows, _ = _list_area(view, top, m, w - m, kb_top - m, items, state.page,
                             row_scale=1.0 if state.keyboard else 1.3)
        out += rows
        if state.keyboard:
            bottom = [
                (Target("telex"), "Telex: bật" if state.telex else "Telex: tắt", 2),
                (Target("clear"), "Xoá hết", 2),
                (Target("space"), "Dấu cách", 3),
                (Target("submit"), "Xem kết quả", 3),
            ]
            out += _keyboard(view, SEARCH_ROWS, bottom, kb_top)
        else:
            out.append(Button(Rect(w // 3, h - m - view.row_h, w // 3, view.row_h),
                              Target("keyboard", "show"), "Hiện bàn phím", "primary"))
        return out
    if state.screen is Screen.DETAIL:
        out = header_buttons(view)
        bx = w - m - view.target
        bh = max(view.target, (h - top - 2 * m) // 2 - m)
        step = str(max(view.row_h, (h - top) * 2 // 3))
        out.append(Button(Rect(bx, top, view.target, bh), Target("scroll", "-" + step), "▲"))
        out.append(Button(Rect(bx, h - m - bh, view.target, bh), Target("scroll", step), "▼"))
        return out
    if state.screen is Screen.DOSSIER_ENTRY:
        out = header_buttons(view)
        fw = (w - 3 * m) // 2
        fy = top + int(view.body * 1.6)
        fh = view.row_h
        out.append(Button(Rect(m, fy, fw, fh), Target("field", "code"), state.code,
                          "field_active" if state.entry_field == "code" else "field"))
        out.append(Button(Rect(2 * m + fw, fy, fw, fh), Target("field", "secret"), state.secret,
                          "field_active" if state.entry_field == "secret" else "field"))
        kb_top = h - m - keyboard_height(view, len(CODE_ROWS) + 1)
        label = "Tiếp theo ›" if state.entry_field == "code" and not state.secret else "Tra cứu"
        bottom = [(Target("clear"), "Xoá ô này", 3), (Target("submit"), label, 7)]
        return out + _keyboard(view, CODE_ROWS, bottom, kb_top)
    if state.screen is Screen.DOSSIER_RESULT:
        bw = max(3 * view.target, w // 4)
        return [Button(Rect(w - m - bw, h - m - view.row_h, bw, view.row_h), Target("home"),
                       "Xong", "primary")]
    if state.screen is Screen.ERROR:
        bw = max(3 * view.target, w // 4)
        y = h - 2 * m - view.row_h
        return [
            Button(Rect(w // 2 - m - bw, y, bw, view.row_h), Target("back"), "‹ Quay lại",
                   "secondary"),
            Button(Rect(w // 2 + m, y, bw, view.row_h), Target("home"), "Trang chủ", "primary"),
        ]
    return []  # DOSSIER_WAIT: nothing to touch while the store is asked
