"""The board's pixels: reference screenshots, Vietnamese glyphs, dirty rectangles, banner."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pygame
import pytest
from PIL import Image, ImageChops

import display.board_parts as board_parts
import display.text as text_mod
from appliance.board import samples
from appliance.board.samples import NOW
from appliance.board.view import BoardView
from display.board import BoardOptions, BoardRenderer, Page, banner_for, layout, render
from display.fonts import VIETNAMESE_LETTERS, font_path, missing_glyphs, require_glyphs

# samples.SCENES is a plain dict, so its page names are typed str; each is a Page
SCENES = cast(dict[str, tuple[Callable[[], BoardView], Page]], samples.SCENES)
REF = Path(__file__).parent / "reference" / "board"
SIZES = [(1920, 1080), (1280, 720)]
# a channel may differ by this much (antialiasing of another FreeType build) …
CHANNEL_TOLERANCE = 40
# … on at most this share of the pixels
PIXEL_SHARE = 0.002


@pytest.fixture(autouse=True, scope="module")
def _pygame() -> None:
    pygame.display.init()


def _save(surface: pygame.Surface, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(surface, str(path))


def _differs(a: Path, b: Path) -> float:
    """Share of pixels where some channel differs by more than CHANNEL_TOLERANCE."""
    ia, ib = Image.open(a).convert("RGB"), Image.open(b).convert("RGB")
    if ia.size != ib.size:
        return 1.0
    diff = ImageChops.difference(ia, ib).convert("L").point(
        lambda v: 255 if v > CHANNEL_TOLERANCE else 0)
    return diff.histogram()[255] / (ia.size[0] * ia.size[1])


CASES = [(scene, size) for scene in SCENES for size in SIZES] + [
    (scene, (1080, 1920)) for scene in ("busy", "new_call", "offline", "dossier")]


@pytest.mark.parametrize(("scene", "size"), CASES,
                         ids=[f"{c}-{s[0]}x{s[1]}" for c, s in CASES])
def test_screenshot_matches_reference(scene: str, size: tuple[int, int],
                                      tmp_path: Path) -> None:
    make, page = SCENES[scene]
    surface = render(make(), NOW, BoardOptions(size=size), page)
    name = f"{scene}-{size[0]}x{size[1]}.png"
    got = tmp_path / name
    _save(surface, got)
    ref = REF / name
    if os.environ.get("MOTCUA_UPDATE_REFERENCES") == "1":
        _save(surface, ref)
    assert ref.exists(), f"no reference {ref}: run with MOTCUA_UPDATE_REFERENCES=1 and look"
    share = _differs(got, ref)
    assert share <= PIXEL_SHARE, f"{name}: {share:.2%} of pixels differ (see {got})"


def test_rendering_is_deterministic() -> None:
    a = render(samples.busy_office(), NOW)
    b = render(samples.busy_office(), NOW)
    assert pygame.image.tobytes(a, "RGB") == pygame.image.tobytes(b, "RGB")


def test_reference_differs_from_another_scene(tmp_path: Path) -> None:
    """The comparison can fail: the busy board is not the empty board."""
    _save(render(samples.busy_office(), NOW), tmp_path / "busy.png")
    assert _differs(tmp_path / "busy.png", REF / "empty-1920x1080.png") > PIXEL_SHARE


@pytest.mark.parametrize("bold", [False, True])
def test_font_has_every_vietnamese_letter(bold: bool) -> None:
    require_glyphs(font_path(bold), VIETNAMESE_LETTERS)
    assert "ờ" in VIETNAMESE_LETTERS and "Ự" in VIETNAMESE_LETTERS


def test_every_drawn_text_has_its_glyphs(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[str, bool]] = []
    real = text_mod.render_text

    def spy(text: str, size: int, color: object, bold: bool = False) -> pygame.Surface:
        drawn.append((text, bold))
        return real(text, size, color, bold)

    monkeypatch.setattr(text_mod, "render_text", spy)
    monkeypatch.setattr(board_parts, "render_text", spy)
    for make, page in SCENES.values():
        for size in [*SIZES, (1080, 1920)]:
            for english in (True, False):
                render(make(), NOW, BoardOptions(size=size, english=english), page)
    render(replace(samples.empty_office(), online=False, ever_synced=False), NOW)
    texts = {t for t, _ in drawn}
    assert any("Đang phục vụ" in t for t in texts)
    assert any("Thông tin có thể chưa cập nhật" in t for t in texts)
    assert any("Hồ sơ đã có kết quả" in t for t in texts)
    problems = {}
    for t, bold in drawn:
        missing = missing_glyphs(font_path(bold), t)
        if missing:
            problems[t] = missing
    assert not problems, f"glyphs missing from the font: {problems}"


def test_pygame_default_font_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("pygame's default font has no Vietnamese glyphs")

    monkeypatch.setattr(pygame.font, "Font", forbidden)
    monkeypatch.setattr(pygame.font, "SysFont", forbidden)
    for make, page in SCENES.values():
        render(make(), NOW, BoardOptions(size=(1280, 720)), page)


def test_idle_board_redraws_nothing_and_a_minute_redraws_only_the_clock() -> None:
    options = BoardOptions(size=(1280, 720))
    view = replace(samples.busy_office(), notice="Ngắn gọn")  # a notice that stands still
    screen = pygame.Surface(options.size)
    r = BoardRenderer(options)
    assert r.frame(screen, view, NOW) == [screen.get_rect()]
    assert r.frame(screen, view, NOW + timedelta(seconds=1)) == []
    next_minute = NOW.replace(second=0) + timedelta(minutes=1)
    assert r.next_change(view, NOW) == pytest.approx((next_minute - NOW).total_seconds())
    dirty = r.frame(screen, view, next_minute)
    clock = pygame.Rect(layout(options, "queue", False)["clock"])
    assert dirty == [clock]


def test_new_call_redraws_table_and_call_only_then_highlight_ends() -> None:
    options = BoardOptions(size=(1920, 1080), highlight_s=15)
    regions = {k: pygame.Rect(v) for k, v in layout(options, "queue", False).items()}
    view = replace(samples.busy_office(), notice="Ngắn gọn")
    screen = pygame.Surface(options.size)
    r = BoardRenderer(options)
    r.frame(screen, view, NOW)
    fresh = replace(samples.new_call(), notice="Ngắn gọn")
    dirty = r.frame(screen, fresh, NOW)
    assert sorted(map(tuple, dirty)) == sorted(
        [tuple(regions["table"]), tuple(regions["call"])])
    # the highlight is the board's own colour inside the call panel
    assert screen.get_at(regions["call"].move(30, 30).topleft)[:3] == board_parts.HIGHLIGHT
    later = NOW + timedelta(seconds=16)
    assert r.next_change(fresh, NOW) <= 15
    dirty = r.frame(screen, fresh, later)
    assert tuple(regions["call"]) in map(tuple, dirty)
    assert screen.get_at(regions["call"].move(30, 30).topleft)[:3] == board_parts.PANEL


def test_long_notice_scrolls_and_only_the_ticker_moves() -> None:
    options = BoardOptions(size=(1280, 720))
    view = samples.busy_office()
    screen = pygame.Surface(options.size)
    r = BoardRenderer(options)
    r.frame(screen, view, NOW)
    ticker = pygame.Rect(layout(options, "queue", False)["ticker"])
    assert r.next_change(view, NOW) == pytest.approx(1 / options.ticker_fps)
    assert r.frame(screen, view, NOW + timedelta(seconds=0.1)) == [ticker]


def test_banner_wording_never_says_fine_without_data() -> None:
    busy = samples.busy_office()
    assert banner_for(busy, "queue") is None
    assert banner_for(replace(busy, online=False), "queue") == (
        "Thông tin có thể chưa cập nhật", "Information may be out of date")
    never = replace(busy, online=False, ever_synced=False)
    assert banner_for(never, "queue")[0].startswith("Đang tải")  # type: ignore[index]
    assert banner_for(busy, "dossier") == ("Thông tin hồ sơ có thể chưa cập nhật",
                                           "Dossier information may be out of date")
    assert banner_for(samples.dossiers(), "dossier") is None


def test_offline_banner_shows_the_time_of_the_last_update(
        monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    real = text_mod.render_text

    def spy(t: str, *a: Any, **k: Any) -> pygame.Surface:
        drawn.append(t)
        return real(t, *a, **k)

    monkeypatch.setattr(text_mod, "render_text", spy)
    render(samples.offline(), NOW)
    assert any("Thông tin có thể chưa cập nhật" in t and "09:38:05" in t for t in drawn)


def test_text_never_spills_out_of_its_box() -> None:
    surface = pygame.Surface((400, 200))
    box = pygame.Rect(10, 10, 200, 40)
    long = "Trung tâm Phục vụ hành chính công phường Mẫu, tỉnh Quảng Ngãi"
    drawn = text_mod.draw_text(surface, long, box, (255, 255, 255), min_size=14)
    assert box.contains(drawn)


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)])
def test_dossier_figures_show_open_stock_once_and_no_return_before_it(
        monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]) -> None:
    drawn: list[str] = []
    real = text_mod.render_text

    def spy(t: str, *a: Any, **k: Any) -> pygame.Surface:
        drawn.append(t)
        return real(t, *a, **k)

    monkeypatch.setattr(text_mod, "render_text", spy)
    view = samples.dossiers()
    assert view.dossier is not None
    stock = view.dossier.today.in_progress
    assert stock == view.dossier.month.in_progress  # the same open dossiers in both
    render(view, NOW, BoardOptions(size=size), "dossier")
    assert drawn.count(str(stock)) == 1  # said once ("Hiện nay"), not per period
    assert any("Hiện nay" in t for t in drawn)
    # results are counted when ready, picked up or not: no "Trả …" (returned) word
    assert not any(t.startswith("Trả ") for t in drawn)
