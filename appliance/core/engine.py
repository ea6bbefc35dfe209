"""The hub's queue engine: a pure function of (state, request, now) → outcome.

No I/O here. The hub persists each outcome before it replies or publishes, so what the
engine did is only real once it is on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from appliance.clock import parse_rfc3339, rfc3339
from appliance.config.site import WEEKDAYS, SiteConfig
from appliance.core import requests as rq
from appliance.core.estimates import estimate_wait
from appliance.core.model import OPEN_STATES, Counter, Outcome, QueueState, Ticket
from appliance.core.queries import QUERIES
from appliance.core.reconcile import apply_sync
from appliance.errors import ContractError


def business_day(site: SiteConfig, now: datetime) -> date:
    """The office day a moment belongs to: days turn over at ``reset_at`` local time."""
    local = now.astimezone(site.tz)
    shift = timedelta(hours=site.reset_at.hour, minutes=site.reset_at.minute)
    return (local - shift).date()


class QueueEngine:
    def __init__(self, site: SiteConfig, state: QueueState | None = None) -> None:
        self.site = site
        self.state = state or QueueState()
        for c in site.counters:
            self.state.counters.setdefault(c.id, Counter(id=c.id))
        self.state.rebuild_caches()
        self._names = {s.id: s.name for s in site.services}
        self._by_letter = {s.letter: s for s in site.services}
        self._ops: dict[str, Callable[[str, Any, datetime, Outcome], None]] = {
            "ticket.issue": self._issue,
            "ticket.void": self._void,
            "ticket.import": self._import,
            "counter.next": self._next,
            "counter.recall": self._recall,
            "counter.no_show": self._no_show,
            "counter.finish": self._finish,
            "counter.transfer": self._transfer,
            "counter.park": self._park,
            "counter.resume": self._resume,
            "counter.call": self._call,
            "counter.open": self._open,
            "counter.close": self._close,
            "counter.sync": self._sync,
            "rating.submit": self._rate,
        }

    # ---- entry points ----------------------------------------------------------------
    def handle(self, unit: str, body: dict[str, Any], now: datetime) -> Outcome:
        out = self.tick(now)
        try:
            req = self.authorize(unit, rq.parse_request(body), self._ops)
            self._ops[req.op](unit, req, now, out)
        except ContractError as exc:
            out.error = (exc.code, exc.message)
            out.reply = {}
        return out

    def authorize(self, unit: str, req: rq.Req, ops: Mapping[str, object]) -> rq.Req:
        """``req`` if ``unit`` may send it (its role's ops, its own counters, and for the
        store acting from an officer's screen a listed officer); ContractError otherwise."""
        entry = self.site.units.get(unit)
        if entry is None:
            raise ContractError("unknown_unit", f"unit {unit!r} is not in the site file")
        if req.op not in entry.ops() or req.op not in ops:
            raise ContractError("forbidden", f"{unit} may not {req.op}")
        counter = getattr(req, "counter", None)
        if counter is not None:
            cfg = self.site.counter(counter)
            if cfg is None:
                raise ContractError("unknown_counter", f"counter: no counter {counter!r}")
            if counter not in entry.counters:
                raise ContractError("forbidden", f"{unit} does not drive counter {counter}")
            if entry.role == "store" and req.op not in QUERIES \
                    and getattr(req, "officer", None) not in cfg.officers:
                raise ContractError("forbidden", f"{unit} may act for counter {counter} only "
                                                 "with the code of an officer listed for it")
        return req

    # the views a read-only query builds on (appliance.core.queries)
    def ticket_view(self, t: Ticket) -> dict[str, Any]:
        return self._ticket_reply(t)

    def counter_label(self, cid: str) -> str:
        return self._counter_name(cid)

    def query(self, unit: str, body: dict[str, Any]) -> dict[str, Any]:
        """A read-only op (appliance.core.queries): changes nothing, so the hub answers it
        without a commit and remembers nothing."""
        req = self.authorize(unit, rq.parse_request(body), QUERIES)
        return QUERIES[req.op](self, req)

    def tick(self, now: datetime) -> Outcome:
        """Turn the day over if its time has come; called before every request and by a timer."""
        out = Outcome()
        today = business_day(self.site, now)
        st = self.state
        if st.day == today:
            return out
        if st.day is not None:
            for t in st.tickets.values():
                if t.state in OPEN_STATES:
                    t.state = "expired"
                    out.tickets.append(t)
            for c in st.counters.values():
                c.serving, c.since, c.open, c.officer = None, None, False, None
                c.priority_streak = 0
                out.counters.append(c)
            self._event(out, "day.reset", now, day=today.isoformat(), previous=st.day.isoformat())
        st.day = today
        st.tickets = {}
        st.next_number = {}
        st.clear_indexes()
        return out

    # ---- helpers ---------------------------------------------------------------------
    def _event(self, out: Outcome, kind: str, now: datetime, **fields: Any) -> None:
        self.state.seq += 1
        out.events.append({"v": 1, "seq": self.state.seq, "type": kind, "at": rfc3339(now),
                           **fields})

    def _ticket_event(self, out: Outcome, kind: str, t: Ticket, now: datetime,
                      **fields: Any) -> None:
        extra: dict[str, Any] = {}
        if t.counter is not None:
            extra = {"counter": t.counter, "counter_name": self._counter_name(t.counter)}
        self._event(out, kind, now, ticket=t.wire(self._names), **extra, **fields)

    def _counter_name(self, cid: str) -> str:
        c = self.site.counter(cid)
        return c.label if c else cid

    def _save(self, out: Outcome, *items: Ticket | Counter) -> None:
        for item in items:
            if isinstance(item, Ticket):
                self.state.track(item)
                out.tickets.append(item)
            else:
                out.counters.append(item)

    def _counter_reply(self, out: Outcome, c: Counter, ticket: Ticket | None) -> None:
        out.reply = {"ticket": self._ticket_reply(ticket) if ticket else None,
                     "counter": self.counter_wire(c)}

    def counter_wire(self, c: Counter) -> dict[str, Any]:
        t = self.state.tickets.get(c.serving) if c.serving else None
        return {"id": c.id, "name": self._counter_name(c.id), "open": c.open,
                "serving": c.serving, "service": t.service if t else None,
                "since": rfc3339(c.since) if c.since else None, "officer": c.officer}

    def _ticket_reply(self, t: Ticket) -> dict[str, Any]:
        out = t.wire(self._names)
        if t.state == "waiting":
            ahead = self._ahead(t)
            out["ahead"] = ahead
            out["est_wait_s"] = estimate_wait(self.site, self.state, t.service, ahead)
        out["counters"] = [c.id for c in self.site.counters if t.service in c.services]
        return out

    def _service(self, sid: str) -> Any:
        svc = self.site.service(sid)
        if svc is None:
            raise ContractError("unknown_service", f"service: no service {sid!r}")
        return svc

    def _open_hours(self, now: datetime) -> bool:
        h = self.site.hours
        local = now.astimezone(self.site.tz)
        return WEEKDAYS[local.weekday()] in h.days and h.open <= local.time() < h.close

    def _serving(self, cid: str) -> tuple[Counter, Ticket]:
        c = self.state.counters[cid]
        t = self.state.tickets.get(c.serving) if c.serving else None
        if t is None:
            raise ContractError("nothing_serving", f"counter {cid} is not serving anyone")
        return c, t

    def _end(self, out: Outcome, c: Counter, t: Ticket, state: str, now: datetime) -> None:
        t.state, t.finished_at = state, now
        c.serving, c.since = None, None
        self.state.note_service_time(t)
        kind = "ticket.finished" if state == "finished" else "ticket.no_show"
        self._ticket_event(out, kind, t, now)
        self._save(out, t, c)

    def _finish_current(self, out: Outcome, c: Counter, now: datetime) -> None:
        t = self.state.tickets.get(c.serving) if c.serving else None
        if t is not None:
            self._end(out, c, t, "finished", now)

    def _ensure_open(self, out: Outcome, c: Counter, officer: str | None, now: datetime) -> None:
        # Pressing "next" is proof the officer is there: a closed counter opens itself.
        if officer is not None and officer != c.officer:
            c.officer = officer
            self._save(out, c)
        if not c.open:
            c.open = True
            self._event(out, "counter.opened", now, counter=c.id,
                        counter_name=self._counter_name(c.id), officer=c.officer)
            self._save(out, c)

    def _start_serving(self, out: Outcome, c: Counter, t: Ticket, now: datetime,
                       kind: str = "ticket.called", **fields: Any) -> None:
        t.state, t.counter, t.called_at, t.officer = "serving", c.id, now, c.officer
        t.first_called_at = t.first_called_at or now
        t.calls += 1
        c.serving, c.since = t.number, now
        self._ticket_event(out, kind, t, now, **fields)
        self._save(out, t, c)

    # ---- ticket ops ------------------------------------------------------------------
    def _issue(self, unit: str, req: rq.TicketIssue, now: datetime, out: Outcome) -> None:
        svc = self._service(req.service)
        if self.site.hours.enforce and not self._open_hours(now):
            raise ContractError("office_closed", "outside opening hours")
        n = self.state.next_number.get(svc.id, svc.first)
        issued = n - svc.first  # hub numbers are handed out in order, never reused
        if n > svc.last or (svc.daily_cap is not None and issued >= svc.daily_cap):
            raise ContractError("service_full", f"service {svc.id} has no numbers left today")
        self.state.next_number[svc.id] = n + 1
        assert self.state.day is not None
        t = Ticket(day=self.state.day, number=svc.format_number(n), service=svc.id,
                   priority=req.priority, issued_at=now, unit=unit, category=req.category)
        self.state.tickets[t.number] = t
        self._ticket_event(out, "ticket.issued", t, now)
        self._save(out, t)
        out.reply = {"ticket": self._ticket_reply(t)}

    def _void(self, unit: str, req: rq.TicketVoid, now: datetime, out: Outcome) -> None:
        t = self.state.tickets.get(req.number)
        if t is None or t.unit != unit:
            raise ContractError("not_found", f"{unit} issued no ticket {req.number} today")
        if t.state != "waiting":
            raise ContractError("conflict", f"{req.number} is {t.state}, not waiting")
        t.state, t.finished_at = "voided", now
        self._ticket_event(out, "ticket.voided", t, now, reason=req.reason)
        self._save(out, t)
        out.reply = {"ticket": t.wire(self._names)}

    def _import(self, unit: str, req: rq.TicketImport, now: datetime, out: Outcome) -> None:
        svc = self._service(req.service)
        band = self.site.units[unit].offline_bands.get(svc.id)
        digits = req.number[len(svc.letter):]
        if not req.number.startswith(svc.letter) or not digits.isdigit():
            raise ContractError("bad_request", f"number: {req.number} is not of service {svc.id}")
        if band is None or not band.first <= int(digits) <= band.last:
            raise ContractError("forbidden", f"{req.number} is outside {unit}'s offline band")
        try:
            issued_at = parse_rfc3339(req.issued_at)
        except ValueError as exc:
            raise ContractError("bad_request", f"issued_at: {exc}") from None
        day = business_day(self.site, issued_at)
        if self.state.day is None or day > self.state.day:
            raise ContractError("bad_request", "issued_at: in a day that has not begun")
        existing = self.state.tickets.get(req.number)
        if day == self.state.day and existing is not None:
            if existing.unit == unit and existing.issued_at == issued_at:
                out.reply = {"ticket": self._ticket_reply(existing)}
                return
            raise ContractError("conflict", f"{req.number} already exists today")
        t = Ticket(day=day, number=req.number, service=svc.id, priority=req.priority,
                   issued_at=issued_at, unit=unit, origin="offline")
        if day < self.state.day:
            t.state = "expired"  # its day is over: kept for the record, never called
        else:
            self.state.tickets[t.number] = t
            self._ticket_event(out, "ticket.issued", t, now, offline=True)
        self._save(out, t)
        out.reply = {"ticket": self._ticket_reply(t) if t.state == "waiting"
                     else t.wire(self._names)}

    # ---- counter ops -----------------------------------------------------------------
    def _next(self, unit: str, req: rq.CounterOp, now: datetime, out: Outcome) -> None:
        c = self.state.counters[req.counter]
        self._ensure_open(out, c, req.officer, now)
        self._finish_current(out, c, now)
        t = self._pick(c)
        if t is not None:
            self._start_serving(out, c, t, now)
        self._counter_reply(out, c, t)

    # ---- ordering: each an O(log n) look at the indexes (tests hold the scans they replace)
    def _ahead(self, t: Ticket) -> int:
        return self.state.ahead(t)

    def _parked_here(self, cid: str) -> list[Ticket]:
        """The tickets parked at a counter, oldest first (a handful, not the day)."""
        return sorted(self.state.parked.get(cid, {}).values(),
                      key=lambda t: (t.issued_at, t.number))

    def _pick(self, c: Counter) -> Ticket | None:
        """Longest-waiting first; priority first but at most max_in_row while others wait."""
        cfg = self.site.counter(c.id)
        assert cfg is not None
        normal = self.state.first(cfg.services, priority=False)
        prio = self.state.first(cfg.services, priority=True)
        limit = self.site.priority.max_in_row
        if prio is not None and (normal is None or c.priority_streak < limit):
            c.priority_streak = c.priority_streak + 1 if normal is not None else 0
            return prio
        c.priority_streak = 0
        return normal

    def _recall(self, unit: str, req: rq.CounterOp, now: datetime, out: Outcome) -> None:
        c, t = self._serving(req.counter)
        t.calls += 1
        self._ticket_event(out, "ticket.recalled", t, now)
        self._save(out, t)
        self._counter_reply(out, c, t)

    def _no_show(self, unit: str, req: rq.CounterOp, now: datetime, out: Outcome) -> None:
        c, t = self._serving(req.counter)
        self._end(out, c, t, "no_show", now)
        self._counter_reply(out, c, t)

    def _finish(self, unit: str, req: rq.CounterOp, now: datetime, out: Outcome) -> None:
        c, t = self._serving(req.counter)
        self._end(out, c, t, "finished", now)
        self._counter_reply(out, c, t)

    def _transfer(self, unit: str, req: rq.CounterTransfer, now: datetime, out: Outcome) -> None:
        svc = self._service(req.to_service)
        c, t = self._serving(req.counter)
        old = t.service
        t.service, t.state, t.counter, t.called_at = svc.id, "waiting", None, None
        c.serving, c.since = None, None
        self._ticket_event(out, "ticket.transferred", t, now, counter=c.id,
                           counter_name=self._counter_name(c.id), from_service=old,
                           to_service=svc.id)
        self._save(out, t, c)
        self._counter_reply(out, c, t)

    def _park(self, unit: str, req: rq.CounterOp, now: datetime, out: Outcome) -> None:
        c, t = self._serving(req.counter)
        t.state = "parked"
        c.serving, c.since = None, None
        self._ticket_event(out, "ticket.parked", t, now)
        self._save(out, t, c)
        self._counter_reply(out, c, t)

    def _resume(self, unit: str, req: rq.CounterResume, now: datetime, out: Outcome) -> None:
        c = self.state.counters[req.counter]
        if c.serving:
            raise ContractError("busy", f"counter {c.id} is serving {c.serving}")
        parked = self._parked_here(c.id)
        if req.number is not None:
            parked = [t for t in parked if t.number == req.number]
        if not parked:
            raise ContractError("not_found", "no parked ticket to resume at this counter")
        self._ensure_open(out, c, req.officer, now)
        self._start_serving(out, c, parked[0], now, kind="ticket.resumed")
        self._counter_reply(out, c, parked[0])

    def _call(self, unit: str, req: rq.CounterNumber, now: datetime, out: Outcome) -> None:
        c = self.state.counters[req.counter]
        t = self.state.tickets.get(req.number)
        if t is None:
            raise ContractError("not_found", f"no ticket {req.number} today")
        if t.state not in ("waiting", "parked"):
            raise ContractError("conflict", f"{req.number} is {t.state}")
        cfg = self.site.counter(c.id)
        assert cfg is not None
        if t.service not in cfg.services:
            raise ContractError("wrong_service", f"counter {c.id} does not serve {t.service}")
        self._ensure_open(out, c, req.officer, now)
        self._finish_current(out, c, now)
        self._start_serving(out, c, t, now)
        self._counter_reply(out, c, t)

    def _open(self, unit: str, req: rq.CounterOp, now: datetime, out: Outcome) -> None:
        c = self.state.counters[req.counter]
        self._ensure_open(out, c, req.officer, now)
        self._counter_reply(out, c, None)

    def _close(self, unit: str, req: rq.CounterOp, now: datetime, out: Outcome) -> None:
        c = self.state.counters[req.counter]
        self._finish_current(out, c, now)
        if c.open:
            c.open, c.priority_streak = False, 0
            self._event(out, "counter.closed", now, counter=c.id,
                        counter_name=self._counter_name(c.id))
            self._save(out, c)
        self._counter_reply(out, c, None)

    def _sync(self, unit: str, req: rq.CounterSync, now: datetime, out: Outcome) -> None:
        apply_sync(self, req, now, out)

    def _rate(self, unit: str, req: rq.RatingSubmit, now: datetime, out: Outcome) -> None:
        t = self.state.tickets.get(req.number)
        if t is None or t.counter != req.counter or t.first_called_at is None:
            raise ContractError("not_found", f"{req.number} was not served at this counter")
        if t.rating is not None:
            raise ContractError("already_rated", f"{req.number} is already rated")
        t.rating = req.rating
        if req.officer and not t.officer:
            t.officer = req.officer
        self._ticket_event(out, "ticket.rated", t, now, rating=req.rating, officer=t.officer)
        self._save(out, t)
        out.reply = {"ticket": t.wire(self._names)}
