"""Estimated waits and the day's figures, from the tickets themselves."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appliance.config.site import SiteConfig
    from appliance.core.model import QueueState

def average_service_s(site: SiteConfig, state: QueueState, service: str) -> float:
    """Mean of the day's latest service times (the office's pace changes through the day)."""
    times = state.recent_service_s.get(service)
    if not times:
        return float(site.default_service_time_s)
    return sum(times) / len(times)


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
