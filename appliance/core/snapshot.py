"""The retained messages the hub publishes, built from the engine's state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from appliance.clock import rfc3339
from appliance.config.site import SiteConfig
from appliance.core.engine import QueueEngine
from appliance.core.estimates import estimate_wait

# How many waiting numbers per service ``queue/state`` lists (the counts are always whole).
# A board shows counts and the next few numbers; a counter resolves a typed "15" against
# the numbers listed; a phone page shows where a ticket stands among the first ones and
# "more than 50 before you" past them. 50 numbers of 4 services are about 2 KB; the whole
# list of a 20,000-ticket morning was 160 KB, rebuilt and sent on every change.
WAITING_LISTED = 50


def queue_state(engine: QueueEngine, now: datetime,
                listed: int = WAITING_LISTED) -> dict[str, Any]:
    """The retained picture: O(services × listed), whatever the queue's length."""
    st, site = engine.state, engine.site
    services: dict[str, Any] = {}
    for svc in site.services:
        count = st.waiting_count(svc.id)
        last = st.last_issued.get(svc.id)
        services[svc.id] = {
            "name": svc.name,
            "name_en": svc.name_en,
            "waiting": st.waiting_head(svc.id, listed),
            "priority_waiting": st.priority_head(svc.id, listed),
            "last_issued": last.number if last else None,
            "est_wait_s": estimate_wait(site, st, svc.id, count),
            # added in the bounded state: the lists above hold at most ``listed`` numbers
            "waiting_count": count,
            "priority_count": len(st.queue(svc.id).priority),
        }
    counters = {c.id: engine.counter_wire(c) for c in st.counters.values()}
    return {"v": 1, "seq": st.seq, "day": st.day.isoformat() if st.day else None,
            "at": rfc3339(now), "services": services, "counters": counters}


def counter_state(engine: QueueEngine, cid: str) -> dict[str, Any]:
    w = engine.counter_wire(engine.state.counters[cid])
    return {"v": 1, "counter": cid, "seq": engine.state.seq, **{k: v for k, v in w.items()
                                                                if k != "id"}}


def site_info(site: SiteConfig) -> dict[str, Any]:
    return {
        "v": 1,
        "office_name": site.office_name,
        "office_name_en": site.office_name_en,
        "timezone": site.timezone,
        "lookup_url": site.lookup_url,
        "services": [{"id": s.id, "name": s.name, "name_en": s.name_en, "letter": s.letter,
                      "digits": s.digits} for s in site.services],
        "counters": [{"id": c.id, "name": c.label, "services": c.services}
                     for c in site.counters],
        "priority": {"label": site.priority.label, "label_en": site.priority.label_en,
                     "categories": site.priority.categories},
        "hours": {"open": site.hours.open.isoformat("minutes"),
                  "close": site.hours.close.isoformat("minutes"), "days": site.hours.days},
        "offline_bands": {uid: {sid: [b.first, b.last] for sid, b in u.offline_bands.items()}
                          for uid, u in site.units.items() if u.offline_bands},
    }


def site_units(site: SiteConfig, hub_unit: str) -> dict[str, Any]:
    """Every unit the site file expects, the hub included: lets the province tell a unit
    that never started from one that is not supposed to exist."""
    units: dict[str, dict[str, str]] = {
        uid: {"role": u.role} for uid, u in sorted(site.units.items())
    }
    units[hub_unit] = {"role": "hub"}
    return {"v": 1, "units": units}
