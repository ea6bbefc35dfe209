"""What the phone says for each state of a ticket: a pure function, every branch."""

from __future__ import annotations

from datetime import date

import pytest

from appliance.store.live import ticket as tk

TODAY = date(2026, 12, 3)
NAMES = {"1": "Quầy 1", "2": "Quầy 2"}


def _reply(state: str, **fields: object) -> dict:
    return {"ok": True, "day": "2026-12-03", "seq": 7,
            "ticket": {"number": "A015", "service": "A", "service_name": "Chứng thực",
                       "state": state, "counters": ["1", "2"], **fields}}


@pytest.mark.parametrize("site,day,number", [
    ("demo", "2026-12-03", "a015"), ("demo", "2026-12-03", " A015 ")])
def test_keys_are_read_leniently_where_harmless(site: str, day: str, number: str) -> None:
    assert tk.ticket_key(site, day, number) == tk.TicketKey("demo", TODAY, "A015")


@pytest.mark.parametrize("site,day,number", [
    ("demo", "03-12-2026", "A015"), ("demo", "2026-13-03", "A015"), ("de/mo", "2026-12-03",
    "A015"), ("demo", "2026-12-03", "A1"), ("demo", "2026-12-03", "<b>"), ("", "", "")])
def test_bad_keys_are_none(site: str, day: str, number: str) -> None:
    assert tk.ticket_key(site, day, number) is None


def test_before_asking() -> None:
    key = tk.ticket_key("demo", "2026-12-03", "A015")
    assert tk.before_asking(key, "demo", TODAY, "A015") is None
    assert tk.before_asking(key, "khac", TODAY, "A015")["kind"] == "unknown"  # type: ignore[index]
    assert tk.before_asking(None, "demo", TODAY, "A015")["kind"] == "unknown"  # type: ignore[index]
    assert tk.before_asking(key, "demo", None, "A015")["kind"] == "unavailable"  # type: ignore[index]
    old = tk.before_asking(key, "demo", date(2026, 12, 4), "A015")
    assert old is not None and old["kind"] == "other_day" and old["final"]
    assert "03/12/2026" in old["headline"] and "04/12/2026" in old["detail"]


@pytest.mark.parametrize("state,kind,words,final", [
    ("serving", "called", "Mời ông/bà đến Quầy 2", False),
    ("parked", "parked", "Tạm dừng tại Quầy 2", False),
    ("finished", "done", "Đã phục vụ xong", True),
    ("no_show", "no_show", "Đã qua lượt", True),
    ("voided", "voided", "Vé đã bị huỷ", True),
    ("expired", "expired", "Vé đã hết hiệu lực", True),
])
def test_every_state_says_where_the_citizen_stands(state: str, kind: str, words: str,
                                                   final: bool) -> None:
    v = tk.from_reply("A015", _reply(state, counter="2", counter_name="Quầy 2"), NAMES)
    assert (v["kind"], v["final"]) == (kind, final)
    assert words in v["headline"]
    assert v["counters"] == ["Quầy 1", "Quầy 2"]


def test_waiting_with_and_without_an_estimate() -> None:
    v = tk.from_reply("A015", _reply("waiting", ahead=4, est_wait_s=610), NAMES)
    assert (v["kind"], v["ahead"], v["wait"]) == ("waiting", 4, "Khoảng 11 phút")
    v = tk.from_reply("A015", _reply("waiting", ahead=4, est_wait_s=None), NAMES)
    assert v["wait"].startswith("Chưa ước tính")
    v = tk.from_reply("A015", _reply("waiting", ahead=0, est_wait_s=0), NAMES)
    assert v["wait"] == "Sắp đến lượt"


def test_errors_from_the_hub() -> None:
    nf = tk.from_reply("A015", {"ok": False, "error": {"code": "not_found"}}, NAMES)
    assert nf["kind"] == "unknown" and "A015" in nf["headline"]
    down = tk.from_reply("A015", {"ok": False, "error": {"code": "internal"}}, NAMES)
    assert down["kind"] == "unavailable" and not down["final"]
