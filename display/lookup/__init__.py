"""The lookup kiosk's screens as pure functions of (state, now) → pygame Surface.

``render(state, now, view)`` draws; ``hit(state, view, x, y)`` resolves a touch with the
same layout; ``max_scroll(state, view)`` bounds a drag on the detail page.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from appliance.lookup.state import LookupState, Screen, Target
from appliance.lookup.ticket_flow import TICKET_SCREENS
from display.lookup import layout as base
from display.lookup import tickets
from display.lookup.layout import Button, Rect
from display.lookup.theme import View

if TYPE_CHECKING:
    import pygame

__all__ = ["Button", "Rect", "View", "hit", "layout", "max_scroll", "render", "render_into",
           "warm_up"]

TITLES = {
    Screen.PROCEDURES: "Thủ tục hành chính",
    Screen.SEARCH: "Tìm thủ tục",
    Screen.DETAIL: "Chi tiết thủ tục",
    Screen.DOSSIER_ENTRY: "Tra cứu hồ sơ",
    Screen.DOSSIER_WAIT: "Tra cứu hồ sơ",
    Screen.DOSSIER_RESULT: "Kết quả tra cứu hồ sơ",
    Screen.ERROR: "Thông báo",
    Screen.TICKET_SERVICE: "Lấy số thứ tự: chọn dịch vụ",
    Screen.TICKET_CONFIRM: "Lấy số thứ tự",
    Screen.TICKET_PRINTING: "Lấy số thứ tự",
    Screen.TICKET_DONE: "Lấy số thứ tự",
}


def layout(state: LookupState, view: View) -> list[Button]:
    """Every touchable thing on the current screen, in drawing order (display.lookup.layout,
    and display.lookup.tickets for a terminal with a printer)."""
    if state.screen in TICKET_SCREENS or (state.screen is Screen.HOME and state.settings.tickets):
        return tickets.layout(state, view)
    return base.layout(state, view)


def hit(state: LookupState, view: View, x: float, y: float) -> Target | None:
    """What a touch at (x, y) means on the current screen (None: nothing there)."""
    for button in reversed(layout(state, view)):
        if button.rect.contains(x, y):
            return button.target
    return None


def max_scroll(state: LookupState, view: View) -> int:
    from display.lookup import detail

    proc = state.catalogue.get(state.procedure or "")
    return detail.max_scroll(proc, view) if proc else 0


def render(state: LookupState, now: datetime, view: View, title: str = "") -> pygame.Surface:
    """A new surface of the whole screen."""
    import pygame

    surface = pygame.Surface((view.width, view.height))
    render_into(surface, state, now, view, title)
    return surface


def render_into(surface: pygame.Surface, state: LookupState, now: datetime, view: View,
                title: str = "") -> None:
    """Draw the whole screen onto ``surface`` (the display, or an off-screen one)."""
    from display.lookup import detail, dossier, screens, widgets
    from display.lookup.theme import BG

    surface.fill(BG)
    if state.screen is Screen.HOME:
        widgets.header(surface, view, title, now, centered=True)
    else:
        widgets.header(surface, view, "" if state.screen is Screen.SEARCH
                       else TITLES[state.screen], now)
    if state.screen is Screen.HOME:
        screens.draw_home(surface, view, state)
    elif state.screen is Screen.PROCEDURES:
        screens.draw_procedures(surface, view, state)
    elif state.screen is Screen.SEARCH:
        screens.draw_search(surface, view, state)
    elif state.screen is Screen.DETAIL:
        proc = state.catalogue.get(state.procedure or "")
        if proc is not None:
            detail.draw(surface, view, proc, state.scroll)
    elif state.screen is Screen.DOSSIER_ENTRY:
        dossier.draw_entry(surface, view, state)
    elif state.screen is Screen.DOSSIER_WAIT:
        dossier.draw_wait(surface, view, state)
    elif state.screen is Screen.DOSSIER_RESULT:
        dossier.draw_result(surface, view, state)
    elif state.screen is Screen.ERROR:
        screens.draw_error(surface, view, state)
    else:
        tickets.draw(surface, view, state)
    for b in layout(state, view):
        widgets.button(surface, view, b)


def warm_up(state: LookupState, view: View, now: datetime, title: str = "") -> Iterator[None]:
    """Draw, off screen, what a person is likely to open next, one piece per step.

    The first time a label or a procedure page is measured costs tens of milliseconds
    (freetype); the loop runs these steps while nobody is touching the kiosk, so a real
    touch finds everything measured and the next screen is drawn in a few milliseconds.
    """
    import pygame

    from appliance.lookup.state import Tap, Target, TypeText, step
    from display.lookup import detail

    scratch = pygame.Surface((view.width, view.height))
    base = state
    journeys: list[list[object]] = [
        [], [Tap(Target("procedures"))], [Tap(Target("search"))],
        [Tap(Target("search")), TypeText("a"), Tap(Target("submit"))],
        [Tap(Target("dossier"))], [Tap(Target("dossier")), TypeText("0\n")],
    ]
    journeys += [[Tap(Target("procedures")), Tap(Target("sector", name))]
                 for name in state.sector_list]
    for actions in journeys:
        s = base
        for a in actions:
            s, _ = step(s, a, now)  # type: ignore[arg-type]
        render_into(scratch, s, now, view, title)
        yield
    for proc in state.catalogue.procedures:
        detail.lines_for(proc, view)
        yield
