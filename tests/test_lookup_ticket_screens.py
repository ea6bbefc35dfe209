"""The "Lấy số thứ tự" screens as pure functions: the flow's steps, the pictures against
references, touch targets of at least 15 mm, and Vietnamese text (NFC, every glyph)."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pygame
import pytest

from appliance.lookup import sample, ticket_flow
from appliance.lookup.state import (
    DeskInfo,
    DeskService,
    IssueTicket,
    LookupState,
    Screen,
    Settings,
    Tap,
    Target,
    Tick,
    TicketAnswer,
    TicketResult,
    initial,
)
from appliance.lookup.ticket_flow import step
from display.fonts import font_path, missing_glyphs
from display.lookup import hit, layout, render
from display.lookup import tickets as view_tickets
from tests.test_lookup_screens import NOW, REF, SIZES, TITLE, _differing, view_for

DESK = DeskInfo(
    services=(DeskService("A", "Chứng thực", 4, 1200), DeskService("B", "Hộ tịch", 0, 0),
              DeskService("C", "Đất đai – Xây dựng", 12, 4000), DeskService("D", "Khác")),
    categories=("người cao tuổi", "phụ nữ mang thai", "người khuyết tật", "người có công"),
)


def fresh(tickets: bool = True) -> LookupState:
    return replace(initial(Settings(tickets=tickets), sample.catalogue()), desk=DESK)


def go(*actions: object, start: Callable[[], LookupState] = fresh) -> LookupState:
    s = start()
    for a in actions:
        s, _ = step(s, a, NOW)  # type: ignore[arg-type]
    return s


CONFIRM = (Tap(Target("take")), Tap(Target("take_service", "A")))
SCREENS: dict[str, Callable[[], LookupState]] = {
    "home-tickets": lambda: go(),
    "ticket-service": lambda: go(Tap(Target("take"))),
    "ticket-confirm": lambda: go(*CONFIRM, Tap(Target("category", "người cao tuổi"))),
    "ticket-printing": lambda: go(*CONFIRM, Tap(Target("print"))),
    "ticket-done": lambda: go(*CONFIRM, Tap(Target("print")),
                              TicketAnswer(1, TicketResult(True, "A005", "Chứng thực"))),
    "ticket-paper-out": lambda: go(*CONFIRM, Tap(Target("print")),
                                   TicketAnswer(1, TicketResult(False, error="paper_out"))),
}


@pytest.fixture(scope="module", autouse=True)
def _pygame() -> None:
    pygame.init()


# ---- the flow ------------------------------------------------------------------------
def test_print_asks_for_a_priority_ticket_of_the_chosen_category() -> None:
    s = go(*CONFIRM, Tap(Target("category", "người khuyết tật")))
    assert s.screen is Screen.TICKET_CONFIRM and s.take_category == "người khuyết tật"
    s, effects = step(s, Tap(Target("print")), NOW)
    assert s.screen is Screen.TICKET_PRINTING
    assert effects == [IssueTicket(s.request, "A", True, "người khuyết tật")]


def test_touching_the_chosen_category_again_makes_an_ordinary_ticket() -> None:
    s = go(*CONFIRM, Tap(Target("category", "người cao tuổi")),
           Tap(Target("category", "người cao tuổi")))
    assert s.take_category is None
    _, effects = step(s, Tap(Target("print")), NOW)
    assert effects == [IssueTicket(1, "A", False, None)]


def test_an_unknown_category_or_service_changes_nothing() -> None:
    s = go(*CONFIRM)
    assert go(Tap(Target("category", "khách quen")), start=lambda: s) == s
    listed = go(Tap(Target("take")))
    assert go(Tap(Target("take_service", "Z")), start=lambda: listed) == listed


def test_while_printing_touches_do_nothing_and_a_late_answer_is_dropped() -> None:
    s = go(*CONFIRM, Tap(Target("print")))
    assert go(Tap(Target("home")), start=lambda: s).screen is Screen.TICKET_PRINTING
    other = go(TicketAnswer(s.request + 5, TicketResult(True, "A009")), start=lambda: s)
    assert other.screen is Screen.TICKET_PRINTING


def test_back_from_confirm_is_the_service_list_and_home_wipes_but_keeps_the_desk() -> None:
    s = go(*CONFIRM, Tap(Target("category", "người cao tuổi")), Tap(Target("back")))
    assert s.screen is Screen.TICKET_SERVICE and s.take_category is None
    home = go(Tap(Target("home")), start=lambda: s)
    assert home.screen is Screen.HOME and home.desk == DESK and home.take_service is None


def test_failures_say_what_happened_in_plain_words() -> None:
    for code, text in (("paper_out", ticket_flow.PAPER_OUT),
                       ("printer_unreachable", ticket_flow.PRINTER_FAULT),
                       ("hub_unreachable", ticket_flow.NO_HUB),
                       ("hub_no_answer", ticket_flow.NO_HUB)):
        s = go(*CONFIRM, Tap(Target("print")), TicketAnswer(1, TicketResult(False, error=code)))
        assert s.screen is Screen.ERROR and s.error == text
        back, _ = step(s, Tap(Target("back")), NOW)
        assert back.screen is Screen.TICKET_SERVICE
    assert ticket_flow.message_for("office_closed").startswith("Ngoài giờ làm việc.")


def test_the_number_leaves_the_screen_after_a_while_and_a_stuck_print_is_a_failure() -> None:
    done = SCREENS["ticket-done"]()
    later = NOW + timedelta(seconds=done.settings.ticket_done_s + 1)
    assert step(done, Tick(), later)[0].screen is Screen.HOME
    printing = SCREENS["ticket-printing"]()
    stuck = NOW + timedelta(seconds=printing.settings.issue_timeout_s + 1)
    s, _ = step(printing, Tick(), stuck)
    assert s.screen is Screen.ERROR and s.error == ticket_flow.NOT_ISSUED


def test_without_a_printer_there_is_no_ticket_screen() -> None:
    s = go(Tap(Target("take")), start=lambda: fresh(tickets=False))
    assert s.screen is Screen.HOME
    view = view_for(1280, 800, 217.0)
    assert {b.target.kind for b in layout(s, view)} == {"dossier", "procedures"}


def test_no_services_yet_says_so() -> None:
    s = go(Tap(Target("take")), start=lambda: replace(fresh(), desk=DeskInfo()))
    assert s.screen is Screen.ERROR and s.error == ticket_flow.NO_SERVICES


def test_the_wait_line_reads_the_queue() -> None:
    a, b, _, d = DESK.services
    assert view_tickets.wait_line(a) == "Đang chờ: 4 người · khoảng 20 phút"
    assert view_tickets.wait_line(b) == "Không có người chờ: được mời ngay"
    assert view_tickets.wait_line(d) == "Chưa có thông tin hàng chờ"


# ---- what a person sees --------------------------------------------------------------
@pytest.mark.parametrize(("w", "h", "mm"), SIZES, ids=["1920x1080", "1280x800"])
@pytest.mark.parametrize("name", list(SCREENS))
def test_ticket_screen_matches_reference(name: str, w: int, h: int, mm: float) -> None:
    surface = render(SCREENS[name](), NOW, view_for(w, h, mm), TITLE)
    ref = REF / f"{name}-{w}x{h}.png"
    if os.environ.get("MOTCUA_UPDATE_REFERENCE"):
        pygame.image.save(surface, str(ref))
    assert ref.exists(), f"no reference {ref}: run with MOTCUA_UPDATE_REFERENCE=1 and look"
    expected = pygame.image.load(str(ref))
    share = _differing(pygame.transform.scale(surface, (w // 4, h // 4)),
                       pygame.transform.scale(expected, (w // 4, h // 4)))
    assert share < 0.01, f"{name} {w}x{h}: {share:.2%} of pixels differ from {ref.name}"


@pytest.mark.parametrize(("w", "h", "mm"), SIZES, ids=["1920x1080", "1280x800"])
@pytest.mark.parametrize("name", list(SCREENS))
def test_ticket_targets_are_15mm_apart_and_hit(name: str, w: int, h: int, mm: float) -> None:
    state = SCREENS[name]()
    view = view_for(w, h, mm)
    buttons = layout(state, view)
    px_per_mm = w / mm
    for i, a in enumerate(buttons):
        assert a.rect.w / px_per_mm >= 15 and a.rect.h / px_per_mm >= 15, a
        assert a.rect.x >= 0 and a.rect.y >= 0 and a.rect.right <= w and a.rect.bottom <= h, a
        for b in buttons[i + 1:]:
            assert not (a.rect.x < b.rect.right and b.rect.x < a.rect.right
                        and a.rect.y < b.rect.bottom and b.rect.y < a.rect.bottom), (a, b)
        assert hit(state, view, a.rect.x + a.rect.w / 2, a.rect.y + a.rect.h / 2) == a.target


def test_the_print_button_and_categories_are_bigger_than_the_minimum() -> None:
    view = view_for(1280, 800, 217.0)
    by = {b.target.kind: b for b in layout(SCREENS["ticket-confirm"](), view)}
    assert by["print"].rect.h >= int(1.3 * view.target) and by["print"].rect.w >= 1280 // 2
    assert by["category"].rect.w >= 5 * view.target


def test_every_citizen_sentence_is_nfc_and_printable_with_the_fonts() -> None:
    texts = [ticket_flow.NO_HUB, ticket_flow.PAPER_OUT, ticket_flow.PRINTER_FAULT,
             ticket_flow.NO_SERVICES, ticket_flow.NOT_ISSUED, view_tickets.DONE_HINT,
             view_tickets.PRINTING, "Số thứ tự của ông/bà", "Lấy số thứ tự", "In phiếu ưu tiên",
             "Chờ đến lượt làm thủ tục", "Ưu tiên (chạm để chọn nếu ông/bà là):"]
    texts += [b.label + b.sub for name in SCREENS for b in layout(SCREENS[name](),
                                                               view_for(1280, 800, 217.0))]
    for text in texts:
        assert unicodedata.normalize("NFC", text) == text, text
        for bold in (False, True):
            assert missing_glyphs(font_path(bold), text) == [], text
