"""Vietnamese text helpers: NFC, accent folding for search, masking names for the public."""

from __future__ import annotations

import re
import unicodedata

from appliance.i18n import tr

_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean(text: str) -> str:
    """NFC text without control characters (PostgreSQL refuses NUL; nobody types them)."""
    return _CONTROL.sub("", nfc(text))


def checked(text: str) -> str:
    """For input fields: NFC, and a clear error for control characters instead of dropping
    them silently."""
    if _CONTROL.search(text):
        raise ValueError(tr("có ký tự điều khiển", "contains a control character"))
    return nfc(text)


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
