"""The citizen's ticket page on a phone (real Chromium at 390×844) following the queue
through the real hub and a real mosquitto: the place moves within 2 s of a counter's
``counter.next``; a called number names its counter; another day's ticket, an unknown
number and a foreign QR get honest answers; the page is rate-limited per address."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from appliance.broker import free_port
from appliance.bus import Bus
from appliance.clock import OffsetClock
from appliance.hub.bootstrap import Hub
from appliance.store.api import create_app
from appliance.store.live.view import QueueView
from appliance.store.ratelimit import RateLimiter
from appliance.store.web.phone import PHONE_BURST, PHONE_RATE_PER_S
from tests.phone_helpers import PHONE, chromium, live_store, serve
from tests.waiting import poll

DAY = "2026-11-30"  # the conftest clock's Monday


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def live(hub: Hub, broker: Any, demo_site: Path, tmp_path: Path, clock: OffsetClock,
         port: int) -> Iterator[tuple[Any, QueueView]]:
    with live_store(broker.url, demo_site, tmp_path, clock, port) as parts:
        yield parts


def _issue(bus: Bus, service: str, n: int) -> list[str]:
    out = []
    for _ in range(n):
        r = bus.request("hub", {"op": "ticket.issue", "service": service}, timeout=5)
        assert r["ok"], r
        out.append(r["ticket"]["number"])
    return out


def test_phone_follows_the_queue_through_the_real_hub(live: tuple[Any, QueueView], port: int,
                                                      make_bus: Callable[..., Bus],
                                                      tmp_path: Path) -> None:
    store, view = live
    dispenser = make_bus("dispenser-1")
    counter = make_bus("counter-1", role="counter")
    numbers = _issue(dispenser, "A", 5)
    mine = numbers[3]
    app = create_app(store, live=view)
    with serve(app, port) as base, chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        page.goto(f"{base}/ticket/demo/{DAY}/{mine}")
        assert page.inner_text("#number") == mine
        assert page.inner_text("#ahead") == "3"
        assert "Quầy 1" in page.inner_text("#counter-list")
        assert "Chưa ước tính" in page.inner_text("#wait")  # no counter open yet
        assert poll(lambda: app.state.phone_streams.open == 1), "no event stream opened"
        assert float(page.eval_on_selector("#number", "e => parseFloat(getComputedStyle(e)"
                                                      ".fontSize)")) >= 48
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(tmp_path / "ticket-waiting.png"))
        sent = time.monotonic()
        r = counter.request("hub", {"op": "counter.next", "counter": "1", "officer": "CB01"},
                            timeout=5)
        assert r["ok"] and r["ticket"]["number"] == numbers[0]
        # the issue's bound: the phone shows the new place within 2 s of the call
        page.wait_for_function("document.getElementById('ahead').textContent === '2'",
                               timeout=2000)
        print(f"phone updated {1000 * (time.monotonic() - sent):.0f} ms after counter.next")
        assert "phút" in page.inner_text("#wait")  # a counter is open: an estimate now
        for _ in range(3):
            counter.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5)
        page.wait_for_function("document.getElementById('ticket').dataset.kind === 'called'",
                               timeout=5000)
        assert "Mời ông/bà đến Quầy 1" in page.inner_text("#headline")
        page.screenshot(path=str(tmp_path / "ticket-called.png"))
        counter.request("hub", {"op": "counter.no_show", "counter": "1"}, timeout=5)
        page.wait_for_function("document.getElementById('ticket').dataset.kind === 'no_show'",
                               timeout=5000)
        assert "Đã qua lượt" in page.inner_text("#headline")
        assert "Quầy 1" in page.inner_text("#detail")
        # a final answer closes the stream
        assert poll(lambda: app.state.phone_streams.open == 0)


def test_place_past_the_first_fifty_is_counted_by_the_hub(live: tuple[Any, QueueView],
                                                          make_bus: Callable[..., Bus]) -> None:
    store, view = live
    numbers = _issue(make_bus("dispenser-1"), "B", 70)
    client = TestClient(create_app(store, live=view))
    got = client.get(f"/ticket/demo/{DAY}/{numbers[65]}/status").json()
    assert got["kind"] == "waiting" and got["ahead"] == 65
    assert "Quầy 1" in got["counters"] and "Quầy 2" in got["counters"]
    asked = view.asked
    assert client.get(f"/ticket/demo/{DAY}/{numbers[65]}/status").json() == got
    assert view.asked == asked  # nothing moved: answered without asking the hub again


def test_honest_answers_for_other_days_unknown_numbers_and_foreign_codes(
        live: tuple[Any, QueueView], make_bus: Callable[..., Bus]) -> None:
    store, view = live
    (a1,) = _issue(make_bus("dispenser-1"), "A", 1)
    client = TestClient(create_app(store, live=view))
    r = client.get(f"/ticket/demo/2026-11-29/{a1}")
    assert r.status_code == 200 and "Vé của ngày 29/11/2026" in r.text
    assert "Hôm nay là 30/11/2026" in r.text and "lấy số mới" in r.text
    r = client.get(f"/ticket/demo/2026-12-01/{a1}")
    assert "chưa có trong hàng chờ" in r.text
    r = client.get(f"/ticket/demo/{DAY}/A777")
    assert r.status_code == 404 and "Không có số A777 hôm nay" in r.text
    for bad in (f"/ticket/khac/{DAY}/{a1}", f"/ticket/demo/30-11-2026/{a1}",
                f"/ticket/demo/{DAY}/%3Cscript%3E"):
        r = client.get(bad)
        assert r.status_code == 404 and "Mã số không hợp lệ" in r.text, bad
        assert "<script>" not in r.text
    ok = client.get(f"/ticket/demo/{DAY}/{a1}/status").json()
    assert ok["kind"] == "waiting" and ok["ahead"] == 0 and ok["wait"] == "Sắp đến lượt"


def test_ticket_page_is_rate_limited_per_address(live: tuple[Any, QueueView],
                                                 make_bus: Callable[..., Bus]) -> None:
    store, view = live
    (a1,) = _issue(make_bus("dispenser-1"), "A", 1)
    app = create_app(store, live=view)
    # a stopped clock: no token comes back however slowly the requests go
    app.state.phone_limiter = RateLimiter(PHONE_RATE_PER_S, PHONE_BURST, 10**9,
                                          monotonic=lambda: 0.0)
    client = TestClient(app)
    codes = [client.get(f"/ticket/demo/{DAY}/{a1}/status").status_code
             for _ in range(PHONE_BURST)]
    assert codes == [200] * PHONE_BURST
    r = client.get(f"/ticket/demo/{DAY}/{a1}/status")
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert client.get(f"/ticket/demo/{DAY}/{a1}").status_code == 429
    assert client.get(f"/ticket/demo/{DAY}/{a1}/events").status_code == 429
