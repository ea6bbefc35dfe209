"""Applying what a counter did by hand while the hub was away (``counter.sync``).

Best effort and in order: the hub's own state may have moved on meanwhile, so an action
that no longer fits (a ticket another counter already served) is skipped and reported.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from appliance.clock import parse_rfc3339
from appliance.core import requests as rq
from appliance.core.model import Outcome, Ticket
from appliance.errors import ContractError

if TYPE_CHECKING:
    from appliance.core.engine import QueueEngine


def apply_sync(engine: QueueEngine, req: rq.CounterSync, now: datetime, out: Outcome) -> None:
    st = engine.state
    c = st.counters[req.counter]
    applied, skipped = 0, []
    for ev in req.events:
        try:
            at = parse_rfc3339(ev.at)
        except ValueError as exc:
            raise ContractError("bad_request", f"events.at: {exc}") from None
        at = min(at, now)  # a unit clock ahead of the hub must not write the future
        if ev.action == "call":
            t = st.tickets.get(ev.number)
            if t is None:
                svc = next((s for s in engine.site.services
                            if ev.number.startswith(s.letter)
                            and ev.number[len(s.letter):].isdigit()), None)
                if svc is None or st.day is None:
                    skipped.append(f"{ev.number}: no such service")
                    continue
                t = Ticket(day=st.day, number=ev.number, service=svc.id, priority=False,
                           issued_at=at, unit=req.counter, origin="manual")
                st.tickets[t.number] = t
            if t.state not in ("waiting", "parked"):
                skipped.append(f"{ev.number}: already {t.state}")
                continue
            engine._ensure_open(out, c, req.officer, at)
            engine._finish_current(out, c, at)
            engine._start_serving(out, c, t, at, replayed=True)
            applied += 1
        else:
            t = st.tickets.get(ev.number)
            if t is None or c.serving != ev.number:
                skipped.append(f"{ev.number}: not being served here")
                continue
            engine._end(out, c, t, "finished" if ev.action == "finish" else "no_show", at)
            applied += 1
    out.reply = {"applied": applied, "skipped": skipped, "counter": engine.counter_wire(c)}
