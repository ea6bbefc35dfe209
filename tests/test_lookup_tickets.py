"""The touch terminal issues tickets: a real mosquitto, the real hub, the dispenser's printer
driver on its fake printer, and touches through evdev's real reader (a fake USB panel).

The ticket counts only once printed: paper out or an unplugged printer leaves nothing in
the hub's queue, a clear message on the screen and ``alert`` on the unit's status.
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pygame
import pytest
import zxingcpp

from appliance.broker import MosquittoBroker
from appliance.bus import Bus, Message
from appliance.config import load_unit_config, parse_unit_config
from appliance.contract import decode
from appliance.errors import RequestTimeout
from appliance.hub.bootstrap import build_hub
from appliance.lookup import ticket_flow
from appliance.lookup.bootstrap import LookupUnit, build_lookup
from appliance.lookup.state import LookupState, Screen, Target
from appliance.lookup.ticket_desk import OWN_REASONS
from display.lookup import View, layout
from display.lookup import tickets as tickets_view
from drivers.evdev_fake import FakeUsbPort
from tests.printer_helpers import printed_image
from tests.test_lookup_touch import RAW, Finger
from tests.waiting import poll

VIEW = View(1280, 800, 89)
PUBLIC = "http://motcua.local:8080"


class Watch:
    """The hub's queue/state and events and the terminal's status, as the office sees them."""

    def __init__(self, bus: Bus) -> None:
        self.state: dict[str, Any] = {}
        self.status: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        bus.subscribe(bus.topics.queue_state, lambda m: setattr(self, "state", decode(m.payload)))
        bus.subscribe(bus.topics.queue_events, self._on_event)
        bus.subscribe(bus.topics.status("lookup-1"),
                      lambda m: setattr(self, "status", decode(m.payload)))

    def _on_event(self, msg: Message) -> None:
        with self._lock:
            self.events.append(decode(msg.payload))

    def waiting(self, service: str) -> list[str]:
        return list(self.state.get("services", {}).get(service, {}).get("waiting", []))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e["type"] == kind]


def terminal_config(site: Path, broker: MosquittoBroker, data: Path, port: FakeUsbPort,
                    printer: dict[str, Any] | None, **section: Any) -> Any:
    path = site / "lookup-1.toml"
    raw = tomllib.loads(path.read_text("utf-8"))
    raw["lookup"]["touch"] = {"source": "evdev", "device": port.path,
                              "calibration": RAW.model_dump()}
    if printer is not None:
        raw["lookup"]["printer"] = printer
    raw["lookup"].update(section)
    raw["ticket"] = {"public_url": PUBLIC}
    return parse_unit_config(raw, source=path, broker_url=broker.url, data_dir=data)


@pytest.fixture
def make_terminal(demo_site: Path, broker: MosquittoBroker, clock: Any,
                  tmp_path: Path) -> Iterator[Callable[..., tuple[LookupUnit, FakeUsbPort]]]:
    made: list[LookupUnit] = []
    pygame.init()

    def make(printer: dict[str, Any] | None = None,
             **section: Any) -> tuple[LookupUnit, FakeUsbPort]:
        port = FakeUsbPort(name="Fake touch panel", vendor=0x222A, product=0x0001)
        cfg = terminal_config(demo_site, broker, tmp_path / "lookup-data", port,
                              printer if printer is not None else {"connector": {"type": "dummy"}},
                              **section)
        unit = build_lookup(cfg, clock=clock, surface=pygame.Surface((1280, 800)),
                            touch_opener=port.open)
        unit.start()
        assert unit.bus.wait_connected(10)
        made.append(unit)
        return unit, port

    yield make
    for unit in made:
        unit.stop()


@pytest.fixture
def watch(make_bus: Callable[..., Bus]) -> Watch:
    return Watch(make_bus("board-1", role="board"))


def touch(unit: LookupUnit, port: FakeUsbPort, kind: str, value: str = "") -> None:
    """A finger on the button's centre, through the evdev reader and the gesture decoder."""
    app = unit.app
    app.step_once()
    for b in layout(app.state, VIEW):
        if b.target == Target(kind, value):
            finger = Finger(port, 0, 40)
            finger.down(b.rect.x + b.rect.w / 2, b.rect.y + b.rect.h / 2)
            finger.up()
            return
    raise AssertionError(f"no {kind} {value!r} on {app.state.screen}")


def run_until(unit: LookupUnit, done: Callable[[LookupState], bool], what: str,
              timeout: float = 10.0) -> LookupState:
    assert unit.app.run_until(done, timeout), f"{what}: still {unit.app.state.screen}"
    return unit.app.state


def services_known(unit: LookupUnit) -> None:
    def known(s: LookupState) -> bool:
        a = s.desk.service("A")
        return a is not None and a.waiting is not None

    run_until(unit, known, "site info and queue/state")


def test_touches_issue_a_priority_ticket_that_prints_with_the_phone_qr(
        hub: Any, make_terminal: Any, watch: Watch, make_bus: Callable[..., Bus]) -> None:
    # someone took A001 at the dispenser: the terminal's preview shows one person waiting
    reply = make_bus("dispenser-1").request("hub", {"op": "ticket.issue", "service": "A"},
                                            timeout=5)
    assert reply["ok"] and reply["ticket"]["number"] == "A001"
    opened = make_bus("counter-1", role="counter").request(
        "hub", {"op": "counter.open", "counter": "1"}, timeout=5)
    assert opened["ok"], opened
    unit, port = make_terminal()
    assert unit.tickets is not None and unit.tickets.fake_printer is not None
    fake = unit.tickets.fake_printer
    services_known(unit)
    touch(unit, port, "take")
    run_until(unit, lambda s: s.screen is Screen.TICKET_SERVICE, "service list")
    touch(unit, port, "take_service", "A")
    state = run_until(unit, lambda s: s.screen is Screen.TICKET_CONFIRM, "confirm")
    a = state.desk.service("A")
    assert a is not None and a.waiting == 1 and a.est_wait_s
    assert tickets_view.wait_line(a).startswith("Đang chờ: 1 người · khoảng ")
    assert "người cao tuổi" in state.desk.categories
    touch(unit, port, "category", "người cao tuổi")
    run_until(unit, lambda s: s.take_category == "người cao tuổi", "category chosen")
    touch(unit, port, "print")
    done = run_until(unit, lambda s: s.screen is Screen.TICKET_DONE, "printed")
    assert done.ticket is not None and done.ticket.number == "A002"
    assert fake.cuts == 1 and len(fake.printed) == 1
    paper = printed_image(bytes(fake.received))
    codes = [r.text for r in zxingcpp.read_barcodes(paper.convert("L"))]
    assert codes == [f"{PUBLIC}/ticket/demo/2026-11-30/A002"]
    assert poll(lambda: bool([e for e in watch.of_type("ticket.issued")
                              if e["ticket"]["number"] == "A002"]))
    issued = [e for e in watch.of_type("ticket.issued") if e["ticket"]["number"] == "A002"]
    assert issued[0]["ticket"]["priority"] is True
    assert poll(lambda: "A002" in watch.waiting("A"))
    assert poll(lambda: watch.status.get("tickets", {}).get("last_ticket") == "A002")
    # the kiosk has no store here (catalogue_missing); nothing of the tickets is wrong
    assert not set(watch.status["reasons"]) & OWN_REASONS, watch.status
    assert watch.status["tickets"]["paper"] == "ok"


def test_paper_out_counts_nothing_says_so_and_alerts(hub: Any, make_terminal: Any,
                                                     watch: Watch) -> None:
    unit, port = make_terminal()
    assert unit.tickets is not None and unit.tickets.fake_printer is not None
    fake = unit.tickets.fake_printer
    fake.paper = "out"
    services_known(unit)
    touch(unit, port, "take")
    run_until(unit, lambda s: s.screen is Screen.TICKET_SERVICE, "service list")
    touch(unit, port, "take_service", "B")
    run_until(unit, lambda s: s.screen is Screen.TICKET_CONFIRM, "confirm")
    touch(unit, port, "print")
    shown = run_until(unit, lambda s: s.screen is Screen.ERROR, "the failure shown")
    assert shown.error == ticket_flow.PAPER_OUT
    assert fake.printed == []
    voided = poll(lambda: bool(watch.of_type("ticket.voided")))
    assert voided and watch.of_type("ticket.voided")[0]["ticket"]["number"] == "B001"
    assert poll(lambda: watch.status.get("state") == "alert"
                and "paper_out" in watch.status.get("reasons", [])), watch.status
    assert poll(lambda: watch.status.get("tickets", {}).get("pending_voids") == 0)
    assert watch.waiting("B") == []
    # paper back: the next ticket prints and the alert clears
    fake.paper = "ok"
    result = unit.tickets.desk.issue("B", False, None)
    assert result.ok and result.number == "B002"
    assert poll(lambda: not set(watch.status.get("reasons", [])) & OWN_REASONS), watch.status
    assert poll(lambda: watch.waiting("B") == ["B002"])


def test_unplugged_printer_counts_nothing(hub: Any, make_terminal: Any, watch: Watch) -> None:
    unit, _ = make_terminal()
    assert unit.tickets is not None and unit.tickets.fake_printer is not None
    unit.tickets.fake_printer.plugged = False
    services_known(unit)
    result = unit.tickets.desk.issue("C", False, None)
    assert not result.ok and result.error == "printer_unreachable"
    assert ticket_flow.message_for(result.error) == ticket_flow.PRINTER_FAULT
    assert poll(lambda: bool(watch.of_type("ticket.voided")))
    assert poll(lambda: "printer_unreachable" in watch.status.get("reasons", []))
    assert watch.waiting("C") == []


def test_hub_away_refuses_clearly_and_prints_nothing(broker: MosquittoBroker, demo_site: Path,
                                                     clock: Any, make_terminal: Any,
                                                     watch: Watch) -> None:
    hub = build_hub(load_unit_config(demo_site / "hub.toml", broker_url=broker.url),
                    clock=clock)
    hub.start()
    assert hub.bus.wait_connected(10)  # subscribed before the first request
    unit, port = make_terminal()
    assert unit.tickets is not None and unit.tickets.fake_printer is not None
    services_known(unit)
    hub.stop()  # its retained status says "stopped"
    assert poll(lambda: unit.tickets is not None and unit.tickets.desk.hub_state is not None
                and unit.tickets.desk.hub_state[0] == "stopped")
    touch(unit, port, "take")
    run_until(unit, lambda s: s.screen is Screen.TICKET_SERVICE, "service list")
    touch(unit, port, "take_service", "A")
    run_until(unit, lambda s: s.screen is Screen.TICKET_CONFIRM, "confirm")
    touch(unit, port, "print")
    shown = run_until(unit, lambda s: s.screen is Screen.ERROR, "the refusal shown")
    assert shown.error == ticket_flow.NO_HUB
    assert unit.tickets.fake_printer.printed == []
    assert poll(lambda: "hub_offline" in watch.status.get("reasons", [])), watch.status


def test_a_terminal_the_site_file_does_not_grant_is_refused(broker: MosquittoBroker,
                                                            demo_site: Path, clock: Any,
                                                            make_terminal: Any) -> None:
    hub_file = demo_site / "hub.toml"
    text = hub_file.read_text("utf-8")
    hub_file.write_text(text.replace('allow = ["ticket.issue", "ticket.void"]', ""), "utf-8")
    hub = build_hub(load_unit_config(hub_file, broker_url=broker.url), clock=clock)
    hub.start()
    assert hub.bus.wait_connected(10)  # subscribed before the first request
    try:
        unit, _ = make_terminal()
        assert unit.tickets is not None and unit.tickets.fake_printer is not None
        services_known(unit)
        result = unit.tickets.desk.issue("A", False, None)
        assert not result.ok and result.error == "forbidden"
        assert unit.tickets.fake_printer.printed == []
        assert ticket_flow.message_for("forbidden") == ticket_flow.NOT_ISSUED
    finally:
        hub.stop()


def test_an_unanswered_request_leaves_no_ghost_number(hub: Any, make_terminal: Any,
                                                      watch: Watch,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub acts but its answer is lost on the way: the terminal says so, prints nothing,
    and once the hub answers again the number it gave is voided (the dispenser's rule)."""
    unit, _ = make_terminal(sync_interval_s=0.2)
    assert unit.tickets is not None and unit.tickets.fake_printer is not None
    services_known(unit)
    real = unit.bus.request
    lost: list[str] = []

    def reply_lost(target: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        reply = real(target, body, **kw)  # the hub really issues the number
        if body.get("op") == "ticket.issue" and not lost:
            lost.append(str(reply["ticket"]["number"]))
            raise RequestTimeout("the reply was lost on the way")
        return reply

    monkeypatch.setattr(unit.bus, "request", reply_lost)
    result = unit.tickets.desk.issue("D", False, None)
    assert not result.ok and result.error == "hub_no_answer"
    assert ticket_flow.message_for(result.error) == ticket_flow.NO_HUB
    assert unit.tickets.fake_printer.printed == []
    assert poll(lambda: bool(watch.of_type("ticket.voided")), 15), watch.events
    assert [e["ticket"]["number"] for e in watch.of_type("ticket.voided")] == lost
    assert poll(lambda: watch.waiting("D") == [])
    assert unit.tickets.outbox.orphans() == []
