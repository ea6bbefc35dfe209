"""The officer's counter screen in real Chromium drives the real hub over a real mosquitto
as the counter, beside the counter unit (its keypad and its LED board on a pty): both show
the same number. Two officers cannot act as each other's counter, at the store nor at the
hub."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from appliance.broker import free_port
from appliance.bus import Bus
from appliance.clock import OffsetClock
from appliance.config import load_unit_config
from appliance.counter.twin import CounterTwin
from appliance.hub.bootstrap import Hub
from appliance.store.api import create_app
from appliance.store.core import Store
from appliance.store.live.view import QueueView
from tests.desk_helpers import PASSWORD, csrf_of, log_in
from tests.phone_helpers import chromium, live_store, serve

OFFICERS = (("canbo1", "CB01", "Nguyễn Văn Một"), ("canbo2", "CB02", "Trần Thị Hai"),
            ("canbo9", "", "Lê Chưa Mã"))


@pytest.fixture
def live(hub: Hub, broker: Any, demo_site: Path, tmp_path: Path,
         clock: OffsetClock) -> Iterator[tuple[Store, QueueView, int]]:
    port = free_port()
    with live_store(broker.url, demo_site, tmp_path, clock, port) as (store, view):
        for name, code, full in OFFICERS:
            store.users.set_user(name, "staff", password=PASSWORD, full_name=full,
                                 officer_code=code)
        yield store, view, port


@pytest.fixture
def twin(hub: Hub, broker: Any, demo_site: Path, clock: OffsetClock) -> Iterator[CounterTwin]:
    t = CounterTwin(load_unit_config(demo_site / "counter-1.toml", broker_url=broker.url),
                    clock=clock)
    t.start()
    try:
        yield t
    finally:
        t.stop()


def _issue(bus: Bus, service: str, n: int) -> list[str]:
    return [bus.request("hub", {"op": "ticket.issue", "service": service},
                        timeout=5)["ticket"]["number"] for _ in range(n)]


def test_screen_and_keypad_drive_the_same_counter(live: tuple[Store, QueueView, int],
                                                  twin: CounterTwin, hub: Hub,
                                                  make_bus: Callable[..., Bus],
                                                  tmp_path: Path) -> None:
    store, view, port = live
    a1, a2, a3 = _issue(make_bus("dispenser-1"), "A", 3)
    engine = hub.service.engine
    with serve(create_app(store, live=view), port) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/quay")
        assert "/login" in page.url
        page.fill("input[name=username]", "canbo1")
        page.fill("input[name=password]", PASSWORD)
        page.click("button.primary")
        page.goto(f"{base}/quay")  # one counter for this officer: straight to its screen
        assert page.url == f"{base}/quay/1"
        assert "Nguyễn Văn Một" in page.inner_text("h1")
        assert "3" in page.inner_text("#services")
        mark = twin.tap.mark()
        page.click("button[data-action=next]")
        page.wait_for_function(f"document.getElementById('serving').textContent === '{a1}'")
        assert engine.state.counters["1"].serving == a1
        assert engine.state.counters["1"].officer == "CB01"
        assert engine.state.tickets[a1].officer == "CB01"
        # the counter unit's LED board shows the number the screen called
        assert twin.tap.wait_for(a1, since=mark) is not None, twin.tap.frames[-5:]
        page.screenshot(path=str(tmp_path / "counter-screen.png"))
        # the keypad beside it: the screen follows
        r = twin.do("next")
        assert r.ok and r.shown == a2
        page.wait_for_function(f"document.getElementById('serving').textContent === '{a2}'",
                               timeout=5000)
        assert page.inner_text("#mine-served") == "1"
        page.click("button[data-action=park]")
        page.wait_for_function("document.querySelectorAll('#parked li').length === 1")
        assert a2 in page.inner_text("#parked")
        assert page.inner_text("#serving") == "—"
        page.fill("#call-form input[name=number]", a3)
        page.click("#call-form button")
        page.wait_for_function(f"document.getElementById('serving').textContent === '{a3}'")
        mark = twin.tap.mark()
        page.click("button[data-action=finish]")
        page.wait_for_function("document.getElementById('serving').textContent === '—'")
        page.click("#parked button[data-action=resume]")
        page.wait_for_function(f"document.getElementById('serving').textContent === '{a2}'")
        assert twin.tap.wait_for(a2, since=mark) is not None, twin.tap.frames[-5:]
        page.fill("#call-form input[name=number]", "A999")
        page.click("#call-form button")
        page.wait_for_function("!document.getElementById('message').hidden")
        assert "Không tìm thấy số thứ tự này" in page.inner_text("#message")
        assert engine.state.counters["1"].serving == a2


def test_two_officers_cannot_act_as_each_others_counter(live: tuple[Store, QueueView, int],
                                                        hub: Hub,
                                                        make_bus: Callable[..., Bus]) -> None:
    store, view, _ = live
    _issue(make_bus("dispenser-1"), "A", 1)
    engine = hub.service.engine
    other = TestClient(create_app(store, live=view))
    csrf = log_in(other, "canbo2")
    assert other.get("/quay", follow_redirects=False).headers["location"] == "/quay/2"
    assert other.get("/quay/1").status_code == 403
    assert other.get("/quay/1/state").status_code == 403
    r = other.post("/quay/1/act", data={"csrf": csrf, "action": "next"},
                   headers={"Accept": "application/json"})
    # the desk's pages speak Vietnamese whatever MOTCUA_LANG says
    assert r.status_code == 403 and "quầy 1" in r.text
    assert engine.state.counters["1"].serving is None and not engine.state.counters["1"].open
    # its own counter works (counter 2 serves B and C: nobody waits, but it opens)
    r = other.post("/quay/2/act", data={"csrf": csrf, "action": "next"},
                   headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json()["ok"], r.text
    assert engine.state.counters["2"].open and engine.state.counters["2"].officer == "CB02"
    # a forged form without the session's CSRF token is refused
    r = other.post("/quay/2/act", data={"csrf": "0" * 64, "action": "close"})
    assert r.status_code == 403 and engine.state.counters["2"].open
    # the hub checks again: the store's own unit cannot send another officer's code
    reply = view.ask("counter.next", counter="1", officer="CB02")
    assert not reply["ok"] and reply["error"]["code"] == "forbidden"
    reply = view.ask("counter.next", counter="1")
    assert not reply["ok"] and reply["error"]["code"] == "forbidden"
    assert engine.state.counters["1"].serving is None
    # an account with no officer code has no counter
    nobody = TestClient(create_app(store, live=view))
    log_in(nobody, "canbo9")
    page = nobody.get("/quay")
    assert page.status_code == 200 and "chưa được phân công" in page.text
    assert nobody.get("/quay/1").status_code == 403


def test_screen_says_when_the_hub_does_not_answer(live: tuple[Store, QueueView, int],
                                                  hub: Hub) -> None:
    store, view, _ = live
    client = TestClient(create_app(store, live=view))
    log_in(client, "canbo1")
    assert client.get("/quay/1/state").json()["ok"]
    hub.stop()
    got = client.get("/quay/1/state").json()
    assert not got["ok"] and "Không liên lạc được" in got["message"]
    page = client.get("/quay/1")
    assert page.status_code == 200 and "bàn phím của quầy vẫn dùng được" in page.text
    assert csrf_of(page.text)


def test_every_button_speaks_the_hub_contract(live: tuple[Store, QueueView, int], hub: Hub,
                                              make_bus: Callable[..., Bus]) -> None:
    store, view, _ = live
    a1, a2 = _issue(make_bus("dispenser-1"), "A", 2)
    engine = hub.service.engine
    client = TestClient(create_app(store, live=view))
    csrf = log_in(client, "canbo1")

    clicks = iter(range(10**6))

    def act(action: str, click: str | None = None, **fields: str) -> dict:
        click = click or f"click-{next(clicks):08d}"
        r = client.post("/quay/1/act", data={"csrf": csrf, "action": action, "click": click,
                                             **fields},
                        headers={"Accept": "application/json"})
        return r.json()

    assert act("open")["ok"] and engine.state.counters["1"].open
    got = act("next")
    assert got["ok"] and got["view"]["counter"]["serving"] == a1
    calls = engine.state.tickets[a1].calls
    assert act("recall", click="recall-once-1")["ok"]
    assert engine.state.tickets[a1].calls == calls + 1
    # the same click sent again (a retry) is done once
    assert act("recall", click="recall-once-1")["ok"]
    assert engine.state.tickets[a1].calls == calls + 1
    got = act("transfer", to_service="B")
    assert got["ok"] and engine.state.tickets[a1].service == "B"
    assert engine.state.tickets[a1].state == "waiting"
    got = act("transfer", to_service="")
    assert not got["ok"] and got["error"]["code"] == "bad_request"
    assert act("next")["view"]["counter"]["serving"] == a1  # its place kept: first again
    got = act("transfer", to_service="Z")
    assert not got["ok"] and got["message"] == "Không có dịch vụ này."
    assert act("no_show")["ok"] and engine.state.tickets[a1].state == "no_show"
    got = act("call", number="a002")  # typed in lower case: read as A002
    assert got["ok"] and engine.state.counters["1"].serving == a2
    assert act("close")["ok"] and not engine.state.counters["1"].open
    assert engine.state.tickets[a2].state == "finished"
    got = act("resume")
    assert not got["ok"] and got["message"] == "Không tìm thấy số thứ tự này."
    got = act("dance")
    assert got["error"]["code"] == "bad_request" and "dance" in got["error"]["message"]
    state = client.get("/quay/1/state").json()
    assert state["today"]["officer"] == {"served": 1, "no_show": 1,
                                         "avg_service_s": state["today"]["officer"]
                                         ["avg_service_s"]}
    assert state["today"]["counter"]["served"] == 1
