"""The fonts we print and show cover every Vietnamese letter; a bad font is refused."""

from __future__ import annotations

import unicodedata

import pytest

from display.fonts import (
    VIETNAMESE_LETTERS,
    MissingGlyphs,
    font_path,
    missing_glyphs,
    require_glyphs,
)


def test_alphabet_is_complete_and_composed():
    # 12 vowels x 6 tones + đ, in both cases, plus the plain Latin letters
    # (12 vowels x 6 tones + đ) x 2 cases + 52 Latin letters, less a e i o u y in both cases
    assert len(set(VIETNAMESE_LETTERS)) == (12 * 6 + 1) * 2 + 52 - 12
    assert unicodedata.normalize("NFC", VIETNAMESE_LETTERS) == VIETNAMESE_LETTERS
    for ch in "ờốếầủụứựĐỹỵ":
        assert ch in VIETNAMESE_LETTERS


@pytest.mark.parametrize("bold", [False, True])
def test_chosen_font_covers_every_vietnamese_letter(bold):
    path = font_path(bold)
    assert missing_glyphs(path, VIETNAMESE_LETTERS) == []


def test_font_without_vietnamese_is_refused():
    import os

    import pygame

    path = os.path.join(os.path.dirname(pygame.__file__), pygame.font.get_default_font())
    assert "ờ" in missing_glyphs(path, "Mời công dân")
    with pytest.raises(MissingGlyphs, match="ờ"):
        require_glyphs(path)


def test_decomposed_text_is_checked_in_composed_form():
    decomposed = unicodedata.normalize("NFD", "Đất đai")
    assert missing_glyphs(font_path(), decomposed) == []
