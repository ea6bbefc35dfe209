"""The incremental queue indexes give exactly the order the scanning engine gave.

``ReferenceEngine`` keeps, verbatim, the ordering code the engine had before it kept each
service's waiting tickets in sorted lists: a scan and a sort of every waiting ticket for
each pick, each ``ahead`` and each ``queue/state``. Random sequences of every operation
(issue, priority interleave, next, call, recall, no-show, finish, transfer, park, resume,
void, offline import, counter sync, rating, open/close, day turnover, a restart from the
records) go to both engines; every reply, every event, every queue and every retained
picture must be the same.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.clock import VN_TZ, rfc3339
from appliance.core.engine import QueueEngine
from appliance.core.estimates import estimate_wait
from appliance.core.model import Counter, QueueState, Ticket
from appliance.core.snapshot import queue_state
from tests.test_engine import SITE as DEMO

# Counter 1 lists its services against the alphabet (B before A), so that the tie-break
# by service order is not hidden by numbers that happen to sort the same way.
SITE = DEMO.model_copy(update={"counters": [
    DEMO.counters[0].model_copy(update={"services": ["B", "A"]}), *DEMO.counters[1:]]})
SERVICES = [s.id for s in SITE.services]
COUNTERS = [c.id for c in SITE.counters]
LISTED = 3  # a short list, so the bounded state is truncated in most examples


class ReferenceEngine(QueueEngine):
    """The ordering as it was: full scans and sorts (the code before the indexes)."""

    def waiting(self, services: list[str] | tuple[str, ...]) -> list[Ticket]:
        rank = {s: i for i, s in enumerate(services)}
        found = [t for t in self.state.active.values()
                 if t.state == "waiting" and t.service in rank]
        found.sort(key=lambda t: (t.order_at, rank[t.service], t.number))
        return found

    def _ahead(self, t: Ticket) -> int:
        waiting = self.waiting([t.service])
        return next(i for i, w in enumerate(waiting) if w.number == t.number)

    def _parked_here(self, cid: str) -> list[Ticket]:
        # The one deliberate change: tickets issued in the same instant (one batch) were
        # taken in the order of the ``tickets`` dict, which a restart reshuffles; now by
        # number, the same before and after a restart.
        return sorted((t for t in self.state.tickets.values()
                       if t.state == "parked" and t.counter == cid),
                      key=lambda t: (t.issued_at, t.number))

    def _pick(self, c: Counter) -> Ticket | None:
        cfg = self.site.counter(c.id)
        assert cfg is not None
        waiting = self.waiting(cfg.services)
        normal = next((t for t in waiting if not t.priority), None)
        prio = next((t for t in waiting if t.priority), None)
        limit = self.site.priority.max_in_row
        if prio is not None and (normal is None or c.priority_streak < limit):
            c.priority_streak = c.priority_streak + 1 if normal is not None else 0
            return prio
        c.priority_streak = 0
        return normal

    def full_state(self, now: datetime) -> dict[str, Any]:
        """``queue/state`` as it was: every waiting number of every service."""
        st_, site = self.state, self.site
        services: dict[str, Any] = {}
        for svc in site.services:
            waiting = self.waiting([svc.id])
            last = st_.last_issued.get(svc.id)
            services[svc.id] = {
                "name": svc.name, "name_en": svc.name_en,
                "waiting": [t.number for t in waiting],
                "priority_waiting": [t.number for t in waiting if t.priority],
                "last_issued": last.number if last else None,
                "est_wait_s": estimate_wait(site, st_, svc.id, len(waiting)),
            }
        counters = {c.id: self.counter_wire(c) for c in st_.counters.values()}
        return {"v": 1, "seq": st_.seq, "day": st_.day.isoformat() if st_.day else None,
                "at": rfc3339(now), "services": services, "counters": counters}


def reloaded(engine: QueueEngine, cls: type[QueueEngine]) -> QueueEngine:
    """What a restart gives: the records (tickets, counters, numbers, seq), no indexes."""
    s = engine.state
    state = QueueState(day=s.day, seq=s.seq, tickets=copy.deepcopy(s.tickets),
                       counters=copy.deepcopy(s.counters), next_number=dict(s.next_number))
    return cls(engine.site, state)


# ---- operations --------------------------------------------------------------------------
svc_ = st.sampled_from(SERVICES)
ctr_ = st.sampled_from(COUNTERS)
pick_ = st.integers(0, 10**6)  # chooses among the numbers that exist at that moment
OPS = st.one_of(
    st.tuples(st.just("issue"), svc_, st.booleans()),
    st.tuples(st.just("issue"), svc_, st.just(True)),  # priority interleave, weighted up
    st.tuples(st.just("issue"), svc_, st.just(False)),
    st.tuples(st.just("burst"), st.lists(st.tuples(svc_, st.booleans()), max_size=25)),
    st.tuples(st.just("next"), ctr_),
    st.tuples(st.just("next"), ctr_),
    st.tuples(st.sampled_from(["recall", "no_show", "finish", "park", "open", "close"]), ctr_),
    st.tuples(st.just("transfer"), ctr_, svc_),
    st.tuples(st.just("park"), ctr_),
    st.tuples(st.just("park"), ctr_),
    st.tuples(st.just("resume"), ctr_, st.none() | pick_),
    st.tuples(st.just("resume"), ctr_, st.none() | pick_),
    st.tuples(st.just("call"), ctr_, pick_),
    st.tuples(st.just("void"), pick_),
    st.tuples(st.just("import"), svc_, st.integers(800, 830), st.integers(0, 3000),
              st.booleans()),
    st.tuples(st.just("sync"), ctr_, st.lists(st.tuples(
        st.sampled_from(["call", "finish", "no_show"]), pick_ | st.integers(500, 520)),
        max_size=3)),
    st.tuples(st.just("rate"), ctr_, pick_,
              st.sampled_from(["very_satisfied", "satisfied", "unsatisfied"])),
    st.tuples(st.just("day")),
    st.tuples(st.just("reload")),
)
STEPS = st.lists(st.tuples(OPS, st.integers(1, 90)), min_size=5, max_size=120)
# ops on "the ticket being served" go to a counter that serves one, when there is one
ON_SERVING = ("recall", "no_show", "finish", "park", "transfer", "rate")


class Run:
    """Both engines, one clock, the same requests."""

    def __init__(self) -> None:
        self.new: QueueEngine = QueueEngine(SITE)
        self.ref: ReferenceEngine = ReferenceEngine(SITE)
        self.now = datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ)
        self.ids = 0
        self.micro = 0

    def number(self, pick: int, pool: list[str]) -> str | None:
        return pool[pick % len(pool)] if pool else None

    def known(self) -> list[str]:
        return sorted(self.ref.state.tickets)

    def send(self, unit: str, body: dict[str, Any]) -> None:
        self.ids += 1
        body = {"v": 1, "id": f"r{self.ids}", **body}
        got = self.new.handle(unit, copy.deepcopy(body), self.now)
        want = self.ref.handle(unit, copy.deepcopy(body), self.now)
        assert got.error == want.error, body
        assert got.reply == want.reply, body
        assert got.events == want.events, body

    def step(self, op: tuple[Any, ...], advance_s: int) -> None:
        self.now += timedelta(seconds=advance_s)
        kind = op[0]
        serving = [c for c in COUNTERS if self.ref.state.counters[c].serving]
        if kind in ON_SERVING and not serving:  # call someone first, so the op can act
            self.send(f"counter-{op[1]}", {"op": "counter.next", "counter": op[1]})
            serving = [c for c in COUNTERS if self.ref.state.counters[c].serving]
        if kind in ON_SERVING and serving:
            op = (kind, serving[advance_s % len(serving)], *op[2:])
        parked_at = sorted({t.counter for t in self.ref.state.tickets.values()
                            if t.state == "parked" and t.counter})
        if kind == "resume" and parked_at:
            op = (kind, parked_at[advance_s % len(parked_at)], *op[2:])
        if kind == "burst":
            for sid, prio in op[1]:  # one instant, as a batch of the hub's shares its `now`
                self.send("dispenser-1", {"op": "ticket.issue", "service": sid,
                                          "priority": prio})
        elif kind == "issue":
            self.send("dispenser-1", {"op": "ticket.issue", "service": op[1],
                                      "priority": op[2]})
        elif kind in ("next", "recall", "no_show", "finish", "park", "open", "close"):
            self.send(f"counter-{op[1]}", {"op": f"counter.{kind}", "counter": op[1]})
        elif kind == "transfer":
            self.send(f"counter-{op[1]}", {"op": "counter.transfer", "counter": op[1],
                                           "to_service": op[2]})
        elif kind == "resume":
            parked = sorted(n for n, t in self.ref.state.tickets.items() if t.state == "parked")
            body: dict[str, Any] = {"op": "counter.resume", "counter": op[1]}
            if op[2] is not None and parked:
                body["number"] = self.number(op[2], parked)
            self.send(f"counter-{op[1]}", body)
        elif kind in ("call", "rate"):
            pool = self.known()
            if kind == "rate":  # rate what this counter served, most of the time
                pool = [n for n in pool if self.ref.state.tickets[n].counter == op[1]] or pool
            number = self.number(op[2], pool)
            if number is None:
                return
            body = {"op": "counter.call" if kind == "call" else "rating.submit",
                    "counter": op[1], "number": number}
            if kind == "rate":
                body["rating"] = op[3]
            self.send(f"counter-{op[1]}", body)
        elif kind == "void":
            number = self.number(op[1], self.known())
            if number is not None:
                self.send("dispenser-1", {"op": "ticket.void", "number": number})
        elif kind == "import":
            self.micro += 1  # distinct issue times: the old resume broke ties by dict order
            at = self.now - timedelta(seconds=op[3], microseconds=500_000 + self.micro)
            self.send("dispenser-1", {"op": "ticket.import", "service": op[1],
                                      "number": f"{op[1]}{op[2]}", "priority": op[4],
                                      "issued_at": rfc3339(at)})
        elif kind == "sync":
            events = []
            for action, pick in op[2]:
                number = (f"{SERVICES[pick % 4]}{pick}" if 500 <= pick <= 520
                          else self.number(pick, self.known()))
                if number is not None:
                    events.append({"action": action, "number": number,
                                   "at": rfc3339(self.now - timedelta(seconds=1))})
            self.send(f"counter-{op[1]}", {"op": "counter.sync", "counter": op[1],
                                           "events": events})
        elif kind == "day":
            day = self.now.date() + timedelta(days=1)
            while day.weekday() == 6:  # the demo office is closed on Sundays
                day += timedelta(days=1)
            self.now = datetime(day.year, day.month, day.day, 8, 0, tzinfo=VN_TZ)
            self.send("dispenser-1", {"op": "ticket.issue", "service": "A"})
        elif kind == "reload":
            self.new = reloaded(self.new, QueueEngine)
            ref = reloaded(self.ref, ReferenceEngine)
            assert isinstance(ref, ReferenceEngine)
            self.ref = ref

    def check_same_order(self) -> None:
        new, ref = self.new, self.ref
        for c in SITE.counters:
            assert ([t.number for t in new.state.waiting(c.services)]
                    == [t.number for t in ref.waiting(c.services)])
            assert ([t.number for t in new._parked_here(c.id)]
                    == [t.number for t in ref._parked_here(c.id)])
        for sid in SERVICES:
            for i, t in enumerate(ref.waiting([sid])):
                assert new._ahead(new.state.tickets[t.number]) == i
        # the bounded retained picture is the old one, cut after LISTED numbers, plus counts
        got, want = queue_state(new, self.now, listed=LISTED), self.ref.full_state(self.now)
        for sid, w in want["services"].items():
            g = got["services"][sid]
            assert g.pop("waiting_count") == len(w["waiting"])
            assert g.pop("priority_count") == len(w["priority_waiting"])
            assert g.pop("waiting") == w.pop("waiting")[:LISTED]
            assert g.pop("priority_waiting") == w.pop("priority_waiting")[:LISTED]
        assert got == want


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_incremental_queues_give_the_scanning_engines_order(steps):
    run = Run()
    for op, advance in steps:
        run.step(op, advance)
        run.check_same_order()


def test_same_instant_tickets_keep_the_old_tie_break():
    """Tickets issued at one instant: the counter's service order, then the number."""
    run = Run()
    for sid in ("A", "B", "A", "B"):
        run.send("dispenser-1", {"op": "ticket.issue", "service": sid})  # no clock move
    run.check_same_order()
    served = []
    for _ in range(4):
        run.send("counter-1", {"op": "counter.next", "counter": "1"})
        served.append(run.new.state.counters["1"].serving)
        run.check_same_order()
    assert served == ["B001", "B002", "A001", "A002"]
