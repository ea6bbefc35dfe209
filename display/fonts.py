"""Fonts that cover every Vietnamese letter, and a check that fails loudly when one does not.

pygame's default font has none of ờ ố ế ầ ủ ụ ứ ự; a missing glyph prints as a box that a
citizen cannot read, so every font we use is checked against the whole alphabet.
"""

from __future__ import annotations

import os
import string
import unicodedata
from functools import lru_cache
from pathlib import Path

from appliance.errors import MissingDependency, MotcuaError
from appliance.i18n import tr

_BASES = "aăâeêioôơuưy"
_TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # sắc huyền hỏi ngã nặng
_lower = "".join(unicodedata.normalize("NFC", b + t) for b in _BASES for t in _TONES) + "đ"
VIETNAMESE_LETTERS = _lower + _lower.upper() + string.ascii_letters

# First match wins. Debian: fonts-noto-core, fonts-dejavu-core.
_CANDIDATES: dict[bool, tuple[str, ...]] = {
    False: (
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    ),
    True: (
        "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
}


class MissingGlyphs(MotcuaError):
    """A font lacks letters we must print or show."""


def nfc(text: str) -> str:
    """Composed form: pygame and printers do not combine separate tone marks."""
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=16)
def _codepoints(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # lazy: only needed when a font is first checked

    with TTFont(path, lazy=True, fontNumber=0) as font:
        cmap = font.getBestCmap() or {}
    return frozenset(cmap)


def missing_glyphs(path: str | Path, text: str) -> list[str]:
    """The characters of ``text`` (NFC, spaces ignored) that the font cannot draw."""
    have = _codepoints(str(path))
    seen: list[str] = []
    for ch in nfc(text):
        if not ch.isspace() and ord(ch) not in have and ch not in seen:
            seen.append(ch)
    return seen


def require_glyphs(path: str | Path, text: str = VIETNAMESE_LETTERS) -> None:
    missing = missing_glyphs(path, text)
    if missing:
        letters = " ".join(missing)
        raise MissingGlyphs(tr(f"phông chữ {path} thiếu chữ: {letters}",
                               f"font {path} has no glyph for: {letters}"))


@lru_cache(maxsize=4)
def font_path(bold: bool = False) -> Path:
    """A font with every Vietnamese letter. MOTCUA_FONT / MOTCUA_FONT_BOLD override."""
    override = os.environ.get("MOTCUA_FONT_BOLD" if bold else "MOTCUA_FONT")
    candidates = (override,) if override else _CANDIDATES[bold]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            require_glyphs(candidate)
            return Path(candidate)
    looked = ", ".join(c for c in candidates if c)
    raise MissingDependency(tr(
        "không tìm thấy phông chữ đủ dấu tiếng Việt: chạy `sudo apt-get install "
        f"fonts-noto-core` (đã tìm {looked})",
        "no font with Vietnamese letters found: run `sudo apt-get install fonts-noto-core` "
        f"(looked for {looked})"))
