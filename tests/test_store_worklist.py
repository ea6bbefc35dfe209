"""The desk's lists on SQLite and PostgreSQL: pages follow each other by keyset (every
dossier once, in order, ties broken by id), a list's size is counted only up to a cap
("1000+"), searches page too, and the pages link to their next page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from appliance.clock import ManualClock
from appliance.store import worklist
from appliance.store.api import create_app
from appliance.store.auth import Principal
from appliance.store.core import Store
from appliance.store.errors import StoreError
from appliance.store.models import DeskDossierIn
from tests.desk_helpers import add_accounts, log_in

pytest_plugins = ["tests.pg"]


def fill(store: Store, n: int, name: str = "Nguyễn Văn An", by: str = "tiepnhan",
         clock: ManualClock | None = None) -> list[str]:
    """n dossiers received at the desk by ``by``; with a clock, a minute apart (else all
    at once)."""
    codes = []
    who = Principal(by, "staff", store.settings.agency_code)
    for _ in range(n):
        codes.append(store.desk.receive(
            DeskDossierIn(procedure_code="1.001193", applicant_name=name), who))
        if clock is not None:
            clock.set(clock.now() + timedelta(minutes=1))
    return codes


def walk(pages: Iterator[worklist.Page]) -> list[str]:
    return [r["code"] for p in pages for r in p.rows]


def all_pages(first: worklist.Page, more: object) -> Iterator[worklist.Page]:
    page = first
    yield page
    while page.next is not None:
        page = more(page.next)  # type: ignore[operator]
        yield page


def test_pages_follow_each_other_without_gaps_or_doubles(store: Store) -> None:
    """All received in the same second: the id breaks the ties, so no dossier is lost or
    shown twice across pages."""
    codes = fill(store, 12)
    who = Principal("tiepnhan", "staff", store.settings.agency_code)
    office = store.settings.agency_code
    wl = store.worklist
    first = wl.page("today", who, office, limit=5)
    assert len(first.rows) == 5 and first.next is not None
    pages = list(all_pages(first, lambda c: wl.page("today", who, office, c, limit=5)))
    assert [len(p.rows) for p in pages] == [5, 5, 2]
    assert pages[-1].next is None
    # newest first: same time, so the later id first
    assert walk(iter(pages)) == list(reversed(codes))
    mine = list(all_pages(wl.page("mine", who, office, limit=5),
                          lambda c: wl.page("mine", who, office, c, limit=5)))
    assert sorted(walk(iter(mine))) == sorted(codes)
    nobody = Principal("xuly", "processor", office)
    assert wl.page("mine", nobody, office).rows == []


def test_pages_in_due_order_across_different_keys(store: Store,
                                                  store_clock: ManualClock) -> None:
    codes = fill(store, 7, clock=store_clock)
    store_clock.set(store_clock.now() + timedelta(days=30))
    who = Principal("tiepnhan", "staff", store.settings.agency_code)
    office = store.settings.agency_code
    wl = store.worklist
    pages = list(all_pages(wl.page("overdue", who, office, limit=3),
                           lambda c: wl.page("overdue", who, office, c, limit=3)))
    assert [len(p.rows) for p in pages] == [3, 3, 1]
    dues = [r["due_at"] for p in pages for r in p.rows]
    assert dues == sorted(dues)
    assert sorted(walk(iter(pages))) == sorted(codes)


def test_a_list_is_counted_only_up_to_the_cap(store: Store,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    fill(store, 8)
    who = Principal("tiepnhan", "staff", store.settings.agency_code)
    office = store.settings.agency_code
    exact = store.worklist.page("today", who, office, limit=3, count=True)
    assert (exact.count, exact.capped, exact.count_label) == (8, False, "8")
    monkeypatch.setattr(worklist, "COUNT_CAP", 5)
    capped = store.worklist.page("today", who, office, limit=3, count=True)
    assert (capped.count, capped.capped, capped.count_label) == (5, True, "5+")
    assert len(capped.rows) == 3  # the page itself is not cut by the cap
    assert store.worklist.page("ready", who, office, count=True).count_label == "0"


def test_a_malformed_cursor_is_a_clear_error(store: Store) -> None:
    who = Principal("tiepnhan", "staff", store.settings.agency_code)
    with pytest.raises(StoreError, match="cursor is malformed") as e:
        store.worklist.page("today", who, store.settings.agency_code, "abc~x")
    assert e.value.code == "bad_request"


def test_searches_page_too(store: Store) -> None:
    office = store.settings.agency_code
    by_name = fill(store, 7, name="Trần Thị Hoa")
    fill(store, 2, name="Lê Văn Hùng")
    wl = store.worklist
    # a name's beginning: the indexed prefix, paged by folded name then id
    prefix = list(all_pages(wl.search_page("tran thi", office, limit=3),
                            lambda c: wl.search_page("tran thi", office, c, limit=3)))
    assert [len(p.rows) for p in prefix] == [3, 3, 1]
    assert sorted(walk(iter(prefix))) == sorted(by_name)
    # inside a name: the folded text, newest first
    inside = list(all_pages(wl.search_page("thi hoa", office, limit=4),
                            lambda c: wl.search_page("thi hoa", office, c, limit=4)))
    assert [len(p.rows) for p in inside] == [4, 3]
    assert walk(iter(inside)) == list(reversed(by_name))
    # the code's beginning
    stem = by_name[0][:-2]
    found = walk(all_pages(wl.search_page(stem, office, limit=2),
                           lambda c: wl.search_page(stem, office, c, limit=2)))
    assert found == sorted(found) and set(by_name) & set(found)


def test_the_pages_link_to_the_next_page_and_show_the_count(store: Store) -> None:
    add_accounts(store)
    codes = fill(store, worklist.PAGE + 3)
    with TestClient(create_app(store)) as client:
        log_in(client, "tiepnhan")
        first = client.get("/worklist?list=today")
        assert f"({worklist.PAGE + 3} hồ sơ)" in first.text and "Trang sau" in first.text
        assert codes[-1] in first.text and codes[0] not in first.text
        link = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
        second = client.get(link.replace("&amp;", "&"))
        assert second.status_code == 200
        assert all(c in second.text for c in codes[:3]) and codes[-1] not in second.text
        assert 'rel="next"' not in second.text
        bad = client.get("/worklist", params={"list": "today", "after": "x~y"})
        assert bad.status_code == 422 and "Trang tiếp theo không đúng dạng" in bad.text, bad.text
        found = client.get("/search", params={"q": "nguyen van"})
        assert 'rel="next"' in found.text
