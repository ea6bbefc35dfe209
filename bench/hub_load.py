"""Load for the hub benchmarks: a queue of any length, in the engine or on the hub's disk.

A queue of 20,000 is built directly (tickets made, indexes rebuilt once) rather than by
20,000 requests, so the set-up cost does not depend on the engine being measured.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.clock import SystemClock
from appliance.config import load_unit_config
from appliance.config.site import SiteConfig
from appliance.core.engine import QueueEngine, business_day
from appliance.core.model import Outcome, QueueState, Ticket
from appliance.core.snapshot import queue_state
from appliance.hub.store import HubStore
from bench.common import pct

SERVICES = ("A", "B", "C", "D")


def hub_site(site_dir: Path) -> SiteConfig:
    site = load_unit_config(site_dir / "hub.toml").hub
    assert site is not None
    return site


def waiting_state(site: SiteConfig, waiting: int, now: datetime) -> QueueState:
    """A day with ``waiting`` tickets waiting, spread over the services, one in 9 priority,
    issued one second apart up to ``now``."""
    st = QueueState(day=business_day(site, now))
    start = now - timedelta(seconds=waiting + 1)
    per: dict[str, int] = {}
    by_id = {s.id: s for s in site.services}
    for i in range(waiting):
        sid = SERVICES[i % len(SERVICES)]
        svc = by_id[sid]
        n = per.get(sid, svc.first)
        per[sid] = n + 1
        t = Ticket(day=st.day, number=svc.format_number(n), service=sid,  # type: ignore[arg-type]
                   priority=i % 9 == 0, issued_at=start + timedelta(seconds=i),
                   unit="dispenser-1")
        st.tickets[t.number] = t
    st.next_number = per
    return st


def seed_hub_disk(site_dir: Path, waiting: int) -> None:
    """Write a day with ``waiting`` tickets into the hub's database, as the hub would."""
    site = hub_site(site_dir)
    now = SystemClock(site.tz).now()
    st = waiting_state(site, waiting, now)
    engine = QueueEngine(site, st)
    data = site_dir / "data" / "hub"
    if data.exists():
        for f in data.iterdir():
            f.unlink()
    store = HubStore(data / "hub.sqlite3")
    store.commit(engine.state, [Outcome(tickets=list(st.tickets.values()),
                                        counters=list(st.counters.values()))], [])
    store.close()


def engine_sweep(site: SiteConfig, level: int, samples: int) -> dict[str, list[float]]:
    """CPU seconds per engine.handle (issue, then counter.next) and per queue/state build,
    with ``level`` tickets waiting: the engine alone, no bus, no disk. The thread's own CPU
    time, not the wall clock: on a shared machine the wall clock's p99 is the scheduler's."""
    now = SystemClock(site.tz).now().replace(hour=9, minute=0)
    engine = QueueEngine(site, waiting_state(site, level, now))
    out: dict[str, list[float]] = {"issue": [], "next": [], "state": []}
    ids = iter(range(10**9))

    def timed(unit: str, body: dict[str, Any], at: datetime) -> float:
        t0 = time.thread_time()
        o = engine.handle(unit, {"v": 1, "id": f"b{next(ids)}", **body}, at)
        dt = time.thread_time() - t0
        if o.error:
            raise SystemExit(f"engine refused {body}: {o.error}")
        return dt

    for i in range(samples):
        at = now + timedelta(milliseconds=i)
        out["issue"].append(timed("dispenser-1", {"op": "ticket.issue",
                                                  "service": SERVICES[i % 4]}, at))
    for i in range(samples):
        c = str(1 + i % 3)
        at = now + timedelta(seconds=1, milliseconds=i)
        out["next"].append(timed(f"counter-{c}", {"op": "counter.next", "counter": c}, at))
    for i in range(samples):  # as in the hub: one change (an issue), then the picture
        timed("dispenser-1", {"op": "ticket.issue", "service": SERVICES[i % 4]},
              now + timedelta(seconds=2, milliseconds=i))
        t0 = time.thread_time()
        queue_state(engine, now)
        out["state"].append(time.thread_time() - t0)
    return out


def us(v: float) -> str:
    return f"{v * 1e6:8.1f} µs"


def print_sweep_row(label: str, level: int, samples: list[float],
                    base: list[float] | None) -> float:
    p50, p99 = pct(samples, 50), pct(samples, 99)
    ratio = f"   p99 / p99 at 0: {p99 / pct(base, 99):5.2f}" if base else ""
    print(f"{label:<10} {level:>6} waiting   p50 {us(p50)}  p99 {us(p99)}{ratio}")
    return p99
