"""Status truth after restarts: an idle dispenser or counter re-checks the hub on reconnect
and clears its hub alarm once the hub answers, with nobody pressing anything."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from appliance.broker import MosquittoBroker
from appliance.bus import Bus
from appliance.clock import OffsetClock
from appliance.config import load_unit_config
from appliance.dispenser.bootstrap import DispenserApp
from appliance.hub.bootstrap import build_hub
from tests.test_counter_unit import MakeTwin, make_twin  # noqa: F401 - fixture
from tests.test_dispenser_flow import make_dispenser  # noqa: F401 - fixture
from tests.waiting import poll


def test_hub_ping_is_answered_by_the_worker_and_changes_nothing(hub, make_bus) -> None:
    disp = make_bus("dispenser-1")
    seq = hub.service.engine.state.seq
    r = disp.request("hub", {"op": "hub.ping"}, timeout=5)
    assert r["ok"] and r["seq"] == seq
    assert len(hub.service._replies) == 0  # not remembered: it did nothing
    ghost = make_bus("ghost-1")
    assert ghost.request("hub", {"op": "hub.ping"}, timeout=5)["error"]["code"] == "unknown_unit"


def test_idle_dispenser_clears_hub_offline_after_broker_and_hub_restarts(
        broker: MosquittoBroker, demo_site: Path, clock: OffsetClock,
        make_dispenser: Callable[..., DispenserApp]) -> None:  # noqa: F811
    hub_conf = load_unit_config(demo_site / "hub.toml", broker_url=broker.url)
    hub = build_hub(hub_conf, clock=clock)
    hub.start()
    try:
        app = make_dispenser()
        health = app.dispenser.health
        assert health.fields.get("hub") != "offline"  # not asked yet: no alarm either
        # the broker dies and comes back (power cut of the switch cabinet)
        broker.kill()
        assert poll(lambda: health.fields.get("hub") == "offline", 10)
        broker.start()
        assert poll(lambda: hub.bus.connected and app.bus.connected, 20)
        assert poll(lambda: health.fields.get("hub") == "online", 15), health.fields
        # the hub restarts (an upgrade): it is seen gone, then answering, then online
        hub.stop()
        assert poll(lambda: health.fields.get("hub") == "offline", 10)
        hub = build_hub(hub_conf, clock=clock)
        hub.start()
        assert hub.bus.wait_connected(10)
        assert poll(lambda: health.fields.get("hub") == "online", 15), health.fields
        assert "hub_offline" not in app.bus.status.get("reasons", [])
        assert app.outbox.backlog() == 0  # nobody pressed: only the hub was asked
    finally:
        hub.stop()


def test_idle_counter_clears_hub_unreachable_when_the_hub_answers(
        broker: MosquittoBroker, demo_site: Path, clock: OffsetClock,
        make_twin: MakeTwin, make_bus: Callable[..., Bus]) -> None:  # noqa: F811
    hub_conf = load_unit_config(demo_site / "hub.toml", broker_url=broker.url)
    hub = build_hub(hub_conf, clock=clock)
    hub.start()
    try:
        twin = make_twin(request_timeout_s=0.5)
        service = twin.unit.service
        assert poll(lambda: service.hub_reachable is True, 10)
        broker.kill()
        time.sleep(0.5)
        broker.start()
        assert poll(lambda: hub.bus.connected and twin.unit.bus.connected, 20)
        # a press while the hub was still away marks it unreachable ...
        hub.stop()
        service.act("next").result(timeout=10)
        assert poll(lambda: service.hub_reachable is False, 10)
        hub = build_hub(hub_conf, clock=clock)
        hub.start()
        # ... and no press is needed for it to clear once the hub answers
        assert poll(lambda: service.hub_reachable is True, 15)
        assert poll(lambda: "hub_unreachable" not in twin.unit.bus.status.get("reasons", []),
                    10), twin.unit.bus.status
    finally:
        hub.stop()
