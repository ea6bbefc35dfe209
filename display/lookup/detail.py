"""A procedure's detail page: documents, fee, time, where to submit — scrolled by drag."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from display.lookup.layout import days_text
from display.lookup.theme import BG, HEADER, INK, LINE, MUTED, View, draw_text, wrap

if TYPE_CHECKING:
    import pygame

Line = tuple[str, int, bool, tuple[int, int, int], int]  # text, size, bold, colour, indent


def _fee(value: Any) -> str:
    if value in (None, "", 0, "0"):
        return "Không mất phí"
    if isinstance(value, int | float):
        return f"{value:,.0f} đồng".replace(",", ".")
    return str(value)


def _items(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]


def _document(doc: Any) -> str:
    if not isinstance(doc, Mapping):
        return str(doc)
    parts = []
    if doc.get("original"):
        parts.append(f"{doc['original']} bản chính")
    if doc.get("copies"):
        parts.append(f"{doc['copies']} bản sao")
    extra = f" ({', '.join(parts)})" if parts else ""
    return f"{doc.get('name', '')}{extra}"


def sections(proc: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """The page's sections in the order a citizen asks about them."""
    days = proc.get("processing_days")
    time = days_text(days) if isinstance(days, int | float) else _items(days)
    out: list[tuple[str, list[str]]] = [
        ("Thời hạn giải quyết", [time] if isinstance(time, str) else time),
        ("Lệ phí", [_fee(proc.get("fee"))]),
        ("Nơi nộp và cách thức", _items(proc.get("agency")) + _items(proc.get("method"))),
        ("Thành phần hồ sơ", [_document(d) for d in proc.get("documents") or []]),
        ("Trình tự thực hiện", _items(proc.get("steps"))),
        ("Đối tượng thực hiện", _items(proc.get("applicant"))),
        ("Điều kiện", _items(proc.get("conditions"))),
        ("Kết quả", _items(proc.get("result"))),
        ("Căn cứ pháp lý", _items(proc.get("legal_basis"))),
    ]
    return [(title, body) for title, body in out if body]


def _lines(proc: Mapping[str, Any], view: View, width: int) -> list[Line]:
    lines: list[Line] = []
    body, head = view.body, view.title
    for t in wrap(str(proc.get("name", "")), head, width, True):
        lines.append((t, head, True, INK, 0))
    meta = f"Mã thủ tục {proc.get('code', '')}"
    if proc.get("sector"):
        meta += f" · Lĩnh vực {proc['sector']}"
    for t in wrap(meta, body, width):
        lines.append((t, body, False, MUTED, 0))
    bullet_w = int(body * 1.2)
    for title, items in sections(proc):
        lines.append(("", body // 2, False, INK, 0))
        lines.append((title, body, True, HEADER, 0))
        numbered = len(items) > 1
        for n, item in enumerate(items, 1):
            wrapped = wrap(item, body, width - bullet_w)
            for k, t in enumerate(wrapped):
                prefix = (f"{n}." if numbered else "•") if k == 0 else ""
                lines.append((prefix + "\t" + t, body, False, INK, bullet_w))
    return lines


def _text_width(view: View) -> int:
    return view.width - 4 * view.margin - view.target


@lru_cache(maxsize=512)
def _cached(width: int, height: int, target: int, blob: str) -> list[Line]:
    view = View(width, height, target)
    return _lines(json.loads(blob), view, _text_width(view))


def lines_for(proc: Mapping[str, Any], view: View) -> list[Line]:
    """The page wrapped into lines (cached: wrapping is the slow part of a frame)."""
    blob = json.dumps(proc, sort_keys=True, ensure_ascii=False)
    return _cached(view.width, view.height, view.target, blob)


def _line_h(size: int) -> int:
    return int(size * 1.35)


def content_height(proc: Mapping[str, Any], view: View) -> int:
    return sum(_line_h(s) for _, s, _, _, _ in lines_for(proc, view))


def max_scroll(proc: Mapping[str, Any], view: View) -> int:
    visible = view.height - view.header_h - 2 * view.margin
    return max(0, content_height(proc, view) - visible)


def draw(surface: pygame.Surface, view: View, proc: Mapping[str, Any], scroll: int) -> None:
    import pygame

    m = view.margin
    top = view.header_h + m
    area = pygame.Rect(m, top, _text_width(view) + 2 * m, view.height - top - m)
    scroll = max(0, min(scroll, max_scroll(proc, view)))
    surface.set_clip(area)
    y = top - scroll
    for text, size, bold, color, indent in lines_for(proc, view):
        lh = _line_h(size)
        if y + lh >= top and y <= view.height and text:
            prefix, _, rest = text.partition("\t") if "\t" in text else ("", "", text)
            if prefix:
                draw_text(surface, prefix, pygame.Rect(2 * m, y, indent, lh), color,
                          size=size, bold=True, shrink=False)
            draw_text(surface, rest, pygame.Rect(2 * m + indent, y, area.w - indent, lh),
                      color, size=size, bold=bold, shrink=False)
        y += lh
    surface.set_clip(None)
    # a scroll bar shows there is more below (and how much)
    total = content_height(proc, view)
    if total > area.h:
        track = pygame.Rect(area.right - m + m // 4, top, max(6, m // 2), area.h)
        pygame.draw.rect(surface, BG, track)
        thumb_h = max(view.target // 2, area.h * area.h // total)
        thumb_y = top + (area.h - thumb_h) * scroll // max(1, total - area.h)
        pygame.draw.rect(surface, LINE, track, border_radius=4)
        pygame.draw.rect(surface, HEADER, pygame.Rect(track.x, thumb_y, track.w, thumb_h),
                         border_radius=4)
