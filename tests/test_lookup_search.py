"""Accent-insensitive and Telex search of the kiosk's catalogue."""

from __future__ import annotations

import pytest

from appliance.lookup import sample
from appliance.lookup.search import fold, search, sectors, telex


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Đăng ký khai sinh", "dang ky khai sinh"),
        ("  CHỨNG   THỰC ", "chung thuc"),
        ("Hòa giải tranh chấp đất đai", "hoa giai tranh chap dat dai"),
        ("Ủy ban", "uy ban"),
        # decomposed input (combining marks) folds the same as composed
        ("Đa\u0306ng ky\u0301", "dang ky"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("keys", "vietnamese"),
    [
        ("ddawng kys khai sinh", "đăng ký khai sinh"),
        ("chuwngs thuwcj", "chứng thực"),
        ("ddaast ddai", "đất đai"),
        ("nguowif cao tuooir", "người cao tuổi"),
        ("hoaf giair", "hoà giải"),
        ("quyeets ddinhj", "quyết định"),
        ("Vieetj Nam", "Việt Nam"),
        ("tuw phaps", "tư pháp"),
        ("dang ky", "dang ky"),  # no Telex keys: unchanged
        ("maas", "mấ"),
        ("mass", "mas"),  # the tone key twice writes the letter
    ],
)
def test_telex(keys: str, vietnamese: str) -> None:
    assert telex(keys) == vietnamese


def _names(found: list) -> list[str]:
    return [p["name"] for p in found]


@pytest.mark.parametrize(
    "query",
    ["dang ky khai sinh", "Đăng ký khai sinh", "DANG KY KHAI SINH", "khai sinh",
     "ddawng kys khai sinh", "ddawng kys khai sinh", "1.001193"],
)
def test_search_finds_birth_registration(query: str) -> None:
    found = search(sample.PROCEDURES, query, use_telex=True)
    assert found, query
    assert found[0]["name"] == "Đăng ký khai sinh"


def test_telex_query_needs_telex_enabled() -> None:
    assert search(sample.PROCEDURES, "ddawng kys", use_telex=False) == []
    assert "Đăng ký khai sinh" in _names(search(sample.PROCEDURES, "ddawng kys",
                                                use_telex=True))


def test_search_all_words_must_match_and_ranks_phrase_first() -> None:
    found = search(sample.PROCEDURES, "dang ky")
    assert set(_names(found)) == {"Đăng ký khai sinh", "Đăng ký kết hôn", "Đăng ký khai tử"}
    assert search(sample.PROCEDURES, "dang ky xe may") == []
    assert _names(search(sample.PROCEDURES, "chung thuc chu ky")) == [
        "Chứng thực chữ ký trong các giấy tờ, văn bản"]


def test_empty_query_finds_nothing() -> None:
    assert search(sample.PROCEDURES, "   ") == []


def test_sectors_sorted_without_accents() -> None:
    assert sectors(sample.PROCEDURES) == ["Chính sách xã hội", "Chứng thực", "Đất đai",
                                          "Hộ tịch"]
