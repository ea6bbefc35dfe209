"""The board against a real mosquitto and the real hub: order, gaps, broker loss, notices."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.board.state import BoardModel
from appliance.broker import MosquittoBroker
from appliance.bus import Bus, Message
from appliance.clock import OffsetClock
from appliance.contract import Topics, decode
from display.board import banner_for
from tests.board_helpers import RunningBoard, start_board

T = Topics("demo")


class Recorder:
    """Every queue message the hub publishes, in arrival order."""

    def __init__(self, bus: Bus) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        bus.subscribe(T.queue_events, self._on)
        bus.subscribe(T.queue_state, self._on)

    def _on(self, msg: Message) -> None:
        with self._lock:
            self.messages.append((msg.topic, decode(msg.payload)))

    def wait(self, pred: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                have = any(t == T.queue_state for t, _ in self.messages)
            if have and pred():
                return
            time.sleep(0.02)
        raise AssertionError("the hub never published the expected state")

    def latest_state(self) -> dict[str, Any]:
        with self._lock:
            return [m for t, m in self.messages if t == T.queue_state][-1]


@pytest.fixture
def board_factory(demo_site: Path, broker: MosquittoBroker, clock: OffsetClock,
                  tmp_path: Path) -> Iterator[Callable[..., RunningBoard]]:
    boards: list[RunningBoard] = []

    def make(**overrides: Any) -> RunningBoard:
        b = start_board(demo_site, broker.url, clock, tmp_path / f"board{len(boards)}",
                        **overrides)
        boards.append(b)
        return b

    yield make
    for b in boards:
        b.stop()


def ok(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply.get("ok"), reply
    return reply


def serving(view: Any) -> dict[str, str | None]:
    return {c.id: c.serving for c in view.counters}


def test_board_rebuilds_from_retained_then_follows_calls_in_order(
        hub: Any, make_bus: Callable[..., Bus], board_factory: Callable[..., RunningBoard]
) -> None:
    disp = make_bus("dispenser-1", "dispenser")
    for svc in ("A", "A", "B"):
        ok(disp.request("hub", {"op": "ticket.issue", "service": svc}, timeout=5))
    board = board_factory()
    # started after the tickets: the picture comes from the retained state, not blank
    # retained queue/state and site/info arrive in either order: wait for both
    view = board.shown.wait(lambda v: v.online and sum(s.waiting for s in v.services) == 3
                            and bool(v.office_name))
    assert {s.id: s.waiting for s in view.services} == {"A": 2, "B": 1, "C": 0, "D": 0}
    assert view.office_name.startswith("Trung tâm Phục vụ")
    c1, c2 = make_bus("counter-1", "counter"), make_bus("counter-2", "counter")
    ok(c1.request("hub", {"op": "counter.open", "counter": "1"}, timeout=5))
    ok(c2.request("hub", {"op": "counter.open", "counter": "2"}, timeout=5))
    ok(c1.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5))
    ok(c2.request("hub", {"op": "counter.next", "counter": "2"}, timeout=5))
    ok(c1.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5))
    view = board.shown.wait(lambda v: serving(v).get("1") == "A002"
                            and serving(v).get("2") == "B001")
    assert [c.number for c in view.calls][:3] == ["A002", "B001", "A001"]
    assert view.calls[0].counter_name == "Quầy 1"
    assert sum(s.waiting for s in view.services) == 0
    assert board.app.announcer is not None
    assert board.app.announcer.wait_idle(20)
    said = [(p.number, p.counter) for p in board.app.announcer.history]
    assert said == [("A001", "1"), ("B001", "2"), ("A002", "1")]
    assert "đến quầy số 1" in board.app.announcer.history[0].text
    # recall says it again
    ok(c1.request("hub", {"op": "counter.recall", "counter": "1"}, timeout=5))
    board.shown.wait(lambda v: v.calls[0].recall)
    assert board.app.announcer.wait_idle(20)
    assert [p.number for p in board.app.announcer.history][-1] == "A002"
    assert len(board.app.announcer.history) == 4
    assert len(board.recorder.written) == 4


def test_event_gap_is_never_shown_and_heals_from_the_hub_state(
        hub: Any, make_bus: Callable[..., Bus], board_factory: Callable[..., RunningBoard]
) -> None:
    rec = Recorder(make_bus("recorder", "board"))
    c1 = make_bus("counter-1", "counter")
    disp = make_bus("dispenser-1", "dispenser")
    ok(c1.request("hub", {"op": "counter.open", "counter": "1"}, timeout=5))
    for _ in range(3):
        ok(disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5))
    board = board_factory()
    board.shown.wait(lambda v: v.online and sum(s.waiting for s in v.services) == 3)
    seq = board.app.model.seq
    assert seq == rec.latest_state()["seq"]
    assert seq is not None
    # An event from the future: the board missed some. It must not show it, and must say
    # it is not sure (banner) until the hub's state catches up.
    saboteur = make_bus("saboteur", "board")
    saboteur.publish(T.queue_events, {
        "v": 1, "seq": seq + 3, "type": "ticket.called", "at": "2026-11-30T08:00:05+07:00",
        "ticket": {"number": "Z999", "service": "A", "service_name": "Chứng thực",
                   "priority": False}, "counter": "1", "counter_name": "Quầy 1"})
    view = board.shown.wait(lambda v: not v.online)
    assert banner_for(view, "queue") == ("Thông tin có thể chưa cập nhật",
                                       "Information may be out of date")
    assert "Z999" not in serving(view).values()
    ok(c1.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5))
    view = board.shown.wait(lambda v: v.online and serving(v).get("1") == "A001")
    assert "Z999" not in [c.number for c in view.calls]
    assert board.app.model.resyncs >= 1
    assert board.app.model.seq == rec.latest_state()["seq"]
    assert {s.id: s.waiting for s in view.services}["A"] == 2


def test_lost_event_from_the_real_hub_resyncs_to_its_state(
        hub: Any, make_bus: Callable[..., Bus], clock: OffsetClock) -> None:
    """Replay what the hub really sent, minus one event: gap, then the next state heals."""
    rec = Recorder(make_bus("recorder", "board"))
    c1 = make_bus("counter-1", "counter")
    disp = make_bus("dispenser-1", "dispenser")
    ok(c1.request("hub", {"op": "counter.open", "counter": "1"}, timeout=5))
    for _ in range(2):
        ok(disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5))
    ok(c1.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5))
    ok(c1.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5))
    rec.wait(lambda: rec.latest_state()["counters"]["1"]["serving"] == "A002")
    first_state = next(m for t, m in rec.messages if t == T.queue_state)
    later = rec.messages[rec.messages.index((T.queue_state, first_state)) + 1:]
    events = [m for t, m in later if t == T.queue_events]
    assert [e["seq"] for e in events] == list(range(events[0]["seq"], events[-1]["seq"] + 1))
    called = [e for e in events if e["type"] == "ticket.called"]
    lost = called[0]  # A001's call, and the state right after it, never reach the board
    model = BoardModel("demo")
    now = clock.now()
    model.set_broker(True)
    model.apply_state(first_state, now)
    announced = []
    for topic, msg in later:
        if msg is lost or (topic == T.queue_state and msg["seq"] == lost["seq"]):
            continue
        if topic == T.queue_events:
            announced += model.apply_event(msg, now)
            if msg["seq"] > lost["seq"]:
                assert model.resyncing and not model.view().online
        elif msg["seq"] >= lost["seq"]:
            announced += model.apply_state(msg, now)
            assert not model.resyncing
    final = rec.latest_state()
    assert model.seq == final["seq"]
    assert {c.id: c.serving for c in model.view().counters} == {
        cid: c["serving"] for cid, c in final["counters"].items()}
    assert model.view().online
    # A002's call came while in the gap; the state that healed it shows A002 serving and
    # the call is still announced (it is recent), once.
    assert [c.number for c in announced] == ["A002"]
    assert model.resyncs == 1


def test_broker_killed_shows_banner_then_clears_with_the_right_state(
        hub: Any, broker: MosquittoBroker, make_bus: Callable[..., Bus],
        board_factory: Callable[..., RunningBoard]) -> None:
    c1 = make_bus("counter-1", "counter")
    disp = make_bus("dispenser-1", "dispenser")
    ok(c1.request("hub", {"op": "counter.open", "counter": "1"}, timeout=5))
    ok(disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5))
    ok(disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5))
    ok(c1.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5))
    board = board_factory()
    before = board.shown.wait(lambda v: v.online and serving(v).get("1") == "A001")
    broker.kill()
    view = board.shown.wait(lambda v: not v.online)
    # the last known state stays, under the banner with the time of the last update
    assert serving(view)["1"] == "A001"
    assert banner_for(view, "queue") == ("Thông tin có thể chưa cập nhật",
                                       "Information may be out of date")
    assert before.last_update is not None
    assert view.last_update is not None and view.last_update >= before.last_update
    broker.start()
    view = board.shown.wait(lambda v: v.online, timeout=30)
    assert serving(view)["1"] == "A001"
    assert banner_for(view, "queue") is None
    # and it is live again, not just reconnected
    assert c1.wait_connected(20)
    ok(c1.request("hub", {"op": "counter.next", "counter": "1"}, timeout=10))
    board.shown.wait(lambda v: v.online and serving(v).get("1") == "A002", timeout=15)


def test_notice_from_an_allowed_unit_only(
        hub: Any, make_bus: Callable[..., Bus], board_factory: Callable[..., RunningBoard]
) -> None:
    board = board_factory()
    board.shown.wait(lambda v: v.online)
    make_bus("dispenser-1", "dispenser").publish(
        T.notice, {"v": 1, "text": "Không phải thông báo", "by": "dispenser-1"}, retain=True)
    deadline = time.monotonic() + 10
    while board.app.model.bad_messages < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert board.app.model.bad_messages == 1  # refused: not in notice_from
    make_bus("counter-1", "counter").publish(
        T.notice, {"v": 1, "text": "Chiều nay nghỉ từ 16 giờ", "by": "counter-1"},
        retain=True)
    view = board.shown.wait(lambda v: v.notice == "Chiều nay nghỉ từ 16 giờ")
    assert "Không phải" not in view.notice


def test_dossier_page_from_the_store_board_message(
        make_bus: Callable[..., Bus], board_factory: Callable[..., RunningBoard]) -> None:
    store = make_bus("store", "store")
    store.set_status("ready", reasons=[])
    store.publish("motcua/v1/demo/store/board", {
        "v": 1, "at": "2026-11-30T08:00:00+07:00",
        "ready": [{"code": "000.00.06.H56-261125-0012", "applicant": "Nguyễn V** A**",
                   "procedure": "Chứng thực bản sao", "counter": "1"}],
        "today": {"received": 4, "in_progress": 10, "returned_early": 1,
                  "returned_on_time": 2, "returned_late": 0, "overdue": 1},
        "month": {"received": 80, "in_progress": 10, "returned_early": 20,
                  "returned_on_time": 40, "returned_late": 3, "overdue": 1}}, retain=True)
    board = board_factory(mode="dossier")
    view = board.shown.wait(lambda v: v.dossier is not None and v.dossier_online)
    assert board.shown.page == "dossier"
    assert view.dossier is not None
    assert view.dossier.ready[0].applicant == "Nguyễn V** A**"
    assert view.dossier.month.returned_late == 3
    store.set_status("stopped", reasons=[])
    view = board.shown.wait(lambda v: not v.dossier_online)
    assert banner_for(view, "dossier") is not None
