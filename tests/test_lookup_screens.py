"""Every kiosk screen at 1920×1080 and 1280×800 against reference PNGs; layout rules.

Regenerate the references (after a deliberate change, then LOOK at them) with
``MOTCUA_UPDATE_REFERENCE=1 .venv/bin/python -m pytest tests/test_lookup_screens.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pygame
import pytest

from appliance.clock import VN_TZ
from appliance.lookup import sample
from appliance.lookup.state import (
    DossierAnswer,
    LookupState,
    Scan,
    Settings,
    Tap,
    Target,
    TypeText,
    initial,
    step,
)
from display.lookup import View, hit, layout, render

REF = Path(__file__).parent / "reference" / "lookup"
NOW = datetime(2026, 11, 30, 9, 41, tzinfo=VN_TZ)
TITLE = "Trung tâm Phục vụ hành chính công phường Mẫu"
SCAN = f"{sample.DOSSIER['code']}/{sample.DOSSIER_SECRET}"
# (width, height, panel width in mm): a 15.6" and a 10.1" panel
SIZES = [(1920, 1080, 344.0), (1280, 800, 217.0)]


def view_for(w: int, h: int, mm: float) -> View:
    return View(w, h, int(-(-15.0 * w // mm)))


def _go(*actions: object) -> Callable[[], LookupState]:
    def build() -> LookupState:
        s = initial(Settings(), sample.catalogue())
        for a in actions:
            s, _ = step(s, a, NOW)  # type: ignore[arg-type]
        return s
    return build


SCREENS: dict[str, Callable[[], LookupState]] = {
    "home": _go(),
    "procedures": _go(Tap(Target("procedures")), Tap(Target("sector", "Hộ tịch"))),
    "procedures-long-names": _go(Tap(Target("procedures")),
                                 Tap(Target("sector", "Chính sách xã hội"))),
    "search": _go(Tap(Target("search")), TypeText("ddawng kys")),
    "search-results": _go(Tap(Target("search")), TypeText("dang ky"), Tap(Target("submit"))),
    "detail": _go(Tap(Target("procedures")), Tap(Target("procedure", "1.001193"))),
    "detail-scrolled": _go(Tap(Target("procedures")), Tap(Target("procedure", "1.001193")),
                           Tap(Target("scroll", "400"))),
    "dossier-entry": _go(Tap(Target("dossier")), TypeText(sample.DOSSIER["code"] + "\nK7M")),
    "dossier-wait": _go(Scan(SCAN)),
    "dossier-ready": _go(Scan(SCAN), DossierAnswer(1, {"ok": True, "dossier": sample.DOSSIER})),
    "dossier-supplement": _go(Scan(SCAN),
                              DossierAnswer(1, {"ok": True, "dossier": sample.SUPPLEMENT})),
    "error-unavailable": _go(Scan(SCAN), DossierAnswer(1, None)),
    "error-bad-scan": _go(Scan("hello world")),
}


@pytest.fixture(scope="module", autouse=True)
def _pygame() -> None:
    pygame.init()


def _differing(a: pygame.Surface, b: pygame.Surface, threshold: int = 40) -> float:
    """Share of pixels whose colour differs by more than ``threshold`` in some channel."""
    ra, rb = pygame.image.tobytes(a, "RGB"), pygame.image.tobytes(b, "RGB")
    assert len(ra) == len(rb)
    bad = 0
    for i in range(0, len(ra), 3):
        if (abs(ra[i] - rb[i]) > threshold or abs(ra[i + 1] - rb[i + 1]) > threshold
                or abs(ra[i + 2] - rb[i + 2]) > threshold):
            bad += 1
    return bad / (len(ra) // 3)


@pytest.mark.parametrize(("w", "h", "mm"), SIZES, ids=["1920x1080", "1280x800"])
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen_matches_reference(name: str, w: int, h: int, mm: float) -> None:
    state = SCREENS[name]()
    view = view_for(w, h, mm)
    surface = render(state, NOW, view, TITLE)
    ref = REF / f"{name}-{w}x{h}.png"
    if os.environ.get("MOTCUA_UPDATE_REFERENCE"):
        REF.mkdir(parents=True, exist_ok=True)
        pygame.image.save(surface, str(ref))
    assert ref.exists(), f"no reference {ref}: run with MOTCUA_UPDATE_REFERENCE=1 and look"
    expected = pygame.image.load(str(ref))
    assert expected.get_size() == (w, h)
    share = _differing(pygame.transform.scale(surface, (w // 4, h // 4)),
                       pygame.transform.scale(expected, (w // 4, h // 4)))
    assert share < 0.01, f"{name} {w}x{h}: {share:.2%} of pixels differ from {ref.name}"


def test_a_different_screen_does_not_match() -> None:
    view = view_for(1280, 800, 217.0)
    a = render(SCREENS["dossier-ready"](), NOW, view, TITLE)
    b = render(SCREENS["dossier-supplement"](), NOW, view, TITLE)
    assert _differing(pygame.transform.scale(a, (320, 200)),
                      pygame.transform.scale(b, (320, 200))) > 0.01


@pytest.mark.parametrize(("w", "h", "mm"), SIZES, ids=["1920x1080", "1280x800"])
@pytest.mark.parametrize("name", list(SCREENS))
def test_touch_targets_are_15mm_on_screen_and_apart(name: str, w: int, h: int,
                                                    mm: float) -> None:
    state = SCREENS[name]()
    view = view_for(w, h, mm)
    buttons = layout(state, view)
    px_per_mm = w / mm
    for b in buttons:
        assert b.rect.w / px_per_mm >= 15 and b.rect.h / px_per_mm >= 15, b
        assert b.rect.x >= 0 and b.rect.y >= 0 and b.rect.right <= w and b.rect.bottom <= h, b
    for i, a in enumerate(buttons):
        for b in buttons[i + 1:]:
            overlap = (a.rect.x < b.rect.right and b.rect.x < a.rect.right
                       and a.rect.y < b.rect.bottom and b.rect.y < a.rect.bottom)
            assert not overlap, (a, b)
        # the hit-test uses the same layout: the centre of a button is that button
        cx, cy = a.rect.x + a.rect.w / 2, a.rect.y + a.rect.h / 2
        assert hit(state, view, cx, cy) == a.target


def test_home_has_the_two_big_choices() -> None:
    view = view_for(1280, 800, 217.0)
    targets = {b.target.kind: b for b in layout(SCREENS["home"](), view)}
    assert set(targets) == {"dossier", "procedures"}
    assert targets["dossier"].label == "Tra cứu hồ sơ"
    assert targets["procedures"].label == "Thủ tục hành chính"
    assert hit(SCREENS["home"](), view, 5, 5) is None  # the header is not a button


def _luminance(c: tuple[int, int, int]) -> float:
    def channel(v: int) -> float:
        s = v / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2])


@pytest.mark.parametrize("pair", [
    ("INK", "BG"), ("MUTED", "BG"), ("HEADER", "BG"), ("OK", "BG"), ("HEADER_INK", "HEADER"),
    ("PRIMARY_INK", "PRIMARY"), ("SECONDARY_INK", "SECONDARY"), ("SELECTED_INK", "SELECTED"),
    ("OK", "SOFT_OK"), ("WARN", "SOFT_WARN"), ("BAD", "SOFT_BAD"), ("INK", "SOFT_BAD"),
    ("INK", "SOFT_WARN"),
])
def test_every_text_colour_has_high_contrast(pair: tuple[str, str]) -> None:
    from display.lookup import theme

    fg, bg = (getattr(theme, name) for name in pair)
    hi, lo = sorted([_luminance(fg), _luminance(bg)], reverse=True)
    assert (hi + 0.05) / (lo + 0.05) >= 7.0, pair  # WCAG AAA for normal-size text


@pytest.mark.parametrize(("w", "h", "mm"), SIZES, ids=["1920x1080", "1280x800"])
def test_a_long_procedure_name_wraps_at_full_size_and_its_row_grows(w: int, h: int,
                                                                     mm: float) -> None:
    from display.lookup.theme import name_lines

    view = view_for(w, h, mm)
    rows = [b for b in layout(SCREENS["procedures-long-names"](), view)
            if b.target.kind == "procedure"]
    by_name = {b.label: b for b in rows}
    long_name = "Xác nhận hộ gia đình làm nông nghiệp có mức sống trung bình"
    short_name = "Trợ cấp xã hội hằng tháng đối với người cao tuổi"
    lines = name_lines(long_name, view.body, by_name[long_name].rect.w - 2 * view.margin)
    # every line is drawn at the body size (never shrunk), all words are there
    assert " ".join(lines) == long_name
    assert len(lines) >= 2 if w < 1920 else len(lines) >= 1
    grown = len(lines) - len(name_lines(short_name, view.body,
                                         by_name[short_name].rect.w - 2 * view.margin))
    assert by_name[long_name].rect.h - by_name[short_name].rect.h == grown * (view.body * 6 // 5)
