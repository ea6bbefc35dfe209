"""The counter unit end to end: fake keypads (evdev's real reader over a pipe) → real
mosquitto → the real hub → the LED board's frames read back from a pty."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.bus import Bus
from appliance.clock import OffsetClock
from appliance.config import UnitConfig, load_unit_config
from appliance.counter.twin import CounterTwin
from appliance.hub.bootstrap import Hub, build_hub
from tests.waiting import poll as _wait

MakeTwin = Callable[..., CounterTwin]


def _config(demo_site: Path, broker_url: str, unit: str = "counter-1",
            **counter: Any) -> UnitConfig:
    config = load_unit_config(demo_site / f"{unit}.toml", broker_url=broker_url)
    assert config.counter is not None
    if counter:
        section = config.counter.model_copy(update=counter)
        config = config.model_copy(update={"counter": section})
        config._source = demo_site / f"{unit}.toml"
    return config


@pytest.fixture
def make_twin(broker, demo_site: Path, clock: OffsetClock) -> Iterator[MakeTwin]:
    made: list[CounterTwin] = []

    def factory(unit: str = "counter-1", **counter: Any) -> CounterTwin:
        twin = CounterTwin(_config(demo_site, broker.url, unit, **counter), clock=clock)
        twin.start()
        made.append(twin)
        return twin

    yield factory
    for twin in made:
        twin.stop()


def _issue(bus: Bus, service: str, n: int = 1) -> list[str]:
    out = []
    for _ in range(n):
        reply = bus.request("hub", {"op": "ticket.issue", "service": service}, timeout=5)
        assert reply["ok"], reply
        out.append(reply["ticket"]["number"])
    return out


def test_every_key_action_through_mosquitto_and_the_hub(hub: Hub, make_bus, make_twin) -> None:
    dispenser = make_bus("dispenser-1")
    a1, a2, a3 = _issue(dispenser, "A", 3)
    (b1,) = _issue(dispenser, "B")
    twin = make_twin()
    engine = hub.service.engine
    counter = engine.state.counters["1"]

    def shows(text: str, since: int) -> None:
        assert twin.tap.wait_for(text, since=since) is not None, (text, twin.tap.frames[-5:])

    m = twin.tap.mark()
    r = twin.do("login", officer="0427")
    assert r.ok and counter.officer == "0427" and counter.open
    r = twin.do("next")
    assert r.ok and r.shown == a1 and counter.serving == a1
    shows(a1, m)
    assert engine.state.tickets[a1].officer == "0427"
    m = twin.tap.mark()
    r = twin.do("recall")
    assert r.ok and engine.state.tickets[a1].calls == 2
    shows("", m)  # a recall blinks the number again: an off phase is written
    r = twin.do("finish")
    assert r.ok and counter.serving is None and engine.state.tickets[a1].state == "finished"
    r = twin.do("next")
    assert r.ok and counter.serving == a2
    r = twin.do("no_show")
    assert r.ok and engine.state.tickets[a2].state == "no_show" and counter.serving is None
    m = twin.tap.mark()
    r = twin.do("call", number=b1)  # the service key, digits, Enter
    assert r.ok and counter.serving == b1
    shows(b1, m)
    r = twin.do("transfer", to_service="C")
    assert r.ok and engine.state.tickets[b1].service == "C" and counter.serving is None
    r = twin.do("call", number="3")  # digits only: A003 is the only 003 waiting here
    assert r.ok and counter.serving == a3, r
    r = twin.do("park")
    assert r.ok and engine.state.tickets[a3].state == "parked"
    m = twin.tap.mark()
    r = twin.do("resume")
    assert r.ok and counter.serving == a3
    shows(a3, m)
    r = twin.do("close")
    assert r.ok and not counter.open and engine.state.tickets[a3].state == "finished"
    r = twin.do("open")
    assert r.ok and counter.open
    status = twin.unit.bus.status
    assert status["state"] == "ready" and status["keypad_present"] is True
    assert status["officer"] == "0427" and status["offline_backlog"] == 0


def test_errors_are_shown_on_the_board(hub: Hub, make_bus, make_twin) -> None:
    twin = make_twin()
    m = twin.tap.mark()
    r = twin.do("next")  # nobody waiting
    assert not r.ok and r.code == "empty"
    assert twin.tap.wait_for("----", since=m) is not None
    m = twin.tap.mark()
    r = twin.do("finish")
    assert not r.ok and r.code == "nothing_serving"
    m = twin.tap.mark()
    r = twin.do("call", number="D1")  # counter 1 serves A and B
    assert not r.ok and r.code in ("not_found", "wrong_service")
    assert twin.tap.wait_for("NO", since=m) or twin.tap.wait_for("SVC", since=m)
    wrong = make_twin("counter-2", counter="1")  # counter-2 may not drive counter 1
    m = wrong.tap.mark()
    r = wrong.do("open")
    assert not r.ok and r.code == "forbidden"
    assert wrong.tap.wait_for("DENY", since=m) is not None


def test_rating_goes_to_the_ticket_just_finished_once(hub: Hub, make_bus, make_twin) -> None:
    dispenser = make_bus("dispenser-1")
    a1, a2 = _issue(dispenser, "A", 2)
    twin = make_twin()
    engine = hub.service.engine
    assert twin.do("rate", rating="satisfied").code == "nothing_to_rate"
    assert twin.do("next").shown == a1
    assert twin.do("next").shown == a2  # finishes a1 and calls a2
    r = twin.do("rate", rating="very_satisfied")
    assert r.ok and r.number == a1 and not r.offline
    assert engine.state.tickets[a1].rating == "very_satisfied"
    assert engine.state.tickets[a2].rating is None
    r = twin.do("rate", rating="unsatisfied")  # a second press: ignored
    assert not r.ok and r.code == "already_rated"
    assert engine.state.tickets[a1].rating == "very_satisfied"
    twin.do("finish")
    r = twin.do("rate", rating="unsatisfied")
    assert r.ok and r.number == a2 and engine.state.tickets[a2].rating == "unsatisfied"


def test_a_late_rating_press_is_ignored(hub: Hub, make_bus, make_twin, demo_site) -> None:
    from appliance.config.counter import RatingConfig

    dispenser = make_bus("dispenser-1")
    (a1,) = _issue(dispenser, "A")
    base = _config(demo_site, "mqtt://127.0.0.1:1").counter
    assert base is not None
    twin = make_twin(rating=RatingConfig(**{**base.rating.model_dump(), "window_s": 0.3}))
    twin.do("next")
    twin.do("finish")
    time.sleep(0.5)
    r = twin.do("rate", rating="satisfied")
    assert not r.ok and r.code == "nothing_to_rate"
    assert hub.service.engine.state.tickets[a1].rating is None


def test_offline_manual_calls_are_reconciled_once(broker, demo_site, clock, make_bus,
                                                  make_twin) -> None:
    hub_config = load_unit_config(demo_site / "hub.toml", broker_url=broker.url)
    hub = build_hub(hub_config, clock=clock)
    hub.start()
    assert hub.bus.wait_connected(10)
    dispenser = make_bus("dispenser-1")
    a1, a2 = _issue(dispenser, "A", 2)
    twin = make_twin(request_timeout_s=0.4, sync_interval_s=0.3)
    assert twin.do("next").shown == a1
    hub.stop()  # the hub goes away; the broker stays
    m = twin.tap.mark()
    r = twin.do("next")  # cannot pick the next by itself: says so
    assert not r.ok and r.code == "hub_offline"
    assert twin.tap.wait_for("OFF", since=m) is not None
    r = twin.do("call", number=a2)  # typed by hand: shown and stored
    assert r.ok and r.offline and twin.tap.wait_for(a2, since=m) is not None
    r = twin.do("call", number="B7")  # a paper number the hub never issued
    assert r.ok and r.offline and r.shown == "B007"
    assert twin.do("finish").offline
    r = twin.do("rate", rating="satisfied")
    assert r.ok and r.offline and r.number == "B007"
    status = twin.unit.bus.status
    assert status["state"] == "alert" and "hub_unreachable" in status["reasons"]
    assert status["offline_backlog"] == 3
    # the first sync reaches the hub but its reply is lost: the retry must not double it
    real_request = twin.unit.bus.request
    lost: list[str] = []

    def lose_first_reply(target: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        reply = real_request(target, body, **kw)
        if body["op"] == "counter.sync" and not lost:
            lost.append(kw["req_id"])
            from appliance.errors import RequestTimeout
            raise RequestTimeout("reply lost")
        return reply

    twin.unit.bus.request = lose_first_reply  # type: ignore[method-assign,unused-ignore]
    hub = build_hub(hub_config, clock=clock)
    hub.start()
    try:
        assert hub.bus.wait_connected(10)
        assert _wait(lambda: twin.unit.store.backlog() == 0, 10), twin.unit.store.history()
        engine = hub.service.engine
        t1, t2, b7 = (engine.state.tickets[n] for n in (a1, a2, "B007"))
        assert t1.state == "finished"  # the hand call of a2 finished a1
        assert t2.state == "finished" and t2.calls == 1
        assert b7.origin == "manual" and b7.state == "finished" and b7.calls == 1
        assert b7.rating == "satisfied"
        events = [r for r in twin.unit.store.history() if r[0] == "event"]
        assert [e[1]["action"] for e in events] == ["call", "call", "finish"]
        batches = {e[4]: e[3] for e in events}  # request id -> the hub's answer
        assert lost[0] in batches
        applied = sum(int(str(res).split()[1].rstrip(";")) for res in batches.values())
        assert applied == 3 and all("skipped 0" in str(res) for res in batches.values())
        assert _wait(lambda: twin.unit.bus.status["state"] == "ready")
        assert twin.unit.bus.status["offline_backlog"] == 0
    finally:
        hub.stop()


def test_keypad_unplug_and_replug_inside_the_unit(hub: Hub, make_bus, make_twin) -> None:
    dispenser = make_bus("dispenser-1")
    (a1,) = _issue(dispenser, "A")
    twin = make_twin()
    twin.keypad.unplug()
    assert _wait(lambda: twin.unit.bus.status.get("keypad_present") is False)
    assert "keypad_missing" in twin.unit.bus.status["reasons"]
    twin.keypad.plug()
    assert twin.unit.inputs[0].wait_present(3)
    assert twin.do("next").shown == a1
    assert _wait(lambda: twin.unit.bus.status.get("keypad_present") is True)


def test_board_is_resent_and_shows_the_number_after_a_restart(hub: Hub, make_bus,
                                                               demo_site, broker,
                                                               clock) -> None:
    from appliance.config.counter import BoardConfig

    dispenser = make_bus("dispenser-1")
    (a1,) = _issue(dispenser, "A")
    base = _config(demo_site, broker.url).counter
    assert base is not None
    board = BoardConfig(**{**base.board.model_dump(), "resend_s": 0.2, "blink_s": 0})
    config = _config(demo_site, broker.url, board=board)
    twin = CounterTwin(config, clock=clock)
    twin.start()
    try:
        assert twin.do("next").shown == a1
        m = twin.tap.mark()
        time.sleep(0.7)
        resent = [f for f in twin.tap.frames[m:] if f[2].strip() == a1]
        assert len(resent) >= 2
    finally:
        twin.stop()
    again = CounterTwin(config, clock=clock)  # power cut: the unit starts again
    again.start()
    try:
        assert again.tap.wait_for(a1) is not None
    finally:
        again.stop()
