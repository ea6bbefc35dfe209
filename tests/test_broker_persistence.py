"""Broker persistence is off (shipped config and test broker alike): retained state comes
back from its owner, the hub, which republishes it on every connect — so no unit is ever
shown an old queue after a broker is killed, and a stale retained state left on a broker
is replaced as soon as the hub connects."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from appliance.broker import MosquittoBroker
from appliance.bus import Bus, Message
from appliance.clock import OffsetClock
from appliance.config import load_unit_config
from appliance.hub.bootstrap import build_hub
from tests.waiting import poll


def _issue(bus: Bus, n: int) -> None:
    for _ in range(n):
        assert bus.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)["ok"]


def test_stale_retained_state_is_replaced_within_1_s_of_the_hub_connecting(
        broker: MosquittoBroker, demo_site: Path, clock: OffsetClock,
        make_bus: Callable[..., Bus]) -> None:
    conf = load_unit_config(demo_site / "hub.toml", broker_url=broker.url)
    hub = build_hub(conf, clock=clock)
    hub.start()
    assert hub.bus.wait_connected(10)
    disp = make_bus("dispenser-1")
    _issue(disp, 11)
    hub.stop()
    seq = hub.service.engine.state.seq
    # an old state, as a broker with persistence brings back after a kill -9
    stale = make_bus("hub-of-old", role="hub")
    stale.publish(stale.topics.queue_state, {"v": 1, "seq": 6, "day": "2026-11-30",
                                             "at": "2026-11-30T08:00:00+07:00",
                                             "services": {}, "counters": {}}, retain=True)
    seen: list[tuple[float, int]] = []
    watcher = make_bus("board-1", role="board")
    watcher.subscribe(watcher.topics.queue_state,
                      lambda m: seen.append((time.monotonic(), json.loads(m.payload)["seq"])))
    assert poll(lambda: [s for _, s in seen] == [6], 5), seen
    connected_at: list[float] = []
    hub = build_hub(conf, clock=clock)
    hub.bus.on_connection(lambda up: connected_at.append(time.monotonic()) if up else None)
    hub.start()
    try:
        assert poll(lambda: any(s == seq for _, s in seen), 5), seen
        fresh_at = next(t for t, s in seen if s == seq)
        assert fresh_at - connected_at[0] < 1.0, "the hub republishes at once on connect"
        # and a unit arriving now is given the hub's state, not the old one
        late: list[int] = []
        got = threading.Event()

        def on(m: Message) -> None:
            late.append(json.loads(m.payload)["seq"])
            got.set()

        make_bus("board-2", role="board").subscribe(watcher.topics.queue_state, on)
        assert got.wait(5) and late == [seq]
    finally:
        hub.stop()


def test_a_killed_broker_never_brings_back_an_old_queue(broker: MosquittoBroker,
                                                        demo_site: Path, clock: OffsetClock,
                                                        make_bus: Callable[..., Bus]) -> None:
    conf = load_unit_config(demo_site / "hub.toml", broker_url=broker.url)
    hub = build_hub(conf, clock=clock)
    hub.start()
    try:
        assert hub.bus.wait_connected(10)
        disp = make_bus("dispenser-1")
        _issue(disp, 3)
        broker.kill()
        seq_now = hub.service.engine.state.seq
        broker.start()
        states: list[int] = []
        board = make_bus("board-1", role="board")
        board.subscribe(board.topics.queue_state,
                        lambda m: states.append(json.loads(m.payload)["seq"]))
        assert poll(lambda: bool(states), 20), "the hub never republished its state"
        # whatever a unit saw after the restart is the hub's current state, never older
        assert all(s == seq_now for s in states), states
    finally:
        hub.stop()
