"""Counter hardware variants end to end: GPIO rating keys and buzzer (gpiozero MockFactory),
a Modbus board whose fault shows in the retained status, offline events across a restart."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from appliance.bus import Message
from appliance.config import UnitConfig, load_unit_config
from appliance.config.counter import BoardConfig, BuzzerConfig, RatingConfig
from appliance.counter.twin import CounterTwin
from appliance.hub.bootstrap import Hub, build_hub
from drivers.ledboard.modbus import ModbusBoard
from tests.test_counter_board import ModbusServerThread, NullModem
from tests.waiting import poll as _wait


def _config(demo_site: Path, broker_url: str, **counter: Any) -> UnitConfig:
    config = load_unit_config(demo_site / "counter-1.toml", broker_url=broker_url)
    assert config.counter is not None
    section = config.counter.model_copy(update=counter)
    out = config.model_copy(update={"counter": section})
    out._source = config.source
    return out


@pytest.fixture
def mock_pins() -> Iterator[MockFactory]:
    factory = MockFactory()
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = None


def test_gpio_rating_keys_and_buzzer(hub: Hub, make_bus, demo_site, broker, clock,
                                     mock_pins: MockFactory) -> None:
    pins = {"very_satisfied": 5, "satisfied": 6, "unsatisfied": 13}
    config = _config(demo_site, broker.url,
                     rating=RatingConfig(source="gpio", pins=pins, window_s=60),
                     buzzer=BuzzerConfig(pin=18))
    dispenser = make_bus("dispenser-1")
    a1 = dispenser.request("hub", {"op": "ticket.issue", "service": "A"},
                           timeout=5)["ticket"]["number"]
    twin = CounterTwin(config, clock=clock, pin_factory=mock_pins)
    twin.start()
    try:
        assert twin.do("next").shown == a1
        assert twin.do("finish").ok
        button = mock_pins.pin(5)
        r = twin.then(button.drive_low)
        assert r.ok and r.number == a1
        assert hub.service.engine.state.tickets[a1].rating == "very_satisfied"
        button.drive_high()
        time.sleep(0.1)  # past the debounce: a real second press
        r = twin.then(mock_pins.pin(13).drive_low)
        assert not r.ok and r.code == "already_rated"
        assert hub.service.engine.state.tickets[a1].rating == "very_satisfied"
        buzzer = mock_pins.pin(18)
        buzzer.clear_states()
        assert twin.do("next").code == "empty"  # an error: three beeps
        assert _wait(lambda: sum(1 for s in buzzer.states if s.state) >= 3, 3)
    finally:
        twin.stop()


def test_modbus_board_fault_shows_in_the_retained_status(hub: Hub, make_bus, demo_site,
                                                          broker, clock) -> None:
    modem = NullModem()
    server = ModbusServerThread(modem.b_path, unit=1)
    board_cfg = BoardConfig(protocol="modbus", port=modem.a_path, address=1, resend_s=0.3)
    config = _config(demo_site, broker.url, board=board_cfg)
    seen: list[dict[str, Any]] = []
    got = threading.Event()
    monitor = make_bus("monitor", role="board")

    def on_status(msg: Message) -> None:
        seen.append(json.loads(msg.payload))
        got.set()

    monitor.subscribe(monitor.topics.status("counter-1"), on_status)
    dispenser = make_bus("dispenser-1")
    a1 = dispenser.request("hub", {"op": "ticket.issue", "service": "A"},
                           timeout=5)["ticket"]["number"]
    twin = CounterTwin(config, clock=clock,
                       board=ModbusBoard(modem.a_path, address=1, timeout_s=0.2))
    twin.start()
    try:
        assert twin.do("next").shown == a1
        assert _wait(lambda: server.registers(1) == [int(a1[1:])])
        assert _wait(lambda: bool(seen) and seen[-1].get("board_answering") is True)
        modem.cut = True
        assert _wait(lambda: seen[-1].get("board_answering") is False, 5), seen[-1]
        assert seen[-1]["state"] == "alert" and "board_fault" in seen[-1]["reasons"]
        modem.cut = False
        assert _wait(lambda: seen[-1].get("board_answering") is True, 5), seen[-1]
        assert seen[-1]["state"] == "ready"
    finally:
        twin.stop()
        server.stop()
        modem.close()


def test_offline_events_survive_a_restart_of_the_unit(broker, demo_site, clock,
                                                      make_bus) -> None:
    hub_config = load_unit_config(demo_site / "hub.toml", broker_url=broker.url)
    hub = build_hub(hub_config, clock=clock)
    hub.start()
    assert hub.bus.wait_connected(10)
    dispenser = make_bus("dispenser-1")
    a1, a2 = (dispenser.request("hub", {"op": "ticket.issue", "service": "A"},
                                timeout=5)["ticket"]["number"] for _ in range(2))
    config = _config(demo_site, broker.url, request_timeout_s=0.3, sync_interval_s=0.3)
    twin = CounterTwin(config, clock=clock)
    twin.start()
    try:
        assert twin.do("next").shown == a1
        hub.stop()
        assert twin.do("call", number=a2).offline
    finally:
        twin.stop()  # power cut after the hand call
    again = CounterTwin(config, clock=clock)
    again.start()
    try:
        assert again.tap.wait_for(a2) is not None  # the board is right at once
        assert again.unit.store.events_backlog() == 1
        hub = build_hub(hub_config, clock=clock)
        hub.start()
        try:
            assert _wait(lambda: again.unit.store.backlog() == 0, 10)
            t2 = hub.service.engine.state.tickets[a2]
            assert t2.state == "serving" and t2.counter == "1" and t2.calls == 1
            assert hub.service.engine.state.counters["1"].serving == a2
        finally:
            hub.stop()
    finally:
        again.stop()
