"""Vietnamese text helpers: NFC, accent folding for search, masking names for the public."""

from __future__ import annotations

import unicodedata

_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower case without diacritics: "Chứng thực" → "chung thuc", "Đất đai" → "dat dai"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_EXTRA))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())


def mask_name(name: str) -> str:
    """"Nguyễn Văn An" → "Nguyễn V** A**": the family name and each initial, no more."""
    words = nfc(name).split()
    if not words:
        return ""
    masked = [words[0]] + [w[0] + "**" for w in words[1:]]
    return " ".join(masked)
