"""Read-only ops of the hub: pure functions of the engine's state, answered without a commit.

``ticket.status`` finds one ticket's place in O(log n) (queue/state lists only the first 50
numbers per service); ``counter.status`` is what an officer's counter screen shows: the
counter, its parked tickets, the waiting counts and longest wait of its services, and the
day so far at the counter and for the officer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from appliance.clock import rfc3339
from appliance.core import requests as rq
from appliance.errors import ContractError

if TYPE_CHECKING:
    from appliance.core.engine import QueueEngine
    from appliance.core.model import Ticket


def _day(engine: QueueEngine) -> dict[str, Any]:
    st = engine.state
    return {"day": st.day.isoformat() if st.day else None, "seq": st.seq}


def ticket_status(engine: QueueEngine, req: rq.Req) -> dict[str, Any]:
    assert isinstance(req, rq.TicketStatus)
    t = engine.state.tickets.get(req.number)
    if t is None:
        raise ContractError("not_found", f"number: no ticket {req.number} today")
    out = engine.ticket_view(t)
    if t.counter is not None:
        out["counter"], out["counter_name"] = t.counter, engine.counter_label(t.counter)
    if t.called_at is not None:
        out["called_at"] = rfc3339(t.called_at)
    return {**_day(engine), "ticket": out}


def _figures(tickets: Iterable[Ticket]) -> dict[str, Any]:
    served = no_show = 0
    total_s = 0.0
    for t in tickets:
        if t.state == "finished":
            served += 1
            if t.called_at is not None and t.finished_at is not None:
                total_s += (t.finished_at - t.called_at).total_seconds()
        elif t.state == "no_show":
            no_show += 1
    return {"served": served, "no_show": no_show,
            "avg_service_s": round(total_s / served) if served else None}


def counter_status(engine: QueueEngine, req: rq.Req) -> dict[str, Any]:
    assert isinstance(req, rq.CounterStatus)
    st, cid = engine.state, req.counter
    cfg = engine.site.counter(cid)
    assert cfg is not None  # authorize() checked it
    services: dict[str, Any] = {}
    for sid in cfg.services:
        q = st.queue(sid)
        heads: list[tuple[datetime, str]] = [lane[0] for lane in (q.normal, q.priority) if lane]
        svc = engine.site.service(sid)
        services[sid] = {"name": svc.name if svc else sid, "waiting": len(q),
                         "priority": len(q.priority),
                         "oldest_at": rfc3339(min(heads)[0]) if heads else None}
    parked = sorted(st.parked.get(cid, {}).values(), key=lambda t: (t.issued_at, t.number))
    # the day's tickets once (a few thousand at most): ended at this counter / by the officer
    ended = [t for t in st.tickets.values() if t.state in ("finished", "no_show")]
    today: dict[str, Any] = {"counter": _figures(t for t in ended if t.counter == cid)}
    if req.officer is not None:
        today["officer"] = _figures(t for t in ended if t.officer == req.officer)
    return {**_day(engine), "counter": engine.counter_wire(st.counters[cid]),
            "services": services, "parked": [engine.ticket_view(t) for t in parked],
            "today": today}


QUERIES: dict[str, Callable[[QueueEngine, rq.Req], dict[str, Any]]] = {
    "ticket.status": ticket_status,
    "counter.status": counter_status,
}
