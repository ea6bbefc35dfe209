"""The pure queue engine: ops, fairness, daily reset. No broker, no disk."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.clock import VN_TZ
from appliance.config import load_unit_config
from appliance.config.site import SiteConfig
from appliance.core.engine import QueueEngine, business_day
from tests.conftest import DEMO_SITE


def _site() -> SiteConfig:
    site = load_unit_config(DEMO_SITE / "hub.toml").hub
    assert site is not None
    return site


SITE = _site()
MON_8 = datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ)
_ids = count()


def req(op: str, **fields):
    return {"v": 1, "id": f"r{next(_ids)}", "op": op, **fields}


class Office:
    def __init__(self, now: datetime = MON_8) -> None:
        self.engine = QueueEngine(SITE)
        self.now = now

    def do(self, unit: str, op: str, **fields):
        self.now += timedelta(seconds=30)
        out = self.engine.handle(unit, req(op, **fields), self.now)
        return out

    def issue(self, service: str, priority: bool = False) -> str:
        out = self.do("dispenser-1", "ticket.issue", service=service, priority=priority)
        assert out.error is None, out.error
        return out.reply["ticket"]["number"]

    def counter(self, c: str, op: str, **fields):
        return self.do(f"counter-{c}", f"counter.{op}", counter=c, **fields)


def test_numbers_per_service_and_state_machine():
    o = Office()
    assert [o.issue("A"), o.issue("A"), o.issue("B")] == ["A001", "A002", "B001"]
    out = o.counter("1", "next")
    assert out.reply["ticket"]["number"] == "A001"
    assert [e["type"] for e in out.events] == ["counter.opened", "ticket.called"]
    out = o.counter("1", "next")  # next finishes the one being served
    assert [e["type"] for e in out.events] == ["ticket.finished", "ticket.called"]
    assert out.reply["ticket"]["number"] == "A002"
    assert o.engine.state.tickets["A001"].state == "finished"


def test_next_picks_longest_waiting_across_services():
    o = Office()
    b = o.issue("B")
    o.issue("A")
    assert o.counter("1", "next").reply["ticket"]["number"] == b


def test_recall_no_show_park_resume_transfer_call():
    o = Office()
    a1, a2, a3 = o.issue("A"), o.issue("A"), o.issue("A")
    o.counter("1", "next")
    out = o.counter("1", "recall")
    assert out.events[0]["type"] == "ticket.recalled" and out.events[0]["counter"] == "1"
    out = o.counter("1", "no_show")
    assert o.engine.state.tickets[a1].state == "no_show" and out.reply["counter"]["serving"] is None
    assert o.counter("1", "recall").error[0] == "nothing_serving"
    o.counter("1", "next")  # a2
    o.counter("1", "park")
    assert o.engine.state.tickets[a2].state == "parked"
    o.counter("1", "call", number=a3)
    assert o.counter("1", "resume").error[0] == "busy"
    o.counter("1", "transfer", to_service="C")
    t3 = o.engine.state.tickets[a3]
    assert (t3.state, t3.service) == ("waiting", "C")
    assert o.counter("1", "call", number=a3).error[0] == "wrong_service"
    out = o.counter("3", "next")  # counter 3 serves C: the transferred ticket keeps its place
    assert out.reply["ticket"]["number"] == a3
    out = o.counter("1", "resume", number=a2)
    assert out.reply["ticket"]["number"] == a2 and out.events[-1]["type"] == "ticket.resumed"
    assert o.counter("1", "call", number="A999").error[0] == "not_found"


def test_close_finishes_current_and_estimates_need_an_open_counter():
    o = Office()
    o.issue("D")
    out = o.do("dispenser-1", "ticket.issue", service="D")
    assert out.reply["ticket"]["est_wait_s"] is None  # no counter serving D is open
    o.counter("3", "open")
    out = o.do("dispenser-1", "ticket.issue", service="D")
    assert out.reply["ticket"]["ahead"] == 2
    assert out.reply["ticket"]["est_wait_s"] == 2 * SITE.default_service_time_s
    o.counter("3", "next")
    out = o.counter("3", "close")
    assert [e["type"] for e in out.events] == ["ticket.finished", "counter.closed"]


def test_void_only_own_waiting_ticket():
    o = Office()
    n = o.issue("A")
    assert o.do("counter-1", "ticket.void", number=n).error[0] == "forbidden"
    out = o.do("dispenser-1", "ticket.void", number=n, reason="paper_out")
    assert out.error is None and o.engine.state.tickets[n].state == "voided"
    assert o.do("dispenser-1", "ticket.void", number=n).error[0] == "conflict"
    assert o.counter("1", "next").reply["ticket"] is None


def test_import_offline_ticket_in_band_ordered_by_issue_time():
    o = Office()
    early = (o.now + timedelta(seconds=1)).isoformat()
    o.issue("A")  # A001 issued after the offline ticket was printed
    out = o.do("dispenser-1", "ticket.import", number="A800", service="A", issued_at=early)
    assert out.error is None and out.events[0]["offline"] is True
    assert o.counter("1", "next").reply["ticket"]["number"] == "A800"
    again = o.do("dispenser-1", "ticket.import", number="A800", service="A", issued_at=early)
    assert again.error is None and not again.events  # same ticket again: no change
    bad = o.do("dispenser-1", "ticket.import", number="A005", service="A", issued_at=early)
    assert bad.error[0] == "forbidden"


def test_import_from_a_past_day_is_recorded_expired():
    o = Office()
    o.issue("A")
    yesterday = (MON_8 - timedelta(days=1)).isoformat()
    out = o.do("dispenser-1", "ticket.import", number="A801", service="A", issued_at=yesterday)
    assert out.error is None and out.reply["ticket"]["state"] == "expired"
    assert out.tickets[0].day < o.engine.state.day and "A801" not in o.engine.state.tickets


def test_office_hours_and_daily_cap():
    o = Office(now=datetime(2026, 11, 30, 6, 0, tzinfo=VN_TZ))
    assert o.do("dispenser-1", "ticket.issue", service="A").error[0] == "office_closed"
    sunday = Office(now=datetime(2026, 11, 29, 9, 0, tzinfo=VN_TZ))
    assert sunday.do("dispenser-1", "ticket.issue", service="A").error[0] == "office_closed"
    o = Office()
    assert o.issue("A") == "A001"
    o.engine.state.next_number["A"] = 799  # as if 797 more had come today
    assert o.issue("A") == "A799"
    assert o.do("dispenser-1", "ticket.issue", service="A").error[0] == "service_full"


def test_rating_once_per_ticket_at_its_counter():
    o = Office()
    n = o.issue("A")
    o.counter("1", "next", officer="CB07")
    o.counter("1", "finish")
    out = o.do("counter-1", "rating.submit", counter="1", number=n, rating="very_satisfied")
    assert out.error is None and o.engine.state.tickets[n].rating == "very_satisfied"
    assert o.engine.state.tickets[n].officer == "CB07"
    again = o.do("counter-1", "rating.submit", counter="1", number=n, rating="unsatisfied")
    assert again.error[0] == "already_rated"
    other = o.do("counter-2", "rating.submit", counter="2", number=n, rating="satisfied")
    assert other.error[0] == "not_found"


def test_sync_applies_manual_calls_once_in_order():
    o = Office()
    a1 = o.issue("A")
    t0 = o.now
    events = [
        {"action": "call", "number": a1, "at": (t0 + timedelta(seconds=5)).isoformat()},
        {"action": "finish", "number": a1, "at": (t0 + timedelta(seconds=60)).isoformat()},
        {"action": "call", "number": "B042", "at": (t0 + timedelta(seconds=70)).isoformat()},
    ]
    out = o.do("counter-1", "counter.sync", counter="1", events=events)
    assert out.error is None and out.reply["applied"] == 3
    assert o.engine.state.tickets[a1].state == "finished"
    manual = o.engine.state.tickets["B042"]
    assert (manual.origin, manual.state) == ("manual", "serving")
    assert all(e.get("replayed") for e in out.events if e["type"] == "ticket.called")
    out = o.do("counter-1", "counter.sync", counter="1", events=events[:1])
    assert out.reply["applied"] == 0 and out.reply["skipped"]


def test_bad_requests_name_the_field():
    o = Office()
    out = o.do("dispenser-1", "ticket.issue", service="A", priority="yes")
    assert out.error[0] == "bad_request" and "priority" in out.error[1]
    assert o.do("dispenser-1", "ticket.issue", service="Z").error[0] == "unknown_service"
    assert o.do("dispenser-1", "ticket.fly").error[0] == "unknown_op"
    out = o.engine.handle("dispenser-1", {"v": 1, "op": "ticket.issue"}, o.now)
    assert out.error is not None
    assert out.error[0] == "bad_request" and "id" in out.error[1]
    assert o.do("counter-1", "counter.next", counter="9").error[0] == "unknown_counter"


@pytest.mark.parametrize(
    ("local", "expected_day"),
    [
        ("2026-11-30T03:59:59", "2026-11-29"),  # before the 04:00 reset: still yesterday
        ("2026-11-30T04:00:00", "2026-11-30"),
        ("2026-11-30T23:59:59", "2026-11-30"),
        ("2026-12-01T00:30:00", "2026-11-30"),  # past midnight, before the reset
    ],
)
def test_business_day_turns_at_reset_time(local, expected_day):
    now = datetime.fromisoformat(local).replace(tzinfo=VN_TZ)
    assert business_day(SITE, now).isoformat() == expected_day


def test_daily_reset_across_midnight_expires_unserved_and_restarts_numbers():
    o = Office(now=datetime(2026, 11, 30, 16, 50, tzinfo=VN_TZ))
    a1, a2 = o.issue("A"), o.issue("A")
    o.counter("1", "next")
    seq = o.engine.state.seq
    # nothing happens at midnight: the day turns at 04:00
    assert not o.engine.tick(datetime(2026, 12, 1, 0, 5, tzinfo=VN_TZ)).events
    out = o.engine.tick(datetime(2026, 12, 1, 4, 0, 1, tzinfo=VN_TZ))
    assert [e["type"] for e in out.events] == ["day.reset"]
    assert out.events[0]["seq"] == seq + 1
    assert {t.number: t.state for t in out.tickets} == {a1: "expired", a2: "expired"}
    assert all(not c.open and c.serving is None for c in out.counters)
    o.now = datetime(2026, 12, 1, 7, 59, tzinfo=VN_TZ)
    assert o.issue("A") == "A001"


# ---- fairness: property tests ---------------------------------------------------------
actions = st.lists(st.sampled_from(["n", "p", "call"]), min_size=1, max_size=120)


@settings(max_examples=200, deadline=None)
@given(actions)
def test_priority_never_more_than_max_in_row_while_normal_waits(seq):
    o = Office()
    streak = 0
    for a in seq:
        if a == "n":
            o.issue("A")
        elif a == "p":
            o.issue("A", priority=True)
        else:
            normal_waiting = any(not t.priority for t in o.engine.state.waiting(["A", "B"]))
            out = o.counter("1", "next")
            t = out.reply["ticket"]
            if t is None:
                continue
            if t["priority"] and normal_waiting:
                streak += 1
                assert streak <= SITE.priority.max_in_row
            elif not t["priority"]:
                streak = 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=60), st.integers(0, 200))
def test_nobody_waits_forever(priorities, extra_priority):
    """With a steady stream of priority arrivals, every normal ticket is still called
    within a bounded number of calls."""
    o = Office()
    normals = [o.issue("A", priority=p) for p in priorities if not p]
    for p in priorities:
        if p:
            o.issue("A", priority=True)
    calls_allowed = (len(priorities) + 1) * (SITE.priority.max_in_row + 1)
    called: set[str] = set()
    for _ in range(calls_allowed):
        if extra_priority > 0:
            o.issue("B", priority=True)
            extra_priority -= 1
        t = o.counter("1", "next").reply["ticket"]
        if t:
            called.add(t["number"])
        if set(normals) <= called:
            break
    assert set(normals) <= called
