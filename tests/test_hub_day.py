"""The office day turns over at the configured hour, through the real hub and broker."""

from __future__ import annotations

import threading
from datetime import datetime

from appliance.bus import Message
from appliance.clock import VN_TZ, ManualClock
from appliance.config import load_unit_config
from appliance.contract import decode
from appliance.hub.bootstrap import build_hub


def test_day_reset_after_midnight_at_reset_hour(broker, demo_site, make_bus):
    clock = ManualClock(datetime(2026, 11, 30, 16, 55, tzinfo=VN_TZ))
    hub = build_hub(load_unit_config(demo_site / "hub.toml", broker_url=broker.url), clock=clock)
    hub.start()
    try:
        watch = make_bus("board-1", role="board")
        events: list[dict] = []
        got_reset = threading.Event()

        def on(msg: Message) -> None:
            body = decode(msg.payload)
            events.append(body)
            if body["type"] == "day.reset":
                got_reset.set()

        watch.subscribe(watch.topics.queue_events, on)
        disp = make_bus("dispenser-1")
        ctr = make_bus("counter-1", role="counter")
        assert disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)["ok"]
        assert disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)["ok"]
        ctr.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5)

        clock.set(datetime(2026, 12, 1, 0, 10, tzinfo=VN_TZ))  # past midnight, before 04:00
        r = ctr.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5)
        assert r["ticket"]["number"] == "A002", "the day must not turn at midnight"
        assert not got_reset.is_set()

        clock.set(datetime(2026, 12, 1, 7, 45, tzinfo=VN_TZ))
        r = disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)
        assert r["ticket"]["number"] == "A001", "numbers restart on a new day"
        assert got_reset.wait(5)
        reset = next(e for e in events if e["type"] == "day.reset")
        assert (reset["day"], reset["previous"]) == ("2026-12-01", "2026-11-30")
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        # yesterday's unserved ticket ended as expired in the hub's records
        rows = dict(hub.store.db.execute(
            "SELECT number, state FROM tickets WHERE day = '2026-11-30'").fetchall())
        assert rows == {"A001": "finished", "A002": "expired"}
        r = ctr.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5)
        assert r["ticket"]["number"] == "A001" and r["ticket"]["issued_at"].startswith("2026-12-01")
    finally:
        hub.stop()
