"""Estimated waits and the day's figures, from the tickets themselves."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appliance.config.site import SiteConfig
    from appliance.core.model import QueueState

RECENT = 20  # service times that count: the office's pace changes through the day


def average_service_s(site: SiteConfig, state: QueueState, service: str) -> float:
    times = sorted(
        ((t.finished_at, (t.finished_at - t.called_at).total_seconds())
         for t in state.tickets.values()
         if t.service == service and t.state == "finished" and t.called_at and t.finished_at),
        key=lambda pair: pair[0],
    )[-RECENT:]
    if not times:
        return float(site.default_service_time_s)
    return sum(s for _, s in times) / len(times)


def open_counters(site: SiteConfig, state: QueueState, service: str) -> int:
    return sum(1 for c in site.counters
               if service in c.services and state.counters.get(c.id) is not None
               and state.counters[c.id].open)


def estimate_wait(site: SiteConfig, state: QueueState, service: str, ahead: int) -> int | None:
    """Seconds until a ticket with ``ahead`` people before it is called; None if no counter
    serving it is open (a number would be a guess dressed as a fact)."""
    n = open_counters(site, state, service)
    if n == 0:
        return None
    return int(math.ceil(ahead / n) * average_service_s(site, state, service))
