"""The day summaries the reports read (appliance/store/queue_summary.py) follow the
tickets as records.put brings them: a ticket that changes state, a late old version, a
duplicate and a voided ticket leave the report's figures equal to those the test counts
from the tickets' final states, on both databases."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from appliance.clock import VN_TZ
from appliance.contract import RecordsPut
from appliance.store.core import Store
from appliance.store.reports.queue_sql import load_queue
from appliance.store.schema import queue_day_summary

pytest_plugins = ["tests.pg"]
DAY = datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ)


def ticket(i: int, rev: int, state: str, wait_min: int | None) -> dict[str, Any]:
    issued = DAY + timedelta(minutes=7 * i)
    called = issued + timedelta(minutes=wait_min) if wait_min is not None else None
    done = called + timedelta(minutes=4) if called and state == "finished" else None
    return {"rev": rev, "day": "2026-11-30", "number": f"A{i:03d}", "service": "AB"[i % 2],
            "priority": False, "state": state, "origin": "hub", "unit": "dispenser-1",
            "issued_at": issued.isoformat(),
            "first_called_at": called.isoformat() if called else None,
            "called_at": called.isoformat() if called else None,
            "finished_at": done.isoformat() if done else None,
            "counter": str(1 + i % 3) if called else None,
            "officer": f"CB{1 + i % 3}" if called else None, "calls": 1 if called else 0,
            "rating": "satisfied" if state == "finished" else None}


def put(store: Store, tickets: list[dict[str, Any]]) -> None:
    store.records.put("demo", store.settings.agency_code, RecordsPut.model_validate(
        {"id": "t", "op": "records.put", "tickets": tickets, "counter_events": []}))


def test_summary_follows_changes_duplicates_and_old_versions(store: Store) -> None:
    final = {i: ticket(i, 3, "finished", 2 * i + 1) for i in range(20)}
    final[5] = ticket(5, 3, "no_show", 9)
    final[6] = ticket(6, 3, "expired", None)
    final[7] = ticket(7, 3, "voided", None)
    put(store, [ticket(i, 1, "waiting", None) for i in range(20)])  # every one waiting
    put(store, [ticket(i, 2, "called", 2 * i + 1) for i in range(0, 20, 2)])
    put(store, list(final.values()))
    put(store, [ticket(i, 2, "called", 50) for i in range(20)])  # late old versions
    put(store, list(final.values())[:5])  # a duplicate delivery

    q = load_queue(store.engine, store.settings.agency_code, "2026-11-30", "2026-11-30",
                   target_s=15 * 60)
    live = [t for t in final.values() if t["state"] != "voided"]
    wait_min = {i: 2 * i + 1 for i in final} | {5: 9}
    waits = sorted(wait_min[i] for i, t in final.items()
                   if t["state"] not in ("voided", "expired"))
    assert q.total.issued == len(live) == 19
    assert q.total.served == sum(t["state"] == "finished" for t in live) == 17
    assert (q.total.no_show, q.total.expired) == (1, 1)
    assert [w / 60 for w in q.total.waits_s] == waits
    assert q.total.p90_wait_s == 60 * waits[math.ceil(0.9 * len(waits)) - 1]
    served_within = sum(1 for i, t in final.items()
                        if t["state"] == "finished" and wait_min[i] <= 15)
    assert q.total.within == served_within == 5  # tickets 0–4 (5–7 not served)
    by_service = {f.key: f.issued for f in q.groups["service"]}
    assert by_service == {"A": 10, "B": 9}
    with store.engine.connect() as conn:  # one row per (service, counter, officer)
        rows = conn.execute(select(func.count()).select_from(queue_day_summary)).scalar()
    assert rows == len({(t["service"], t["counter"]) for t in live})
