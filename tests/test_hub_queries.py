"""The hub's read-only queries (ticket.status, counter.status) and the store acting for a
counter from an officer's screen: only a listed officer, only its own counters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appliance.core.engine import QueueEngine
from appliance.errors import ContractError
from tests.test_engine import MON_8, SITE, Office, req


def _status(engine: QueueEngine, number: str, unit: str = "store") -> dict:
    return engine.query(unit, req("ticket.status", number=number))


def test_ticket_status_counts_everyone_ahead_past_the_first_fifty() -> None:
    office = Office()
    numbers = [office.issue("A") for _ in range(120)]
    office.issue("B")
    got = _status(office.engine, numbers[99])
    assert got["ticket"]["ahead"] == 99 and got["ticket"]["state"] == "waiting"
    assert got["day"] == "2026-11-30" and got["ticket"]["counters"] == ["1"]
    assert got["ticket"]["est_wait_s"] is None  # no counter open: unknown, not made up
    office.counter("1", "next", officer="CB01")
    got = _status(office.engine, numbers[99])
    assert got["ticket"]["ahead"] == 98
    assert got["ticket"]["est_wait_s"] == 98 * SITE.default_service_time_s
    first = _status(office.engine, numbers[0])["ticket"]
    assert first["state"] == "serving" and first["counter"] == "1"
    assert first["counter_name"] == "Quầy 1" and "called_at" in first
    with pytest.raises(ContractError) as unknown:
        _status(office.engine, "A999")
    assert unknown.value.code == "not_found"


def test_queries_need_the_permission() -> None:
    office = Office()
    n = office.issue("A")
    for unit, code in (("dispenser-1", "forbidden"), ("board-1", "forbidden"),
                       ("nobody", "unknown_unit")):
        with pytest.raises(ContractError) as refused:
            _status(office.engine, n, unit)
        assert refused.value.code == code, unit
    # a query sent as a change is refused, not acted on
    out = office.engine.handle("store", req("ticket.status", number=n), MON_8)
    assert out.error is not None and out.error[0] == "forbidden" and not out.changed


def test_store_acts_for_a_counter_only_with_a_listed_officer() -> None:
    office = Office()
    a1 = office.issue("A")
    office.issue("B")
    out = office.do("store", "counter.next", counter="1", officer="CB02")
    assert out.error is not None and out.error[0] == "forbidden" and not out.changed
    out = office.do("store", "counter.next", counter="1")
    assert out.error is not None and out.error[0] == "forbidden"
    out = office.do("store", "counter.next", counter="1", officer="CB01")
    assert out.error is None and out.reply["ticket"]["number"] == a1
    assert office.engine.state.counters["1"].officer == "CB01"
    # the keypad of the counter unit still works beside it, on the same state
    out = office.counter("1", "finish")
    assert out.error is None and office.engine.state.tickets[a1].state == "finished"
    # a counter unit is not a proxy: it cannot drive another counter whatever the officer
    out = office.do("counter-1", "counter.next", counter="2", officer="CB02")
    assert out.error is not None and out.error[0] == "forbidden"


def test_counter_status_is_what_the_officer_screen_shows() -> None:
    office = Office()
    a1, a2, a3 = (office.issue("A") for _ in range(3))
    b1 = office.issue("B", priority=True)
    office.counter("1", "next", officer="CB01")  # the priority ticket first
    office.now += timedelta(minutes=4)
    office.counter("1", "park")
    office.counter("1", "next")
    office.now += timedelta(minutes=2)
    office.counter("1", "finish")
    office.counter("1", "next")
    office.counter("1", "no_show")
    got = office.engine.query("store", req("counter.status", counter="1", officer="CB01"))
    assert got["counter"]["open"] and got["counter"]["officer"] == "CB01"
    assert [t["number"] for t in got["parked"]] == [b1]
    assert got["services"]["A"]["waiting"] == 1 and got["services"]["B"]["waiting"] == 0
    assert got["services"]["A"]["oldest_at"] is not None
    assert got["today"]["counter"] == {"served": 1, "no_show": 1, "avg_service_s": 150}
    assert got["today"]["officer"] == got["today"]["counter"]
    assert office.engine.state.tickets[a3].state == "waiting" and a1 != a2
    # a keypad unit does not ask for the screen's view
    out = office.engine.handle("counter-1", req("counter.status", counter="1"), office.now)
    assert out.error is not None and out.error[0] == "forbidden"
