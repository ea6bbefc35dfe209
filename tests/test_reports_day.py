"""A scripted office day through the real hub over MQTT, with known times (ManualClock):
the hub ships its records to the store, and the report's figures equal those the test
works out from its own script."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from appliance.clock import VN_TZ, ManualClock
from appliance.config import load_unit_config
from appliance.hub.bootstrap import build_hub
from appliance.store.reports.load import build_report
from appliance.store.reports.periods import period
from tests.records_helpers import RunningStore, outbox_size, wait_for

START = datetime(2026, 11, 30, 7, 45, tzinfo=VN_TZ)
COUNTERS = {"1": ("counter-1", "CB01", "AB"), "2": ("counter-2", "CB02", "BC"),
            "3": ("counter-3", "CB03", "CD")}


class Script:
    """Drives the hub and keeps its own account of what happened, and when."""

    def __init__(self, clock: ManualClock, buses: dict[str, Any]) -> None:
        self.clock, self.buses = clock, buses
        self.t: dict[str, dict[str, Any]] = {}
        self.serving: dict[str, str | None] = dict.fromkeys(COUNTERS)
        self.opened: dict[str, int] = {}
        self.open_s: dict[str, float] = defaultdict(float)
        self.last_finished: dict[str, str] = {}

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def issue(self, service: str) -> None:
        r = self.buses["dispenser-1"].request("hub", {"op": "ticket.issue",
                                                      "service": service}, timeout=5)
        assert r["ok"], r
        self.t[r["ticket"]["number"]] = {"service": service, "issued": self.now(),
                                        "hour": self.clock.now().hour, "state": "waiting",
                                        "first": None, "called": None, "end": None,
                                        "counter": None, "rating": None}

    def _counter(self, c: str, op: str, **kw: Any) -> dict[str, Any]:
        unit, officer, _ = COUNTERS[c]
        r = self.buses[unit].request("hub", {"op": op, "counter": c, "officer": officer, **kw},
                                     timeout=5)
        assert r["ok"], r
        return r

    def _end(self, c: str, state: str) -> None:
        n = self.serving[c]
        if n is not None:
            self.t[n].update(state=state, end=self.now())
            if state == "finished":
                self.last_finished[c] = n
        self.serving[c] = None

    def next(self, c: str) -> None:
        if c not in self.opened:
            self.opened[c] = self.now()
        self._end(c, "finished")
        r = self._counter(c, "counter.next")
        if r["ticket"] is not None:
            n = r["ticket"]["number"]
            rec = self.t[n]
            rec["first"] = rec["first"] or self.now()
            rec.update(called=self.now(), state="serving", counter=c)
            self.serving[c] = n

    def no_show(self, c: str) -> None:
        if self.serving[c] is not None:
            self._counter(c, "counter.no_show")
            self._end(c, "no_show")

    def rate(self, c: str, rating: str) -> None:
        n = self.last_finished.pop(c, None)
        if n is not None:
            self._counter(c, "rating.submit", number=n, rating=rating)
            self.t[n]["rating"] = rating

    def open(self, c: str) -> None:
        self._counter(c, "counter.open")
        self.opened[c] = self.now()

    def close(self, c: str) -> None:
        self._end(c, "finished")
        self._counter(c, "counter.close")
        if c in self.opened:
            self.open_s[c] += self.now() - self.opened.pop(c)


def _p90(xs: list[int]) -> float:
    s = sorted(xs)
    return s[math.ceil(0.9 * len(s)) - 1]


def test_scripted_day_figures(broker, demo_site, make_bus, tmp_path):
    clock = ManualClock(START)
    hub = build_hub(load_unit_config(demo_site / "hub.toml", broker_url=broker.url),
                    clock=clock)
    assert hub.shipper is not None
    hub.shipper.interval_s = 0.2
    running = RunningStore(broker, f"sqlite:///{tmp_path}/store.sqlite3", tmp_path,
                           clock=clock)
    store = running.start()
    hub.start()
    assert hub.bus.wait_connected(10)  # subscribed before the first request
    try:
        buses = {u: make_bus(u, role="counter") for u, _, _ in COUNTERS.values()}
        buses["dispenser-1"] = make_bus("dispenser-1")
        s = Script(clock, buses)
        rng = random.Random(13)
        s.open("3")
        for _step in range(160):
            clock.advance(rng.randint(20, 150))
            roll = rng.random()
            if roll < 0.45:
                s.issue(rng.choice("ABCD"))
            else:
                c = rng.choice("123")
                if roll < 0.85:
                    s.next(c)
                elif roll < 0.9:
                    s.no_show(c)
                else:
                    s.rate(c, rng.choice(["very_satisfied", "satisfied", "satisfied",
                                          "unsatisfied"]))
        for c in ("1", "3"):  # counter 2 is never closed: open until its last ticket
            s.close(c)
        last2 = max((r["end"] for r in s.t.values() if r["counter"] == "2" and r["end"]),
                    default=None)
        if "2" in s.opened and last2 is not None:
            s.open_s["2"] += last2 - s.opened["2"]
        wait_for(lambda: outbox_size(hub.store.path) == 0, what="the day to ship")

        rep = build_report(store.engine, store.calendar, "000.00.06.G04",
                           period("day", "2026-11-30"), now=clock.now(),
                           target_s=10 * 60)
        q = rep.queue
        t = list(s.t.values())
        waits = [r["first"] - r["issued"] for r in t if r["first"]]
        served = [r for r in t if r["state"] == "finished"]
        assert len(t) > 40 and len(served) > 20  # the script did make a day of it
        assert q.total.issued == len(t)
        assert q.total.served == len(served)
        assert q.total.no_show == sum(r["state"] == "no_show" for r in t)
        assert q.total.avg_wait_s == sum(waits) / len(waits)
        assert q.total.p90_wait_s == _p90(waits)
        service = [r["end"] - r["called"] for r in served]
        assert q.total.avg_service_s == sum(service) / len(service)
        within = sum(1 for r in served if r["first"] - r["issued"] <= 600)
        assert q.total.service_level == within / len(served)
        assert q.arrivals_by_hour == {h: sum(r["hour"] == h for r in t) for h in range(24)}
        assert sum(n for _, n in q.wait_buckets) == len(waits)
        # per counter: served, idle = open − (calls to their end)
        by_counter = {f.key: f for f in q.groups["counter"]}
        for c in COUNTERS:
            mine = [r for r in t if r["counter"] == c]
            f = by_counter[c]
            assert f.served == sum(r["state"] == "finished" for r in mine)
            busy = sum(r["end"] - r["called"] for r in mine if r["end"])
            assert f.open_s == s.open_s[c], c
            assert f.idle_s == max(0.0, s.open_s[c] - busy), c
        idle = sum(max(0.0, s.open_s[c] - sum(r["end"] - r["called"] for r in t
                                              if r["counter"] == c and r["end"]))
                   for c in COUNTERS)
        assert q.total.idle_s == idle
        # per officer: each counter had one officer all day
        by_officer = {f.key: f for f in q.groups["officer"]}
        for c, (_, officer, _) in COUNTERS.items():
            mine = [r for r in t if r["counter"] == c]
            f = by_officer[officer]
            assert f.issued == len(mine)
            got = {k: v for k, v in f.ratings.items() if v}
            want: dict[str, int] = defaultdict(int)
            for r in mine:
                if r["rating"]:
                    want[r["rating"]] += 1
            assert got == dict(want), officer
        by_service = {f.key: f for f in q.groups["service"]}
        for svc in "ABCD":
            assert by_service[svc].issued == sum(r["service"] == svc for r in t)
        rated = sum(1 for r in t if r["rating"])
        assert rated > 0 and q.total.rated_share == rated / len(served)
        good = sum(1 for r in t if r["rating"] in ("very_satisfied", "satisfied"))
        assert q.total.satisfied_share == good / rated
        # the other office of the store (none) and another day show nothing
        other = build_report(store.engine, store.calendar, "000.00.99.X01",
                             period("day", "2026-11-30"), now=clock.now())
        assert other.queue.total.issued == 0
        week = build_report(store.engine, store.calendar, None,
                            period("week", "2026-12-02"), now=clock.now())
        assert week.queue.total.issued == len(t)
        assert build_report(store.engine, store.calendar, None, period("day", "2026-12-01"),
                            now=clock.now() + timedelta(days=1)).queue.total.issued == 0
    finally:
        hub.stop()
        running.stop()
