"""The "Lấy số thứ tự" screens as a pure state machine, in front of ``state.step``.

Home → choose the service (big rows) → confirm: the wait as the hub's queue/state last said,
priority categories to touch (người cao tuổi, người khuyết tật...) → "In phiếu" → printing →
the number, or a plain message saying why nothing was issued. The unit carries out the
``IssueTicket`` effect (appliance/lookup/ticket_desk.py) and answers with ``TicketAnswer``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from appliance.contract import ERROR_MESSAGES
from appliance.lookup.state import (
    Action,
    Effect,
    IssueTicket,
    LookupState,
    Screen,
    Tap,
    Target,
    Tick,
    TicketAnswer,
    wiped,
)
from appliance.lookup.state import (
    step as base_step,
)

TICKET_SCREENS = frozenset({Screen.TICKET_SERVICE, Screen.TICKET_CONFIRM,
                            Screen.TICKET_PRINTING, Screen.TICKET_DONE})

# what the citizen can do instead, in plain words; the staff learn the cause from health
ELSEWHERE = "Vui lòng lấy số ở máy cấp số hoặc hỏi cán bộ tại quầy."
NO_HUB = f"Máy chưa lấy được số thứ tự lúc này vì mất kết nối với hệ thống xếp hàng. {ELSEWHERE}"
PAPER_OUT = f"Máy đã hết giấy in nên chưa cấp số thứ tự. {ELSEWHERE}"
PRINTER_FAULT = f"Máy in phiếu đang gặp sự cố nên chưa cấp số thứ tự. {ELSEWHERE}"
NO_SERVICES = f"Máy chưa nhận được danh sách dịch vụ từ hệ thống xếp hàng. {ELSEWHERE}"
NOT_ISSUED = f"Chưa cấp được số thứ tự. {ELSEWHERE}"

_MESSAGES = {
    "hub_unreachable": NO_HUB, "hub_no_answer": NO_HUB, "paper_out": PAPER_OUT,
    "printer_unreachable": PRINTER_FAULT, "printer_not_answering": PRINTER_FAULT,
    "print_failed": PRINTER_FAULT, "busy_printing": NOT_ISSUED,
}


def message_for(code: str | None) -> str:
    """The sentence shown when no ticket came out (the hub's own words for its refusals)."""
    if code in _MESSAGES:
        return _MESSAGES[str(code)]
    if code in ("office_closed", "service_full", "unknown_service"):
        return f"{ERROR_MESSAGES[str(code)]} {ELSEWHERE}"
    return NOT_ISSUED


def step(state: LookupState, action: Action, now: datetime) -> tuple[LookupState, list[Effect]]:
    """``state.step`` with the ticket screens: what they do not handle goes through."""
    if isinstance(action, TicketAnswer):
        return _answer(state, action), []
    if isinstance(action, Tick) and state.screen in (Screen.TICKET_PRINTING,
                                                     Screen.TICKET_DONE):
        return _tick(state, now), []
    if isinstance(action, Tap) and state.settings.tickets and (
            state.screen in TICKET_SCREENS or action.target.kind == "take"):
        new, effects = _tap(state, action.target, now)
        return replace(new, last_input=now), effects
    return base_step(state, action, now)


def _error(state: LookupState, message: str) -> LookupState:
    return replace(state, screen=Screen.ERROR, error=message, error_back=Screen.TICKET_SERVICE,
                   sent_at=None, take_category=None)


def _tap(state: LookupState, target: Target, now: datetime
         ) -> tuple[LookupState, list[Effect]]:
    kind, screen = target.kind, state.screen
    if screen is Screen.TICKET_PRINTING:
        return state, []  # the paper is on its way: nothing to touch
    if kind == "home":
        return wiped(state), []
    if kind == "take" or (kind == "back" and screen is Screen.TICKET_CONFIRM):
        if not state.desk.services:
            return _error(wiped(state), NO_SERVICES), []
        return replace(wiped(state), screen=Screen.TICKET_SERVICE), []
    if kind == "back":
        return wiped(state), []
    if kind == "take_service" and state.desk.service(target.value) is not None:
        return replace(state, screen=Screen.TICKET_CONFIRM, take_service=target.value,
                       take_category=None), []
    if kind == "category" and screen is Screen.TICKET_CONFIRM:
        # one category at a time; touching the chosen one again makes it an ordinary ticket
        chosen = None if state.take_category == target.value else target.value
        if chosen is not None and chosen not in state.desk.categories:
            return state, []
        return replace(state, take_category=chosen), []
    if kind == "print" and screen is Screen.TICKET_CONFIRM and state.take_service:
        n = state.request + 1
        effect = IssueTicket(n, state.take_service, state.take_category is not None,
                             state.take_category)
        return replace(state, screen=Screen.TICKET_PRINTING, request=n, sent_at=now,
                       ticket=None), [effect]
    return state, []


def _answer(state: LookupState, answer: TicketAnswer) -> LookupState:
    if state.screen is not Screen.TICKET_PRINTING or answer.request != state.request:
        return state  # an answer for a screen already left (the backstop fired): drop it
    result = answer.result
    if result.ok:
        return replace(state, screen=Screen.TICKET_DONE, ticket=result, sent_at=None)
    return _error(state, message_for(result.error))


def _tick(state: LookupState, now: datetime) -> LookupState:
    if state.screen is Screen.TICKET_PRINTING:
        # the desk always answers (printed or why not); this only guards a stuck worker
        if state.sent_at is not None and \
                (now - state.sent_at).total_seconds() > state.settings.issue_timeout_s:
            return _error(state, NOT_ISSUED)
        return state
    last = state.last_input
    if last is not None and (now - last).total_seconds() >= state.settings.ticket_done_s:
        return wiped(state)
    return state
