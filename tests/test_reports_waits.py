"""The waits' figures of the reports, read from the day summaries' waits (``queue_sql``:
per service, counter and officer the tickets called, average and P90 wait, those served
within the target; the total's waits per second and buckets), equal those computed from
the raw tickets by the definitions of docs/reports.md, for random tickets (ties, waits
past the last bucket, counters and officers unnamed), periods, offices and targets, on
both databases."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from appliance.clock import VN_TZ
from appliance.contract import RecordsPut
from appliance.store.core import Store
from appliance.store.reports.queue import (
    GROUPS,
    QueueReport,
    counted_buckets,
    counted_percentile,
)
from appliance.store.reports.queue_sql import load_queue

pytest_plugins = ["tests.pg"]
DAYS = [date(2026, 11, 23) + timedelta(days=i) for i in range(6)]
OFFICES = [("demo", None), ("other-site", "000.00.77.X77")]  # None: the store's own office
STATES = ["finished"] * 6 + ["no_show", "expired", "voided", "called", "serving", "waiting"]


def _ticket(rng: random.Random, day: date, i: int, spread: int) -> dict[str, Any]:
    issued = datetime.combine(day, time(7, 30), VN_TZ) + timedelta(seconds=rng.randrange(30_000))
    state = rng.choice(STATES)
    called = None
    if state not in ("expired", "waiting", "voided") or rng.random() < 0.1:
        # ties (a narrow spread) and long waits past the last bucket (a wide one)
        called = issued + timedelta(seconds=rng.randrange(spread))
    done = called + timedelta(seconds=rng.randrange(60, 900)) \
        if called and state == "finished" else None
    counter = rng.choice(["1", "2", "3", None]) if called else None
    return {"rev": 1, "day": day.isoformat(), "number": f"A{i:04d}",
            "service": rng.choice("ABCD"), "priority": False, "state": state,
            "origin": "hub", "unit": "dispenser-1", "issued_at": issued.isoformat(),
            "first_called_at": called.isoformat() if called else None,
            "called_at": called.isoformat() if called else None,
            "finished_at": done.isoformat() if done else None, "counter": counter,
            "officer": rng.choice(["CB1", "CB2", "", None]) if counter else None,
            "calls": 1 if called else 0, "rating": None}


def _expected(tickets: list[dict[str, Any]], target_s: float) -> dict[str, Any]:
    """What the definitions give, counted in Python from the tickets."""
    waits: dict[str, dict[Any, list[int]]] = {g: defaultdict(list) for g in GROUPS}
    within: dict[str, Counter[Any]] = {g: Counter() for g in GROUPS}
    every: Counter[int] = Counter()
    for t in tickets:
        if t["state"] == "voided" or not t["first_called_at"]:
            continue
        w = int((datetime.fromisoformat(t["first_called_at"])
                 - datetime.fromisoformat(t["issued_at"])).total_seconds())
        every[w] += 1
        for g in GROUPS:
            key = t[g] or ""
            if g != "service" and not key:
                continue
            waits[g][key].append(w)
            within[g][key] += t["state"] == "finished" and w <= target_s
    groups = {g: {k: (len(v), counted_percentile(Counter(v), 0.9), within[g][k],
                      sum(v) / len(v)) for k, v in waits[g].items()} for g in GROUPS}
    return {"groups": groups, "counts": dict(every), "buckets": counted_buckets(every),
            "p90": counted_percentile(every, 0.9), "within": sum(within["service"].values())}


def _got(q: QueueReport) -> dict[str, Any]:
    groups = {g: {f.key: (f.wait_counts.total(), f.p90_wait_s, f.within, f.avg_wait_s)
                  for f in fs if f.wait_counts} for g, fs in q.groups.items()}
    return {"groups": groups, "counts": dict(q.total.wait_counts), "buckets": q.wait_buckets,
            "p90": q.total.p90_wait_s, "within": q.total.within}


def test_summary_waits_equal_raw_tickets_on_random_data(store: Store) -> None:
    rng = random.Random(13)
    mine = store.settings.agency_code
    by_office: dict[str, list[dict[str, Any]]] = {}
    for site, office in OFFICES:
        code = office or mine
        tickets = [_ticket(rng, day, i, rng.choice([40, 1_200, 5_000]))
                   for day in DAYS for i in range(rng.randrange(30, 90))]
        by_office[code] = tickets
        for n in range(0, len(tickets), 100):
            store.records.put(site, code, RecordsPut.model_validate(
                {"id": f"t{n}", "op": "records.put", "tickets": tickets[n:n + 100],
                 "counter_events": []}))
    checked = 0
    for _ in range(8):
        a, b = sorted(rng.sample(range(len(DAYS)), 2))
        first, last = DAYS[a].isoformat(), DAYS[b].isoformat()
        target = rng.choice([60.0, 300.0, 900.0, 1_234.5])
        for office in [mine, OFFICES[1][1], None]:
            pool = [t for code, ts in by_office.items() if office in (None, code) for t in ts]
            chosen = [t for t in pool if first <= t["day"] <= last]
            q = load_queue(store.engine, office, first, last, target_s=target)
            want = _expected(chosen, target)
            assert _got(q) == want, (office, first, last, target)
            checked += sum(len(v) for v in want["groups"].values())
    assert checked > 100  # the groups compared, not vacuous
