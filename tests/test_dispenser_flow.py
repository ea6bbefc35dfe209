"""The dispenser end to end: mock pins, the fake printer, a real mosquitto and the real hub."""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from gpiozero.pins.mock import MockFactory

from appliance.bus import Message
from appliance.config import load_unit_config, parse_unit_config
from appliance.contract import decode
from appliance.dispenser.bootstrap import DispenserApp, build_dispenser
from appliance.hub.bootstrap import build_hub
from tests.printer_helpers import printed_image

A_PIN, B_PIN, PRIORITY_PIN = 17, 27, 24


def wait_until(pred: Callable[[], Any], timeout: float = 8.0, what: Any = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {(what() if callable(what) else what) or pred}")


class Watch:
    """Retained queue state, queue events and the dispenser's status, as a board would see."""

    def __init__(self, bus) -> None:
        self.state: dict[str, Any] = {}
        self.status: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        bus.subscribe(bus.topics.queue_state, self._on_state)
        bus.subscribe(bus.topics.queue_events, self._on_event)
        bus.subscribe(bus.topics.status("dispenser-1"), self._on_status)

    def _on_state(self, msg: Message) -> None:
        self.state = decode(msg.payload)

    def _on_event(self, msg: Message) -> None:
        with self._lock:
            self.events.append(decode(msg.payload))

    def _on_status(self, msg: Message) -> None:
        self.status = decode(msg.payload)

    def waiting(self, service: str) -> list[str]:
        return list(self.state.get("services", {}).get(service, {}).get("waiting", []))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e["type"] == kind]


@pytest.fixture
def make_dispenser(broker, demo_site: Path, clock) -> Iterator[Callable[..., DispenserApp]]:
    apps: list[DispenserApp] = []
    factories: list[MockFactory] = []

    def make(**overrides: Any) -> DispenserApp:
        path = demo_site / "dispenser-1.toml"
        data = tomllib.loads(path.read_text())
        data["dispenser"].update(overrides)
        config = parse_unit_config(data, source=path, broker_url=broker.url)
        factory = MockFactory()
        factories.append(factory)
        app = build_dispenser(config, clock=clock, pin_factory=factory)
        app.start()
        assert app.bus.wait_connected(10)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.stop()
    for f in factories:
        f.reset()


@pytest.fixture
def watch(make_bus) -> Watch:
    return Watch(make_bus("board-1", role="board"))


def press(app: DispenserApp, pin: int, *, bounce: int = 0) -> None:
    p = app.pin_factory.pin(pin)
    for _ in range(bounce):
        p.drive_low()
        p.drive_high()
    p.drive_low()
    time.sleep(0.06)  # longer than the debounce, as a finger is
    p.drive_high()
    time.sleep(0.06)  # nor does a finger press again within the debounce time


def outcomes(app: DispenserApp) -> list[Any]:
    seen: list[Any] = []
    app.dispenser.add_listener(seen.append)
    return seen


def ready(app: DispenserApp) -> None:
    wait_until(lambda: app.dispenser.site is not None, what="site info")


def test_button_press_prints_a_hub_ticket(hub, make_dispenser, watch):
    app = make_dispenser()
    ready(app)
    done = outcomes(app)
    press(app, A_PIN)
    wait_until(lambda: done, what="a printed ticket")
    assert done[0].ok and done[0].number == "A001" and not done[0].offline
    fake = app.fake_printer
    assert fake is not None and fake.cuts == 1 and len(fake.printed) == 1
    paper = printed_image(bytes(fake.received))
    codes = [r.text for r in zxingcpp.read_barcodes(paper.convert("L"))]
    assert codes == ["MOTCUA:demo:2026-11-30:A001"]
    wait_until(lambda: watch.waiting("A") == ["A001"], what="A001 in the hub's queue")
    wait_until(lambda: watch.status.get("last_ticket") == "A001", what="status")
    assert watch.status["state"] == "ready" and watch.status["paper"] == "ok"
    assert watch.status["printer"] == "ok" and watch.status["backlog"] == 0


def test_priority_then_service_gives_a_priority_ticket(hub, make_dispenser, watch):
    app = make_dispenser()
    ready(app)
    done = outcomes(app)
    press(app, PRIORITY_PIN)  # short press: arms priority for the next service press
    press(app, B_PIN)
    wait_until(lambda: done, what="a printed ticket")
    assert done[0].ok and done[0].number == "B001"
    issued = wait_until(lambda: watch.of_type("ticket.issued"), what="issued event")
    assert issued[0]["ticket"]["priority"] is True


def test_paper_out_counts_nothing_voids_the_number_and_alerts(hub, make_dispenser, watch):
    app = make_dispenser()
    ready(app)
    assert app.fake_printer is not None
    app.fake_printer.paper = "out"
    done = outcomes(app)
    press(app, A_PIN)
    wait_until(lambda: done, what="the press to finish")
    assert not done[0].ok and done[0].error == "paper_out"
    assert app.fake_printer.printed == []
    voided = wait_until(lambda: watch.of_type("ticket.voided"), what="void event")
    assert voided[0]["ticket"]["number"] == "A001"
    wait_until(lambda: watch.status.get("state") == "alert"
               and "paper_out" in watch.status.get("reasons", []), what="alert status")
    wait_until(lambda: watch.status.get("pending_voids") == 0, what="void settled")
    assert watch.waiting("A") == []
    assert app.lights is not None and app.lights.state["fault"] == "blink"
    # paper back in: the next ticket prints and the alert clears
    app.fake_printer.paper = "ok"
    press(app, A_PIN)
    wait_until(lambda: len(done) == 2, what="second press")
    assert done[1].ok and done[1].number == "A002"
    wait_until(lambda: watch.status.get("state") == "ready", what="ready again")
    wait_until(lambda: watch.waiting("A") == ["A002"], what="only A002 waits")


def test_paper_low_prints_but_says_so(hub, make_dispenser, watch):
    app = make_dispenser()
    ready(app)
    assert app.fake_printer is not None
    app.fake_printer.paper = "low"
    done = outcomes(app)
    press(app, A_PIN)
    wait_until(lambda: done)
    assert done[0].ok
    wait_until(lambda: watch.status.get("paper") == "low")
    assert watch.status["state"] == "alert" and "paper_low" in watch.status["reasons"]
    assert app.lights is not None and app.lights.state["paper_low"] == "on"


def test_printer_unplugged_then_back(hub, make_dispenser, watch):
    app = make_dispenser()
    ready(app)
    fake = app.fake_printer
    assert fake is not None
    fake.plugged = False
    done = outcomes(app)
    press(app, B_PIN)
    wait_until(lambda: done)
    assert done[0].error == "printer_unreachable"
    wait_until(lambda: "printer_unreachable" in watch.status.get("reasons", []))
    wait_until(lambda: watch.of_type("ticket.voided"), what="B001 voided")
    fake.plugged = True
    app.dispenser.check_printer()  # what the periodic poll does
    wait_until(lambda: watch.status.get("state") == "ready", what="recovered")
    press(app, B_PIN)
    wait_until(lambda: len(done) == 2)
    assert done[1].ok and done[1].number == "B002"
    wait_until(lambda: watch.waiting("B") == ["B002"])


def test_rapid_presses_and_bounce_give_one_ticket(hub, make_dispenser, watch):
    app = make_dispenser()
    ready(app)
    done = outcomes(app)
    assert app.fake_printer is not None
    app.fake_printer.job_seconds = 0.5
    press(app, A_PIN, bounce=8)
    # a second, deliberate press while the first ticket is still printing is ignored
    press(app, A_PIN)
    wait_until(lambda: done)
    assert app.controls.ignored == 1
    time.sleep(0.4)
    assert [o.number for o in done] == ["A001"]
    assert app.fake_printer is not None and app.fake_printer.cuts == 1
    wait_until(lambda: watch.waiting("A") == ["A001"])


def test_queue_policy_prints_each_press_in_turn(hub, make_dispenser, watch):
    app = make_dispenser(busy_policy="queue", queue_max=3)
    ready(app)
    done = outcomes(app)
    for name in ("service:A", "service:B", "service:A"):
        app.controls.on_button(name)
    wait_until(lambda: len(done) == 3)
    assert [o.number for o in done] == ["A001", "B001", "A002"]


def test_long_press_reprints_the_last_ticket(hub, make_dispenser, watch):
    app = make_dispenser(long_press_s=0.5)
    ready(app)
    done = outcomes(app)
    press(app, A_PIN)
    wait_until(lambda: done)
    p = app.pin_factory.pin(PRIORITY_PIN)
    p.drive_low()
    time.sleep(0.8)
    p.drive_high()
    wait_until(lambda: len(done) == 2, what="reprint")
    assert done[1].ok and done[1].reprint and done[1].number == "A001"
    assert app.fake_printer is not None and app.fake_printer.cuts == 2
    time.sleep(0.2)
    assert watch.waiting("A") == ["A001"], "a reprint is not a new ticket"


def test_hub_refusal_prints_nothing(hub, make_dispenser):
    app = make_dispenser()
    ready(app)
    out = app.dispenser.press("Z")
    assert out.kind == "refused" and out.error == "unknown_service"
    assert app.fake_printer is not None and app.fake_printer.cuts == 0


def test_hub_gone_offline_band_then_back_once_in_order(broker, demo_site, clock,
                                                       make_dispenser, watch):
    hub_conf = load_unit_config(demo_site / "hub.toml", broker_url=broker.url)
    hub = build_hub(hub_conf, clock=clock)
    hub.start()
    try:
        app = make_dispenser()
        ready(app)
        done = outcomes(app)
        press(app, A_PIN)
        wait_until(lambda: done)
        assert done[0].number == "A001"
        hub.stop()
        wait_until(lambda: not app.dispenser.hub_usable(), what="hub seen gone")
        t0 = time.monotonic()
        for i, pin in enumerate((A_PIN, B_PIN, A_PIN)):
            press(app, pin)

            def printed(count: int = i + 2) -> bool:
                return len(done) == count

            wait_until(printed, what="offline ticket")
        assert time.monotonic() - t0 < 3.0, "a known-dead hub must not cost 1.5 s per press"
        assert [(o.number, o.offline, o.ok) for o in done[1:]] == [
            ("A800", True, True), ("B800", True, True), ("A801", True, True)]
        assert app.outbox.backlog() == 3
        # the status is republished on each change, so the first one carrying the band can
        # still count an older backlog; what must come is one status that says both
        wait_until(lambda: "hub_offline" in watch.status.get("reasons", [])
                   and watch.status.get("backlog") == 3,
                   what=lambda: f"status with hub_offline and backlog 3: {watch.status}")
        assert app.lights is not None and app.lights.state["offline"] == "on"
        # the hub comes back: the offline tickets join its queue once, in issue order
        hub = build_hub(hub_conf, clock=clock)
        hub.start()
        wait_until(lambda: watch.waiting("A") == ["A001", "A800", "A801"], timeout=15,
                   what=lambda: f"offline A in queue: {watch.state}")
        wait_until(lambda: watch.waiting("B") == ["B800"])
        wait_until(lambda: app.outbox.backlog() == 0)
        offline_events = [e["ticket"]["number"] for e in watch.of_type("ticket.issued")
                          if e.get("offline")]
        assert offline_events == ["A800", "B800", "A801"]
        # a repeated round (e.g. after a lost reply) changes nothing
        for t in app.outbox.offline_tickets():
            app.outbox.set_offline_state(t.seq, "printed")
        app.syncer.run_once()
        time.sleep(0.3)
        assert watch.waiting("A") == ["A001", "A800", "A801"]
        assert len([e for e in watch.of_type("ticket.issued") if e.get("offline")]) == 3
        wait_until(lambda: watch.status.get("state") == "ready", what="ready again")
        # the hub numbers on as before
        press(app, A_PIN)
        wait_until(lambda: len(done) == 5)
        assert done[4].number == "A002" and not done[4].offline
    finally:
        hub.stop()


def test_restart_without_hub_prints_from_cached_site_info(hub, make_dispenser, watch):
    first = make_dispenser()
    ready(first)
    first.stop()
    hub.stop()
    again = make_dispenser()
    assert again.dispenser.site is not None  # from disk, before any message arrives
    wait_until(lambda: not again.dispenser.hub_usable(), what="hub known gone")
    out = again.dispenser.press("C")
    assert out.ok and out.offline and out.number == "C800"
    assert again.fake_printer is not None
    from appliance.dispenser.ticket import ticket_lines

    lines = ticket_lines(_last_view(again), again.dispenser.conf.ticket)
    assert lines["service"] == "Đất đai" and lines["time"].endswith(" *")  # offline mark
    assert lines["counters"] == "Quầy phục vụ: 2, 3"


def _last_view(app: DispenserApp):
    from appliance.dispenser.service import _view_from_json

    last = app.outbox.get("last_ticket")
    assert last is not None
    return _view_from_json(last)
