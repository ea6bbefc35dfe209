"""The board's model on its own: seq order, duplicates, gaps, freshness, bad input."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from appliance.board.state import BoardModel
from appliance.clock import VN_TZ, rfc3339
from appliance.contract import Topics

T = Topics("demo")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=VN_TZ)


def state(seq: int, *, waiting: list[str] | None = None, serving: str | None = None,
          since: datetime = NOW, at: datetime = NOW, day: str = "2026-11-30") -> bytes:
    return json.dumps({
        "v": 1, "seq": seq, "day": day, "at": rfc3339(at),
        "services": {"A": {"name": "Chứng thực", "waiting": waiting or [],
                           "last_issued": None, "est_wait_s": 300 if waiting else None}},
        "counters": {"1": {"name": "Quầy 1", "open": True, "serving": serving,
                           "service": "A" if serving else None,
                           "since": rfc3339(since) if serving else None}},
    }).encode()


def event(seq: int, kind: str, number: str, counter: str | None = "1") -> bytes:
    body: dict[str, Any] = {"v": 1, "seq": seq, "type": kind, "at": rfc3339(NOW),
                            "ticket": {"number": number, "service": "A",
                                       "service_name": "Chứng thực", "priority": False}}
    if counter:
        body.update(counter=counter, counter_name=f"Quầy {counter}")
    return json.dumps(body).encode()


def status(state_: str) -> bytes:
    return json.dumps({"v": 1, "unit": "hub", "role": "hub", "state": state_}).encode()


@pytest.fixture
def model() -> BoardModel:
    m = BoardModel("demo")
    m.set_broker(True)
    m.handle(T.status("hub"), status("ready"), NOW)
    m.handle(T.queue_state, state(10, waiting=["A001", "A002"]), NOW)
    return m


def serving(m: BoardModel) -> str | None:
    return m.view().counters[0].serving


def test_events_apply_in_seq_order_and_calls_come_back(model: BoardModel) -> None:
    calls = model.handle(T.queue_events, event(11, "ticket.called", "A001"), NOW)
    assert [c.number for c in calls] == ["A001"]
    assert serving(model) == "A001"
    assert model.view().services[0].waiting == 1
    model.handle(T.queue_events, event(12, "ticket.issued", "A003", counter=None), NOW)
    assert model.view().services[0].waiting == 2
    assert model.seq == 12 and model.view().online


def test_duplicates_and_old_events_are_ignored(model: BoardModel) -> None:
    model.handle(T.queue_events, event(11, "ticket.called", "A001"), NOW)
    again = model.handle(T.queue_events, event(11, "ticket.called", "A001"), NOW)
    old = model.handle(T.queue_events, event(9, "ticket.called", "A000"), NOW)
    assert again == [] and old == []
    assert serving(model) == "A001"
    assert len(model.view().calls) == 1


def test_out_of_order_events_wait_for_the_missing_one(model: BoardModel) -> None:
    assert model.handle(T.queue_events, event(12, "ticket.called", "A002"), NOW) == []
    assert model.resyncing and not model.view().online
    assert serving(model) is None  # nothing shown from beyond the gap
    calls = model.handle(T.queue_events, event(11, "ticket.called", "A001"), NOW)
    assert [c.number for c in calls] == ["A001", "A002"]
    assert serving(model) == "A002" and model.view().online and not model.resyncing


def test_a_gap_heals_with_a_newer_state_and_asks_for_one_if_none_comes(
        model: BoardModel) -> None:
    model.handle(T.queue_events, event(13, "ticket.called", "A002"), NOW)
    assert not model.resync_due(NOW + timedelta(seconds=1))
    assert model.resync_due(NOW + timedelta(seconds=4))
    calls = model.handle(T.queue_state, state(13, waiting=[], serving="A002"),
                         NOW + timedelta(seconds=5))
    assert [c.number for c in calls] == ["A002"]  # recent: still announced, once
    assert serving(model) == "A002" and model.view().online and model.seq == 13


def test_events_before_the_first_state_are_kept_until_it_comes() -> None:
    m = BoardModel("demo")
    m.set_broker(True)
    m.handle(T.queue_events, event(11, "ticket.called", "A001"), NOW)
    assert not m.view().ever_synced and not m.view().online
    calls = m.handle(T.queue_state, state(10, waiting=["A001"]), NOW)
    assert [c.number for c in calls] == ["A001"]
    assert serving(m) == "A001"


def test_an_older_state_never_rolls_back(model: BoardModel) -> None:
    model.handle(T.queue_events, event(11, "ticket.called", "A001"), NOW)
    model.handle(T.queue_state, state(9, waiting=["A001", "A002"]), NOW)
    assert serving(model) == "A001"


def test_a_restarted_hub_with_a_lower_seq_is_believed_by_its_newer_time(
        model: BoardModel) -> None:
    later = NOW + timedelta(minutes=5)
    model.handle(T.queue_state, state(2, serving="A009", at=later), later)
    assert serving(model) == "A009" and model.seq == 2


def test_freshness_needs_broker_hub_and_a_state_since_reconnect(model: BoardModel) -> None:
    assert model.view().online
    model.handle(T.status("hub"), status("lost"), NOW)
    assert not model.view().online
    model.handle(T.status("hub"), status("ready"), NOW)
    assert model.view().online
    model.set_broker(False)
    assert not model.view().online
    model.set_broker(True)
    assert not model.view().online  # reconnected, but nothing fresh yet
    model.handle(T.queue_state, state(10, waiting=["A001", "A002"]), NOW)
    assert model.view().online


@pytest.mark.parametrize("payload", [
    b"not json", b"[]", b'{"v": 2, "seq": 1}', b'{"v": 1}', b'{"v": 1, "seq": "x"}',
    b"{\"v\": 1, \"seq\": 11}", b"\xff\xfe",
])
def test_bad_messages_are_counted_and_change_nothing(model: BoardModel,
                                                     payload: bytes) -> None:
    before = model.view()
    for topic in (T.queue_state, T.queue_events, T.site_info, f"{T.base}/store/board"):
        model.handle(topic, payload, NOW)
    assert model.bad_messages >= 1
    assert model.view().counters == before.counters
    assert model.view().services == before.services


def test_day_reset_clears_the_board(model: BoardModel) -> None:
    model.handle(T.queue_events, event(11, "ticket.called", "A001"), NOW)
    model.handle(T.queue_events, event(12, "day.reset", "", counter=None), NOW)
    view = model.view()
    assert serving(model) is None and view.calls == () and view.services[0].waiting == 0


def test_notice_only_from_allowed_units_and_falls_back_to_the_configured_one() -> None:
    m = BoardModel("demo", notice="Mặc định", notice_from=["counter-1"])
    notice = json.dumps({"v": 1, "text": "Nghỉ trưa", "by": "counter-1"}).encode()
    m.handle(T.notice, notice, NOW)
    assert m.view().notice == "Nghỉ trưa"
    m.handle(T.notice, json.dumps({"v": 1, "text": "Giả", "by": "lookup-1"}).encode(), NOW)
    assert m.view().notice == "Nghỉ trưa" and m.bad_messages == 1
    m.handle(T.notice, json.dumps({"v": 1, "text": "", "by": "counter-1"}).encode(), NOW)
    assert m.view().notice == "Mặc định"
    m.handle(T.notice, b"", NOW)  # a cleared retained message is not an error
    assert m.view().notice == "Mặc định"


def test_counters_and_services_shown_can_be_limited() -> None:
    m = BoardModel("demo", counters=["1"], services=["A"])
    m.set_broker(True)
    body = json.loads(state(1))
    body["services"]["B"] = {"name": "Tư pháp", "waiting": ["B001"], "est_wait_s": 60}
    body["counters"]["2"] = {"name": "Quầy 2", "open": True, "serving": None}
    m.handle(T.queue_state, json.dumps(body).encode(), NOW)
    assert [s.id for s in m.view().services] == ["A"]
    assert [c.id for c in m.view().counters] == ["1"]


def test_store_board_becomes_dossier_figures() -> None:
    m = BoardModel("demo")
    m.set_broker(True)
    m.handle(T.status("store"), json.dumps({"v": 1, "state": "ready"}).encode(), NOW)
    m.handle(f"{T.base}/store/board", json.dumps({
        "v": 1, "at": rfc3339(NOW),
        "ready": [{"code": "X-1", "applicant": "Nguyễn V** A**", "procedure": "Khai sinh",
                   "counter": 2}],
        "today": {"received": 3}, "month": {"received": 30, "overdue": 2}}).encode(), NOW)
    d = m.view().dossier
    assert d is not None and m.view().dossier_online
    assert d.ready[0].counter == "2" and d.today.received == 3 and d.month.overdue == 2
    assert d.today.returned_late == 0


def test_a_hub_that_falls_silent_is_not_believed() -> None:
    m = BoardModel("demo", hub_silence_s=100)
    m.set_broker(True)
    m.handle(T.status("hub"), status("ready"), NOW)
    m.handle(T.queue_state, state(10), NOW)
    m.check_silence(NOW + timedelta(seconds=90))
    assert m.view().online
    m.check_silence(NOW + timedelta(seconds=101))
    assert not m.view().online  # retained "ready" but no heartbeat: hung or gone
    m.handle(T.status("hub"), status("ready"), NOW + timedelta(seconds=120))
    assert m.view().online


def test_simulated_time_racing_ahead_is_not_hub_silence() -> None:
    """The demo's clock runs hours ahead while the hub's heartbeat keeps real time."""
    m = BoardModel("demo", hub_silence_s=100)
    m.set_broker(True)
    m.handle(T.status("hub"), status("ready"), NOW, heard=1000.0)
    m.handle(T.queue_state, state(10), NOW, heard=1000.0)
    m.check_silence(NOW + timedelta(hours=3), at=1030.0)  # 30 real seconds later
    assert m.view().online
    m.check_silence(NOW + timedelta(hours=3), at=1101.0)  # 101 real seconds of silence
    assert not m.view().online
