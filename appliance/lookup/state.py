"""The kiosk as a pure state machine: ``step(state, action, now) -> (state, effects)``.

Nothing here touches the screen, the bus or the clock: the loop in ``app.py`` feeds actions
(taps resolved by hit-testing, typed keys, scans, answers, ticks) and carries out effects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from appliance.contract import ERROR_MESSAGES
from appliance.core.dossier_code import parse_scan, valid_code, valid_secret
from appliance.lookup.actions import (
    Action,
    DeskInfo,
    DeskService,
    DeskUpdate,
    DossierAnswer,
    Effect,
    IssueTicket,
    LookupDossier,
    NewCatalogue,
    Scan,
    Scroll,
    Tap,
    Target,
    Tick,
    TicketAnswer,
    TicketResult,
    TypeText,
)
from appliance.lookup.catalogue import Catalogue
from appliance.lookup.search import search, telex

# the actions and effects live in actions.py; they are named here too, where they always were
__all__ = [
    "BAD_ENTRY", "BAD_SCAN", "MAX_FIELD", "NOT_FOUND", "NO_CATALOGUE", "UNAVAILABLE", "Action",
    "DeskInfo", "DeskService", "DeskUpdate", "DossierAnswer", "Effect", "IssueTicket",
    "LookupDossier", "LookupState", "NewCatalogue", "Scan", "Screen", "Scroll", "Settings", "Tap",
    "Target", "Tick", "TicketAnswer", "TicketResult", "TypeText", "initial", "step", "wiped",
]

# what a citizen can do now, in plain words ("không khả dụng" is a technician's word)
UNAVAILABLE = "Máy chưa tra cứu được hồ sơ lúc này. Vui lòng hỏi tại quầy."
NOT_FOUND = ("Không tìm thấy hồ sơ. Vui lòng kiểm tra lại mã hồ sơ và mã tra cứu "
             "trên giấy tiếp nhận.")
BAD_SCAN = ("Mã vừa quét không phải mã hồ sơ. Vui lòng quét mã QR trên giấy tiếp nhận "
            "hồ sơ, hoặc nhập mã bằng bàn phím.")
BAD_ENTRY = "Mã hồ sơ hoặc mã tra cứu chưa đúng dạng. Vui lòng kiểm tra lại."
NO_CATALOGUE = ("Máy chưa có danh mục thủ tục. Vui lòng hỏi cán bộ tại quầy "
                "hoặc thử lại sau ít phút.")
MAX_FIELD = 40


class Screen(StrEnum):
    HOME = "home"
    PROCEDURES = "procedures"
    SEARCH = "search"
    DETAIL = "detail"
    DOSSIER_ENTRY = "dossier_entry"
    DOSSIER_WAIT = "dossier_wait"
    DOSSIER_RESULT = "dossier_result"
    ERROR = "error"
    # a terminal with a printer issues tickets (appliance/lookup/ticket_flow.py)
    TICKET_SERVICE = "ticket_service"
    TICKET_CONFIRM = "ticket_confirm"
    TICKET_PRINTING = "ticket_printing"
    TICKET_DONE = "ticket_done"


@dataclass(frozen=True)
class Settings:
    idle_timeout_s: float = 60.0
    dossier_timeout_s: float = 45.0
    lookup_timeout_s: float = 3.0
    telex: bool = True
    tickets: bool = False  # a printer is configured: the "Lấy số thứ tự" screens exist
    ticket_done_s: float = 20.0  # the printed number stays this long, then Home
    issue_timeout_s: float = 30.0  # backstop: no answer from the print by then is a failure


@dataclass(frozen=True)
class LookupState:
    settings: Settings = Settings()
    catalogue: Catalogue = field(default_factory=Catalogue)
    screen: Screen = Screen.HOME
    last_input: datetime | None = None
    # procedures
    sector: str | None = None
    sector_page: int = 0
    page: int = 0
    keys: str = ""  # raw key strokes in the search box (Telex composed for display)
    telex: bool = True
    keyboard: bool = True
    procedure: str | None = None  # code on the detail page
    scroll: int = 0
    back_to: Screen = Screen.PROCEDURES
    # dossier
    code: str = ""
    secret: str = ""
    entry_field: str = "code"
    request: int = 0
    sent_at: datetime | None = None
    dossier: Mapping[str, Any] | None = None
    error: str | None = None
    error_back: Screen = Screen.HOME
    results: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)
    # tickets
    desk: DeskInfo = field(default_factory=DeskInfo)
    take_service: str | None = None
    take_category: str | None = None  # None: an ordinary ticket
    ticket: TicketResult | None = None

    @property
    def query(self) -> str:
        """The search box as the citizen sees it."""
        return telex(self.keys) if self.telex else self.keys

    @property
    def sector_list(self) -> list[str]:
        return list(self.catalogue.sectors)

    def in_sector(self) -> list[Mapping[str, Any]]:
        sector = self.sector or next(iter(self.sector_list), None)
        return [p for p in self.catalogue.procedures if (p.get("sector") or "Khác") == sector]


def initial(settings: Settings, catalogue: Catalogue | None = None) -> LookupState:
    return LookupState(settings=settings, catalogue=catalogue or Catalogue(),
                       telex=settings.telex)


def wiped(state: LookupState) -> LookupState:
    """Home, with nothing of the previous person left (dossier, typed codes, search)."""
    return replace(initial(state.settings, state.catalogue), desk=state.desk)


def step(state: LookupState, action: Action, now: datetime) -> tuple[LookupState, list[Effect]]:
    if isinstance(action, Tick):
        return _tick(state, now), []
    if isinstance(action, NewCatalogue):
        return _with_results(replace(state, catalogue=action.catalogue)), []
    if isinstance(action, DossierAnswer):
        return _answer(state, action), []
    if isinstance(action, DeskUpdate):
        return replace(state, desk=action.desk), []
    if isinstance(action, TicketAnswer):
        return state, []  # only the ticket screens wait for it (ticket_flow.step)
    if isinstance(action, Scan):
        state, effects = _scan(state, action.text, now)
    elif isinstance(action, Scroll):
        top = max(0, min(action.max_scroll, state.scroll - action.dy))
        state, effects = replace(state, scroll=top), []
    elif isinstance(action, TypeText):
        state, effects = _type(state, action.text, now)
    else:
        state, effects = _tap(state, action.target, now)
    # a person is here: the idle timer starts again (also after wiping for a new person)
    return replace(state, last_input=now), effects


def _tick(state: LookupState, now: datetime) -> LookupState:
    if state.screen is Screen.DOSSIER_WAIT and state.sent_at is not None:
        # the worker's own timeout normally answers first; this is the backstop
        if (now - state.sent_at).total_seconds() > state.settings.lookup_timeout_s + 2.0:
            return _error(state, UNAVAILABLE, Screen.DOSSIER_ENTRY)
        return state
    if state.screen is Screen.HOME or state.last_input is None:
        return state
    private = state.screen in (Screen.DOSSIER_RESULT, Screen.DOSSIER_ENTRY, Screen.ERROR)
    limit = state.settings.dossier_timeout_s if private else state.settings.idle_timeout_s
    if (now - state.last_input).total_seconds() >= limit:
        return wiped(state)
    return state


def _error(state: LookupState, message: str, back: Screen) -> LookupState:
    return replace(state, screen=Screen.ERROR, error=message, error_back=back, sent_at=None,
                   dossier=None)


def _answer(state: LookupState, answer: DossierAnswer) -> LookupState:
    if state.screen is not Screen.DOSSIER_WAIT or answer.request != state.request:
        return state  # late answer for a lookup the person already left: drop it
    reply = answer.reply
    if reply is None:
        return _error(state, UNAVAILABLE, Screen.DOSSIER_ENTRY)
    if reply.get("ok") and isinstance(reply.get("dossier"), Mapping):
        return replace(state, screen=Screen.DOSSIER_RESULT, dossier=reply["dossier"],
                       sent_at=None, secret="")
    code = str((reply.get("error") or {}).get("code", "internal"))
    if code == "not_found":
        return _error(state, NOT_FOUND, Screen.DOSSIER_ENTRY)
    if code == "rate_limited":
        return _error(state, ERROR_MESSAGES["rate_limited"], Screen.DOSSIER_ENTRY)
    return _error(state, UNAVAILABLE, Screen.DOSSIER_ENTRY)


def _lookup(state: LookupState, code: str, secret: str,
            now: datetime) -> tuple[LookupState, list[Effect]]:
    n = state.request + 1
    new = replace(state, screen=Screen.DOSSIER_WAIT, request=n, sent_at=now, code=code,
                  secret=secret, dossier=None, error=None)
    return new, [LookupDossier(n, code, secret)]


def _scan(state: LookupState, text: str, now: datetime) -> tuple[LookupState, list[Effect]]:
    if state.screen is Screen.DOSSIER_WAIT:
        return state, []  # one lookup at a time
    found = parse_scan(text)
    if found is None:
        return _error(wiped(state), BAD_SCAN, Screen.DOSSIER_ENTRY), []
    return _lookup(wiped(state), found.code, found.secret, now)


def _type(state: LookupState, text: str, now: datetime) -> tuple[LookupState, list[Effect]]:
    effects: list[Effect] = []
    for ch in text:
        if ch == "\n":
            state, effects = _tap(state, Target("submit"), now)
        elif ch == "\b":
            state, effects = _tap(state, Target("backspace"), now)
        elif ch.isprintable():
            state, effects = _tap(state, Target("key", ch), now)
    return state, effects


def _with_results(state: LookupState) -> LookupState:
    found = search(state.catalogue.procedures, state.keys, use_telex=state.telex) \
        if state.keys.strip() else []
    return replace(state, results=tuple(found))


def _edit(state: LookupState, target: Target) -> LookupState:
    """Keyboard keys on the search box or the dossier fields."""
    if state.screen is Screen.SEARCH:
        keys = state.keys
        if target.kind == "key":
            keys = (keys + target.value)[:MAX_FIELD]
        elif target.kind == "space":
            keys = (keys + " ")[:MAX_FIELD]
        elif target.kind == "backspace":
            keys = keys[:-1]
        elif target.kind == "clear":
            keys = ""
        return _with_results(replace(state, keys=keys, page=0))
    name = state.entry_field
    value = getattr(state, name)
    if target.kind == "key":
        value = (value + target.value.upper())[:MAX_FIELD]
    elif target.kind == "backspace":
        value = value[:-1]
    elif target.kind == "clear":
        value = ""
    return replace(state, **{name: value})


def _tap(state: LookupState, target: Target, now: datetime) -> tuple[LookupState, list[Effect]]:
    kind = target.kind
    if kind == "home":
        return wiped(state), []
    if kind == "dossier":
        return replace(wiped(state), screen=Screen.DOSSIER_ENTRY), []
    if kind == "procedures":
        if state.catalogue.empty:
            return _error(state, NO_CATALOGUE, Screen.HOME), []
        return replace(state, screen=Screen.PROCEDURES, page=0), []
    if kind == "search":
        if state.catalogue.empty:
            return _error(state, NO_CATALOGUE, Screen.HOME), []
        return replace(state, screen=Screen.SEARCH, keyboard=True, page=0), []
    if kind == "sector":
        return replace(state, screen=Screen.PROCEDURES, sector=target.value, page=0), []
    if kind == "sector_page":
        return replace(state, sector_page=max(0, state.sector_page + int(target.value or "0"))), []
    if kind == "page":
        return replace(state, page=max(0, state.page + int(target.value or "0"))), []
    if kind == "procedure":
        if state.catalogue.get(target.value) is None:
            return state, []
        return replace(state, screen=Screen.DETAIL, procedure=target.value, scroll=0,
                       back_to=state.screen), []
    if kind == "back":
        if state.screen is Screen.DETAIL:
            return replace(state, screen=state.back_to, procedure=None, scroll=0), []
        if state.screen is Screen.ERROR:
            # the code typed so far stays so a typo can be fixed; the secret is typed again
            return replace(state, screen=state.error_back, error=None, secret="",
                           entry_field="code" if not state.code else "secret"), []
        return wiped(state), []
    if kind == "scroll":
        return replace(state, scroll=max(0, state.scroll + int(target.value or "0"))), []
    if kind == "telex":
        return _with_results(replace(state, telex=not state.telex)), []
    if kind == "keyboard":
        show = True if target.value == "show" else not state.keyboard
        return replace(state, keyboard=show, page=0), []
    if kind == "field" and state.screen is Screen.DOSSIER_ENTRY:
        return replace(state, entry_field="secret" if target.value == "secret" else "code"), []
    if kind in ("key", "space", "backspace", "clear"):
        if state.screen in (Screen.SEARCH, Screen.DOSSIER_ENTRY):
            return _edit(state, target), []
        return state, []
    if kind == "submit" and state.screen is Screen.DOSSIER_ENTRY:
        if state.entry_field == "code" and not state.secret:
            return replace(state, entry_field="secret"), []
        if not (valid_code(state.code) and valid_secret(state.secret)):
            return _error(state, BAD_ENTRY, Screen.DOSSIER_ENTRY), []
        return _lookup(state, state.code, state.secret, now)
    if kind == "submit" and state.screen is Screen.SEARCH:
        return replace(state, keyboard=False, page=0), []
    return state, []
