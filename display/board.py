"""The lobby board's screen: pure functions of (view, now) to pixels, with dirty rectangles.

``render(view, now, options)`` returns a fresh Surface (screenshots, tests, PNG frames).
``BoardRenderer.frame(target, view, now)`` paints onto a live screen and returns only the
rectangles whose content changed, so an idle board redraws one clock a minute.
Layouts: 1920×1080 and 1280×720, landscape or portrait (the same screen turned).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from appliance.board.view import BoardView
from display import board_parts as parts

if TYPE_CHECKING:
    import pygame

Page = Literal["queue", "dossier"]


@dataclass(frozen=True)
class BoardOptions:
    size: tuple[int, int] = (1920, 1080)
    english: bool = True
    highlight_s: float = 15.0
    ticker_speed: int = 90  # pixels per second
    ticker_fps: int = 15

    @property
    def portrait(self) -> bool:
        return self.size[1] > self.size[0]

    @property
    def style(self) -> parts.Style:
        return parts.Style(u=min(self.size) / 1080, english=self.english)


def banner_for(view: BoardView, page: Page) -> tuple[str, str] | None:
    """The alert strip's wording, or None when the data shown is known to be current.

    Citizens read it: it says what it means for them (the numbers may be old), not what
    broke; staff see the fault itself in the unit's status (``motcua status``).
    """
    if page == "dossier":
        if view.dossier_online:
            return None
        if not view.online and view.ever_synced:
            return (STALE_VI, STALE_EN)
        return ("Thông tin hồ sơ có thể chưa cập nhật", "Dossier information may be out of date")
    if view.online:
        return None
    if not view.ever_synced:
        return ("Đang tải thông tin hàng chờ…", "Loading the queue…")
    return (STALE_VI, STALE_EN)


STALE_VI, STALE_EN = "Thông tin có thể chưa cập nhật", "Information may be out of date"


@lru_cache(maxsize=32)
def layout(options: BoardOptions, page: Page, banner: bool) -> dict[str, tuple[int, ...]]:
    """Region name → (x, y, w, h) for this screen, page and banner state."""
    w, h = options.size
    st = options.style
    px = st.px
    if options.portrait:
        head_h, clock_w, ticker_h, banner_h = px(170), px(330), px(80), px(96)
    else:
        head_h, clock_w, ticker_h, banner_h = px(130), px(440), px(72), px(90)
    r: dict[str, tuple[int, ...]] = {
        "header": (0, 0, w - clock_w, head_h),
        "clock": (w - clock_w, 0, clock_w, head_h),
        "ticker": (0, h - ticker_h, w, ticker_h),
    }
    top = head_h
    if banner:
        r["banner"] = (0, top, w, banner_h)
        top += banner_h
    body_h = h - ticker_h - top
    if page == "queue":
        if options.portrait:
            call_h = min(px(620), body_h * 4 // 10)
            rest = body_h - call_h
            r["call"] = (0, top, w, call_h)
            r["table"] = (0, top + call_h, w, rest * 55 // 100)
            r["waiting"] = (0, top + call_h + rest * 55 // 100, w, rest - rest * 55 // 100)
        else:
            left = w * 56 // 100
            call_h = body_h * 56 // 100
            r["table"] = (0, top, left, body_h)
            r["call"] = (left, top, w - left, call_h)
            r["waiting"] = (left, top + call_h, w - left, body_h - call_h)
    elif options.portrait:
        ready_h = body_h * 58 // 100
        r["ready"] = (0, top, w, ready_h)
        r["figures"] = (0, top + ready_h, w, body_h - ready_h)
    else:
        left = w * 56 // 100
        r["ready"] = (0, top, left, body_h)
        r["figures"] = (left, top, w - left, body_h)
    return r


def highlighted(view: BoardView, now: datetime, options: BoardOptions) -> bool:
    if not view.calls:
        return False
    age = (now - view.calls[0].at).total_seconds()
    return 0 <= age < options.highlight_s


class BoardRenderer:
    """Keeps what each region last showed; repaints only regions whose input changed."""

    def __init__(self, options: BoardOptions) -> None:
        self.options = options
        self._keys: dict[str, Any] = {}
        self._layout_key: Any = None
        self._strip_key: Any = None
        self._strip: pygame.Surface | None = None

    def invalidate(self) -> None:
        self._keys.clear()
        self._layout_key = None

    def _ticker(self, text: str, height: int) -> pygame.Surface | None:
        key = (text, height)
        if key != self._strip_key:
            self._strip_key = key
            self._strip = parts.ticker_strip(text, height)
        return self._strip

    def ticker_offset(self, view: BoardView, now: datetime) -> int:
        regions = layout(self.options, "queue", False)
        _, _, w, h = regions["ticker"]
        period = parts.ticker_period(self._ticker(view.notice, h), w, self.options.style)
        if not period:
            return 0
        return int(now.timestamp() * self.options.ticker_speed) % period

    def frame(self, target: pygame.Surface, view: BoardView, now: datetime,
              page: Page = "queue", only: frozenset[str] | None = None) -> list[pygame.Rect]:
        """Repaint what changed; ``only`` limits this pass to those regions (the rest
        stays due for the next pass), so a new call reaches the glass first."""
        import pygame

        st = self.options.style
        banner = banner_for(view, page)
        regions = {k: pygame.Rect(v) for k, v in layout(self.options, page,
                                                         banner is not None).items()}
        lkey = (page, banner is not None, target.get_size())
        full = lkey != self._layout_key
        if full:
            self._layout_key = lkey
            self._keys.clear()
            target.fill(parts.BG)
        hl = highlighted(view, now, self.options)
        fresh = view.calls[0].number if hl else None
        wanted: dict[str, Any] = {
            "header": (view.office_name, view.office_name_en),
            "clock": f"{now:%H:%M %Y-%m-%d}",
            "ticker": (view.notice, self.ticker_offset(view, now)),
        }
        if banner is not None:
            wanted["banner"] = (banner, view.last_update)
        if page == "queue":
            wanted["table"] = (view.counters, fresh)
            wanted["call"] = (view.calls, hl)
            wanted["waiting"] = view.services
        else:
            wanted["ready"] = view.dossier
            wanted["figures"] = (view.dossier, f"{now:%Y-%m}")
        dirty: list[pygame.Rect] = []
        for name, key in wanted.items():
            if self._keys.get(name, _UNSET) == key:
                continue
            if only is not None and not full and name not in only:
                continue
            self._keys[name] = key
            rect = regions[name]
            self._draw(target, name, rect, st, view, now, banner, hl, fresh)
            dirty.append(rect)
        return [target.get_rect()] if full else dirty

    def _draw(self, s: pygame.Surface, name: str, rect: pygame.Rect, st: parts.Style,
              view: BoardView, now: datetime, banner: tuple[str, str] | None, hl: bool,
              fresh: str | None) -> None:
        clip = s.get_clip()
        s.set_clip(rect)
        try:
            if name == "header":
                parts.draw_header(s, rect, st, view.office_name, view.office_name_en)
            elif name == "clock":
                parts.draw_clock(s, rect, st, now)
            elif name == "banner" and banner is not None:
                parts.draw_banner(s, rect, st, banner[0], banner[1], view.last_update)
            elif name == "table":
                parts.draw_table(s, rect, st, view.counters, fresh)
            elif name == "call":
                parts.draw_call(s, rect, st, view.calls, hl)
            elif name == "waiting":
                parts.draw_waiting(s, rect, st, view.services)
            elif name == "ticker":
                strip = self._ticker(view.notice, rect.height)
                parts.draw_ticker(s, rect, st, strip, self._keys["ticker"][1])
            elif name == "ready":
                parts.draw_ready(s, rect, st, view.dossier)
            elif name == "figures":
                parts.draw_figures(s, rect, st, view.dossier, now)
        finally:
            s.set_clip(clip)

    def next_change(self, view: BoardView, now: datetime) -> float:
        """Seconds until the picture changes by itself (clock, highlight end, ticker step)."""
        waits = [60.0 - now.second - now.microsecond / 1e6]
        if view.calls:
            end = view.calls[0].at + timedelta(seconds=self.options.highlight_s)
            if end > now:
                waits.append((end - now).total_seconds())
        if self.ticker_offset(view, now) or self._strip_scrolls(view):
            waits.append(1.0 / self.options.ticker_fps)
        return max(0.0, min(waits))

    def _strip_scrolls(self, view: BoardView) -> bool:
        _, _, w, h = layout(self.options, "queue", False)["ticker"]
        return parts.ticker_period(self._ticker(view.notice, h), w, self.options.style) > 0


_UNSET = object()


def render(view: BoardView, now: datetime, options: BoardOptions | None = None,
           page: Page = "queue") -> pygame.Surface:
    """The whole board as a new Surface: a pure function of its arguments."""
    import pygame

    options = options or BoardOptions()
    surface = pygame.Surface(options.size)
    BoardRenderer(options).frame(surface, view, now, page)
    return surface
