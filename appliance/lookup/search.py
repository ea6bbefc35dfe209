"""Accent-insensitive matching and Telex composition for the kiosk's search box.

A citizen may type "dang ky khai sinh" (no accents) or, in Telex, "ddawng kys khai sinh":
both must find "Đăng ký khai sinh". Everything is compared in a folded form (no tone or
vowel marks, đ → d, lower case).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})

# Telex vowel/consonant shapes: the second key reshapes the letter before it.
_SHAPE: dict[str, dict[str, str]] = {
    "a": {"a": "â", "w": "ă"},
    "e": {"e": "ê"},
    "o": {"o": "ô", "w": "ơ"},
    "u": {"w": "ư"},
    "d": {"d": "đ"},
}
_TONE_KEYS = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
_VOWELS = set("aăâeêioôơuưy")
_MARKED = set("ăâêôơư")


def fold(text: str) -> str:
    """Lower case, no accents, đ → d, single spaces: the form every comparison uses."""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_EXTRA))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.lower().split())


def _base(ch: str) -> str:
    """A letter without its tone mark (keeps ă â ê ô ơ ư đ)."""
    d = unicodedata.normalize("NFD", ch)
    kept = "".join(c for c in d if c not in _TONE_KEYS.values())
    return unicodedata.normalize("NFC", kept)


def _tone_of(word: str) -> str | None:
    for ch in unicodedata.normalize("NFD", word):
        if ch in _TONE_KEYS.values():
            return ch
    return None


def _tone_position(letters: list[str]) -> int | None:
    """Index of the vowel that carries the tone (the modern rule, as on phones)."""
    lower = [c.lower() for c in letters]
    idx = [i for i, c in enumerate(lower) if c in _VOWELS]
    # "qu" and "gi" start a syllable: their u/i is part of the consonant
    if len(idx) > 1 and idx[0] == 1 and lower[0] in "qg" and lower[1] in "ui":
        idx = idx[1:]
    if not idx:
        return None
    for i in idx:
        if lower[i] in _MARKED:
            # "ươ": the tone sits on ơ
            if lower[i] == "ư" and i + 1 in idx and lower[i + 1] == "ơ":
                return i + 1
            return i
    ends_with_vowel = idx[-1] == len(letters) - 1
    if len(idx) >= 3:
        return idx[1]
    if len(idx) == 2:
        pair = lower[idx[0]] + lower[idx[1]]
        if ends_with_vowel and pair not in ("oa", "oe", "uy"):
            return idx[0]
        return idx[1]
    return idx[0]


def _apply_tone(letters: list[str], mark: str | None) -> list[str]:
    plain = [_base(c) for c in letters]
    if mark is None:
        return plain
    pos = _tone_position(plain)
    if pos is None:
        return plain
    plain[pos] = unicodedata.normalize("NFC", plain[pos] + mark)
    return plain


def _telex_word(keys: str) -> str:
    letters: list[str] = []
    mark: str | None = None

    def case(shape: str, like: str) -> str:
        return shape.upper() if like.isupper() else shape

    for key in keys:
        low = key.lower()
        has_vowel = any(_base(c).lower() in _VOWELS for c in letters)
        if has_vowel and low in _TONE_KEYS:
            if mark == _TONE_KEYS[low]:  # the tone key twice writes the letter itself
                mark = None
                letters.append(key)
            else:
                mark = _TONE_KEYS[low]
            continue
        if has_vowel and low == "z" and mark is not None:
            mark = None
            continue
        prev = letters[-1] if letters else ""
        if low == "w":
            if prev.lower() == "o" and len(letters) > 1 and letters[-2].lower() == "u":
                letters[-2] = case("ư", letters[-2])  # "uow" → ươ
                letters[-1] = case("ơ", prev)
                continue
            if prev.lower() in ("ă", "ơ", "ư"):  # "aww" → aw: undo
                letters[-1] = case({"ă": "a", "ơ": "o", "ư": "u"}[prev.lower()], prev)
                letters.append(key)
                continue
            if prev.lower() not in ("a", "o", "u"):
                letters.append(case("ư", key))  # a lone w is ư, as on phones
                continue
        shaped = _SHAPE.get(prev.lower(), {}).get(low)
        if shaped is not None:
            letters[-1] = case(shaped, prev)
            continue
        letters.append(key)
    return "".join(_apply_tone(letters, mark))


def telex(keys: str) -> str:
    """Compose Telex key strokes into Vietnamese, word by word ("ddawng kys" → "đăng ký")."""
    out: list[str] = []
    word: list[str] = []
    for ch in keys:
        if ch.isalpha() and ch.isascii():
            word.append(ch)
            continue
        if word:
            out.append(_telex_word("".join(word)))
            word = []
        out.append(ch)
    if word:
        out.append(_telex_word("".join(word)))
    return unicodedata.normalize("NFC", "".join(out))


def query_forms(keys: str, *, use_telex: bool) -> list[str]:
    """The folded forms a typed query may mean: as typed, and Telex-composed if enabled."""
    forms = [fold(keys)]
    if use_telex:
        composed = fold(telex(keys))
        if composed not in forms:
            forms.append(composed)
    return [f for f in forms if f]


def _haystack(proc: Mapping[str, Any]) -> str:
    return fold(f"{proc.get('code', '')} {proc.get('name', '')} {proc.get('sector', '')}")


def _matches(hay: str, form: str) -> int | None:
    """A rank (lower is better) if every word of ``form`` is in ``hay``, else None."""
    words = form.split()
    if not all(w in hay for w in words):
        return None
    name = hay  # whole-phrase hits first, then word-start hits, then anywhere
    if form in name:
        return 0 if name.find(form) < 12 else 1
    return 2


def search(
    procedures: Iterable[Mapping[str, Any]],
    keys: str,
    *,
    use_telex: bool = True,
    limit: int = 50,
) -> list[Mapping[str, Any]]:
    """Procedures matching the typed keys, best first; accent- and case-insensitive."""
    forms = query_forms(keys, use_telex=use_telex)
    if not forms:
        return []
    ranked: list[tuple[int, str, Mapping[str, Any]]] = []
    for proc in procedures:
        hay = _haystack(proc)
        ranks = [r for r in (_matches(hay, f) for f in forms) if r is not None]
        if ranks:
            ranked.append((min(ranks), fold(str(proc.get("name", ""))), proc))
    ranked.sort(key=lambda t: (t[0], t[1]))
    return [p for _, _, p in ranked[:limit]]


def sectors(procedures: Sequence[Mapping[str, Any]]) -> list[str]:
    """The sectors in the catalogue, in Vietnamese alphabetical order (folded)."""
    names = {str(p.get("sector") or "Khác") for p in procedures}
    return sorted(names, key=lambda s: (fold(s), s))
