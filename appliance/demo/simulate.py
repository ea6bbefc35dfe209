"""A morning at the office: citizens arrive at random, counters call, serve, mark no-shows.

A discrete-event simulation: each step sets the clock to the next event's time, then
acts through the office's hooks (so through the units' virtual hardware when attached).
"""

from __future__ import annotations

import heapq
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from appliance.clock import ManualClock
from appliance.demo.office import Office

log = logging.getLogger(__name__)

# Mean minutes at the counter, and citizens per hour at the busiest, for each service.
SERVICE_MINUTES = {"A": 4.0, "B": 8.0, "C": 12.0, "D": 6.0}
ARRIVALS_PER_HOUR = {"A": 14.0, "B": 9.0, "C": 6.0, "D": 6.0}
PRIORITY_SHARE = 0.12
NO_SHOW_SHARE = 0.06
RATING_SHARE = 0.7


@dataclass(order=True)
class _Event:
    at: datetime
    order: int
    kind: str = field(compare=False)
    data: dict[str, Any] = field(compare=False, default_factory=dict)


class Morning:
    def __init__(self, office: Office, start: datetime, seed: int = 1) -> None:
        self.office = office
        self.start = start
        self.rng = random.Random(seed)
        self._queue: list[_Event] = []
        self._n = 0
        self.issued = 0
        self.calls = 0

    def _at(self, when: datetime, kind: str, **data: Any) -> None:
        self._n += 1
        heapq.heappush(self._queue, _Event(when, self._n, kind, data))

    def _arrival_gap(self, service: str, now: datetime) -> timedelta:
        # busier mid-morning: the rate rises to its peak around 09:30
        hour = now.astimezone(self.office.site.tz).hour + now.minute / 60
        shape = max(0.35, 1.0 - abs(hour - 9.5) / 4)
        rate = ARRIVALS_PER_HOUR.get(service, 6.0) * shape / 3600
        return timedelta(seconds=self.rng.expovariate(rate))

    def plan(self) -> None:
        for svc in self.office.site.services:
            self._at(self.start + self._arrival_gap(svc.id, self.start), "arrive",
                     service=svc.id)
        for i, c in enumerate(self.office.site.counters):
            self._at(self.start + timedelta(minutes=2 + i), "open", counter=c.id)

    def run(self, minutes: float, *, realtime_speed: float | None = None) -> None:
        end = self.start + timedelta(minutes=minutes)
        self.plan()
        while self._queue and self._queue[0].at <= end:
            ev = heapq.heappop(self._queue)
            self._advance_to(ev.at, realtime_speed)
            getattr(self, f"_on_{ev.kind}")(ev.at, **ev.data)
        self._advance_to(end, realtime_speed)

    def _advance_to(self, when: datetime, speed: float | None) -> None:
        clock = self.office.clock
        if isinstance(clock, ManualClock):
            clock.set(max(when, clock.now()))
            return
        wait = (when - clock.now()).total_seconds() / (speed or 1.0)
        if wait > 0:
            time.sleep(wait)

    # ---- what happens --------------------------------------------------------------
    def _on_arrive(self, now: datetime, service: str) -> None:
        number = self.office.press_ticket(service, self.rng.random() < PRIORITY_SHARE)
        if number:
            self.issued += 1
        self._at(now + self._arrival_gap(service, now), "arrive", service=service)

    def _on_open(self, now: datetime, counter: str) -> None:
        self.office.counter_action(counter, "open", officer=f"CB{int(counter):02d}")
        self._at(now + timedelta(seconds=5), "call", counter=counter)

    def _on_call(self, now: datetime, counter: str) -> None:
        r = self.office.counter_action(counter, "next")
        ticket = (r or {}).get("ticket")
        if not ticket:
            self._at(now + timedelta(seconds=30), "call", counter=counter)  # nobody yet
            return
        self.calls += 1
        if self.rng.random() < NO_SHOW_SHARE:
            self._at(now + timedelta(seconds=60), "recall", counter=counter, stage=1)
            return
        mean = SERVICE_MINUTES.get(ticket["service"], 6.0) * 60
        minutes = max(30.0, self.rng.lognormvariate(0, 0.45) * mean)
        self._at(now + timedelta(seconds=minutes), "finish", counter=counter,
                 number=ticket["number"])

    def _on_recall(self, now: datetime, counter: str, stage: int) -> None:
        self.office.counter_action(counter, "recall")
        self._at(now + timedelta(seconds=60), "no_show", counter=counter)

    def _on_no_show(self, now: datetime, counter: str) -> None:
        self.office.counter_action(counter, "no_show")
        self._at(now + timedelta(seconds=10), "call", counter=counter)

    def _on_finish(self, now: datetime, counter: str, number: str) -> None:
        self.office.counter_action(counter, "finish")
        if self.rng.random() < RATING_SHARE:
            rating = self.rng.choices(["very_satisfied", "satisfied", "unsatisfied"],
                                      weights=[6, 3, 1])[0]
            self.office.counter_action(counter, "rate", number=number, rating=rating)
        self._at(now + timedelta(seconds=self.rng.uniform(10, 40)), "call", counter=counter)
