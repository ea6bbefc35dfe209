"""The kiosk's pure state machine: screens, dossier flow, scans, idle wipe."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pygame
import pytest

from appliance.clock import VN_TZ
from appliance.lookup import sample
from appliance.lookup.catalogue import Catalogue
from appliance.lookup.state import (
    BAD_ENTRY,
    BAD_SCAN,
    NO_CATALOGUE,
    NOT_FOUND,
    UNAVAILABLE,
    Action,
    DossierAnswer,
    LookupDossier,
    LookupState,
    Scan,
    Screen,
    Scroll,
    Settings,
    Tap,
    Target,
    Tick,
    TypeText,
    initial,
    step,
)
from display.lookup import View, render

NOW = datetime(2026, 11, 30, 9, 41, tzinfo=VN_TZ)
CODE = sample.DOSSIER["code"]
SCAN = f"{CODE}/{sample.DOSSIER_SECRET}"


def run(state: LookupState, *actions: Action, at: datetime = NOW) -> tuple[LookupState, list]:
    effects: list = []
    for a in actions:
        state, effects = step(state, a, at)
    return state, effects


@pytest.fixture
def home() -> LookupState:
    return initial(Settings(idle_timeout_s=60, dossier_timeout_s=45), sample.catalogue())


def test_browse_sector_and_open_detail_then_back(home: LookupState) -> None:
    s, _ = run(home, Tap(Target("procedures")))
    assert s.screen is Screen.PROCEDURES
    assert s.sector_list[0] == "Chính sách xã hội"
    s, _ = run(s, Tap(Target("sector", "Hộ tịch")))
    assert {p["name"] for p in s.in_sector()} == {"Đăng ký khai sinh", "Đăng ký kết hôn",
                                                 "Đăng ký khai tử"}
    s, _ = run(s, Tap(Target("procedure", "1.001193")))
    assert (s.screen, s.procedure) == (Screen.DETAIL, "1.001193")
    s, _ = run(s, Scroll(dy=-300, max_scroll=250))
    assert s.scroll == 250  # clamped at the end of the page
    s, _ = run(s, Scroll(dy=400, max_scroll=250))
    assert s.scroll == 0
    s, _ = run(s, Tap(Target("back")))
    assert (s.screen, s.sector) == (Screen.PROCEDURES, "Hộ tịch")


def test_search_with_the_onscreen_telex_keyboard(home: LookupState) -> None:
    s, _ = run(home, Tap(Target("search")))
    for ch in "ddawng":
        s, _ = run(s, Tap(Target("key", ch)))
    s, _ = run(s, Tap(Target("space")), Tap(Target("key", "k")), Tap(Target("key", "y")),
               Tap(Target("key", "s")))
    assert s.query == "đăng ký"
    assert {p["name"] for p in s.results} >= {"Đăng ký khai sinh", "Đăng ký kết hôn"}
    s, _ = run(s, Tap(Target("telex")))  # Telex off: the raw keys are shown
    assert s.query == "ddawng kys"
    s, _ = run(s, Tap(Target("backspace")), Tap(Target("clear")))
    assert s.keys == "" and s.results == ()


def test_typed_dossier_lookup_emits_one_request(home: LookupState) -> None:
    s, _ = run(home, Tap(Target("dossier")), TypeText(CODE.lower()))
    assert s.code == CODE  # upper-cased as typed
    s, effects = run(s, TypeText("\n"))
    assert effects == [] and s.entry_field == "secret"
    s, effects = run(s, TypeText(sample.DOSSIER_SECRET + "\n"))
    assert s.screen is Screen.DOSSIER_WAIT
    assert effects == [LookupDossier(1, CODE, sample.DOSSIER_SECRET)]


def test_malformed_typed_code_is_refused_locally(home: LookupState) -> None:
    s, effects = run(home, Tap(Target("dossier")), TypeText("12\n"), TypeText("OIL\n"))
    assert effects == []
    assert (s.screen, s.error) == (Screen.ERROR, BAD_ENTRY)
    s, _ = run(s, Tap(Target("back")))
    assert s.screen is Screen.DOSSIER_ENTRY and s.code == "12" and s.secret == ""


@pytest.mark.parametrize("garbage", ["hello", "https://evil.example/?x=1", "'; DROP TABLE",
                                     CODE, f"{CODE}/O0O0O0", "\ufffd" * 10, "a" * 500])
def test_garbage_scan_is_rejected_with_a_friendly_message(home: LookupState,
                                                          garbage: str) -> None:
    s, effects = run(home, Scan(garbage))
    assert effects == []
    assert (s.screen, s.error) == (Screen.ERROR, BAD_SCAN)


@pytest.mark.parametrize("start", ["home", "detail", "search"])
def test_a_good_scan_works_from_any_screen(home: LookupState, start: str) -> None:
    moves: dict[str, list[Action]] = {
        "home": [],
        "detail": [Tap(Target("procedures")), Tap(Target("procedure", "1.001193"))],
        "search": [Tap(Target("search")), TypeText("khai")]}
    s, _ = run(home, *moves[start])
    s, effects = run(s, Scan(f"https://tracuu.example.vn/hs?ma={CODE}&mk=k7m2qa"))
    assert effects == [LookupDossier(1, CODE, "K7M2QA")]
    assert s.keys == ""  # the search of whoever was here before is gone


def test_answers(home: LookupState) -> None:
    s, _ = run(home, Scan(SCAN))
    ok, _ = run(s, DossierAnswer(1, {"ok": True, "dossier": sample.DOSSIER}))
    assert ok.screen is Screen.DOSSIER_RESULT and ok.dossier == sample.DOSSIER
    assert ok.secret == ""  # not kept once used
    nf, _ = run(s, DossierAnswer(1, {"ok": False, "error": {"code": "not_found"}}))
    assert (nf.screen, nf.error) == (Screen.ERROR, NOT_FOUND)
    gone, _ = run(s, DossierAnswer(1, None))
    assert (gone.screen, gone.error) == (Screen.ERROR, UNAVAILABLE)
    assert "hỏi tại quầy" in UNAVAILABLE
    late, _ = run(s, DossierAnswer(7, {"ok": True, "dossier": sample.DOSSIER}))
    assert late.screen is Screen.DOSSIER_WAIT  # an answer to another request is ignored


def test_no_answer_at_all_ends_in_unavailable(home: LookupState) -> None:
    s, _ = run(home, Scan(SCAN))
    s, _ = run(s, Tick(), at=NOW + timedelta(seconds=2))
    assert s.screen is Screen.DOSSIER_WAIT
    s, _ = run(s, Tick(), at=NOW + timedelta(seconds=6))
    assert (s.screen, s.error) == (Screen.ERROR, UNAVAILABLE)


def test_idle_timeout_wipes_the_dossier_screen(home: LookupState) -> None:
    s, _ = run(home, Scan(SCAN), DossierAnswer(1, {"ok": True, "dossier": sample.DOSSIER}))
    s, _ = run(s, Tick(), at=NOW + timedelta(seconds=44))
    assert s.screen is Screen.DOSSIER_RESULT
    s, _ = run(s, Tick(), at=NOW + timedelta(seconds=45))
    assert s.screen is Screen.HOME
    assert (s.dossier, s.code, s.secret, s.keys) == (None, "", "", "")
    # and the screen shows exactly what a fresh kiosk shows: nothing of the dossier
    pygame.init()
    view = View(1280, 800, 89)
    later = NOW + timedelta(seconds=45)
    wiped = render(s, later, view, "Demo")
    fresh = render(home, later, view, "Demo")
    assert pygame.image.tobytes(wiped, "RGB") == pygame.image.tobytes(fresh, "RGB")


def test_browsing_times_out_later_than_a_dossier(home: LookupState) -> None:
    s, _ = run(home, Tap(Target("procedures")))
    s, _ = run(s, Tick(), at=NOW + timedelta(seconds=59))
    assert s.screen is Screen.PROCEDURES
    s, _ = run(s, Tick(), at=NOW + timedelta(seconds=60))
    assert s.screen is Screen.HOME


def test_touch_keeps_the_screen_alive(home: LookupState) -> None:
    s, _ = run(home, Tap(Target("procedures")))
    s, _ = run(s, Tap(Target("sector", "Đất đai")), at=NOW + timedelta(seconds=50))
    s, _ = run(s, Tick(), at=NOW + timedelta(seconds=100))
    assert s.screen is Screen.PROCEDURES


def test_without_a_catalogue_procedures_say_so(home: LookupState) -> None:
    empty = initial(Settings(), Catalogue())
    s, _ = run(empty, Tap(Target("procedures")))
    assert (s.screen, s.error) == (Screen.ERROR, NO_CATALOGUE)


def test_many_sectors_page_through(home: LookupState) -> None:
    from appliance.lookup.catalogue import Catalogue as Cat
    from display.lookup import layout

    procs: list[Mapping[str, Any]] = [{**p, "code": f"9.{i:06d}", "sector": f"Lĩnh vực {i:02d}"}
                                      for i, p in enumerate(sample.PROCEDURES * 2)]
    s = initial(Settings(), Cat.build("many", procs))
    s, _ = run(s, Tap(Target("procedures")))
    view = View(1280, 800, 89)

    def shown() -> list[str]:
        return [b.target.value for b in layout(s, view) if b.target.kind == "sector"]

    first = shown()
    assert 1 < len(first) < 16 and first[0] == "Lĩnh vực 00"
    kinds = {(b.target.kind, b.target.value) for b in layout(s, view)}
    assert ("sector_page", "1") in kinds and ("sector_page", "-1") not in kinds
    seen = list(first)
    while ("sector_page", "1") in {(b.target.kind, b.target.value) for b in layout(s, view)}:
        s, _ = run(s, Tap(Target("sector_page", "1")))
        seen += shown()
    assert seen == [f"Lĩnh vực {i:02d}" for i in range(16)]
