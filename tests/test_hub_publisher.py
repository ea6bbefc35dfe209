"""The coalesced retained state: one picture per batch when idle, at most N a second under
load, never ahead of the events, never lost; and a board that counts past the bounded list."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import Any

from appliance.board.state import BoardModel
from appliance.bus import Message
from appliance.clock import VN_TZ, ManualClock, rfc3339
from appliance.contract import Topics, decode
from appliance.core.engine import QueueEngine
from appliance.core.snapshot import WAITING_LISTED, queue_state
from appliance.hub.publisher import RetainedPublisher
from tests.test_engine import SITE

T = Topics("demo")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ)


class RecordingBus:
    """Only what the publisher uses of a Bus: its topics and publish, recorded in order."""

    def __init__(self) -> None:
        self.topics = T
        self.sent: list[tuple[str, dict[str, Any], bool, int]] = []

    def publish(self, topic: str, obj: dict[str, Any], *, retain: bool = False,
                qos: int = 1) -> None:
        self.sent.append((topic, obj, retain, qos))

    def states(self) -> list[dict[str, Any]]:
        return [obj for topic, obj, _, _ in self.sent if topic == T.queue_state]


class Setup:
    def __init__(self, rate: float = 10.0, burst: int = 2) -> None:
        self.engine = QueueEngine(SITE)
        self.bus = RecordingBus()
        self.t = 0.0
        self.now = NOW
        self.pub = RetainedPublisher(self.bus, lambda: self.engine,  # type: ignore[arg-type]
                                     ManualClock(NOW), rate_per_s=rate, burst=burst,
                                     monotonic=lambda: self.t)
        self.n = 0

    def issue(self) -> None:
        self.n += 1
        self.now += timedelta(seconds=1)
        out = self.engine.handle("dispenser-1", {"v": 1, "id": f"i{self.n}",
                                                 "op": "ticket.issue", "service": "A"}, self.now)
        assert out.error is None
        self.pub.changed(c.id for c in out.counters)


def test_idle_hub_publishes_after_every_batch() -> None:
    s = Setup()
    for _ in range(5):  # five batches in the same instant, each with nothing behind it
        s.issue()
        assert s.pub.flush(idle=True)
    assert [st["seq"] for st in s.bus.states()] == [1, 2, 3, 4, 5]
    assert not s.pub.pending and not s.pub.flush(idle=True), "nothing new: nothing sent"


def test_under_load_at_most_rate_per_second_and_the_last_one_is_never_lost() -> None:
    s = Setup(rate=10.0, burst=2)
    for _ in range(600):  # 0.6 simulated seconds of batches every millisecond
        s.issue()
        s.pub.flush(idle=False)
        s.t += 0.001
    sent = len(s.bus.states())
    assert 2 + 5 <= sent <= 2 + 6, sent  # the burst, then the rate
    assert s.pub.pending, "the newest change waits for a token"
    assert s.pub.flush(idle=True), "the hub going idle sends it at once"
    assert s.bus.states()[-1]["seq"] == 600
    assert s.bus.states()[-1]["services"]["A"]["waiting_count"] == 600
    seqs = [st["seq"] for st in s.bus.states()]
    assert seqs == sorted(seqs)


def test_a_pending_picture_goes_with_the_next_token() -> None:
    s = Setup(rate=10.0, burst=1)
    s.issue()
    assert s.pub.flush(idle=False)
    s.issue()
    assert not s.pub.flush(idle=False)
    s.t += 0.05
    assert not s.pub.flush(idle=False)
    s.t += 0.06  # 0.11 s: a token again
    assert s.pub.flush(idle=False)
    assert [st["seq"] for st in s.bus.states()] == [1, 2]


def test_counters_are_coalesced_and_reconnect_sends_everything_at_qos1() -> None:
    s = Setup(burst=1)
    for c, op in (("1", "open"), ("2", "open"), ("1", "close")):
        s.n += 1
        s.now += timedelta(seconds=1)
        out = s.engine.handle(f"counter-{c}", {"v": 1, "id": f"o{s.n}", "op": f"counter.{op}",
                                               "counter": c}, s.now)
        s.pub.changed(x.id for x in out.counters)
        s.pub.flush(idle=False)
    topics = [t for t, *_ in s.bus.sent]
    assert topics == [T.queue_state, T.counter_state("1")]  # the first batch, then a wait
    s.pub.flush(idle=True)
    assert [t for t, *_ in s.bus.sent][2:] == [T.queue_state, T.counter_state("1"),
                                               T.counter_state("2")]
    assert all(qos == 0 and retain for _, _, retain, qos in s.bus.sent)
    s.bus.sent.clear()
    s.pub.publish_all()
    assert {t for t, *_ in s.bus.sent} == {T.queue_state, *(T.counter_state(c.id)
                                                             for c in SITE.counters)}
    assert all(qos == 1 and retain for _, _, retain, qos in s.bus.sent)


def test_queue_state_lists_the_first_numbers_and_counts_them_all() -> None:
    s = Setup()
    for _ in range(WAITING_LISTED + 30):
        s.issue()
    a = queue_state(s.engine, s.now)["services"]["A"]
    assert a["waiting"] == [f"A{i:03d}" for i in range(1, WAITING_LISTED + 1)]
    assert a["waiting_count"] == WAITING_LISTED + 30 and a["priority_count"] == 0
    assert len(json.dumps(queue_state(s.engine, s.now))) < 4000


def test_board_counts_the_waiting_it_is_not_listed() -> None:
    m = BoardModel("demo")
    m.set_broker(True)
    state: dict[str, Any] = {"v": 1, "seq": 10, "day": "2026-11-30", "at": rfc3339(NOW),
             "services": {"A": {"name": "Chứng thực", "waiting": ["A001", "A002"],
                                "waiting_count": 120, "est_wait_s": 600}},
             "counters": {"1": {"name": "Quầy 1", "open": True, "serving": None}}}
    m.handle(T.queue_state, json.dumps(state).encode(), NOW)
    assert m.view().services[0].waiting == 120
    called = {"v": 1, "seq": 11, "type": "ticket.called", "at": rfc3339(NOW), "counter": "1",
              "ticket": {"number": "A001", "service": "A", "state": "serving"}}
    m.handle(T.queue_events, json.dumps(called).encode(), NOW)
    assert m.view().services[0].waiting == 119
    issued = {"v": 1, "seq": 12, "type": "ticket.issued", "at": rfc3339(NOW),
              "ticket": {"number": "A121", "service": "A", "state": "waiting"}}
    m.handle(T.queue_events, json.dumps(issued).encode(), NOW)
    assert m.view().services[0].waiting == 120
    state["services"]["A"].pop("waiting_count")  # a hub from before the count: the list
    state["seq"] = 13
    m.handle(T.queue_state, json.dumps(state).encode(), NOW)
    assert m.view().services[0].waiting == 2


def test_live_hub_state_never_ahead_of_events_and_current_at_the_end(hub, make_bus) -> None:
    watch = make_bus("board-1", role="board")
    seen: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()

    def on(m: Message) -> None:
        with lock:
            seen.append((m.topic, decode(m.payload)))

    watch.subscribe(T.queue_events, on)
    watch.subscribe(T.queue_state, on)
    clients = [make_bus("dispenser-1") for _ in range(4)]

    def work(bus: Any) -> None:
        for _ in range(25):
            assert bus.request("hub", {"op": "ticket.issue", "service": "B"}, timeout=10)["ok"]

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    late = make_bus("board-2", role="board")
    got: list[dict[str, Any]] = []
    arrived = threading.Event()

    def on_late(m: Message) -> None:
        got.append(decode(m.payload))
        arrived.set()

    late.subscribe(T.queue_state, on_late)
    assert arrived.wait(5)
    assert got[-1]["seq"] == 100 and got[-1]["services"]["B"]["waiting_count"] == 100
    with lock:
        events = [m["seq"] for t, m in seen if t == T.queue_events]
        assert events == list(range(events[0], events[0] + len(events)))
        top = 0
        for topic, m in seen:
            if topic == T.queue_events:
                top = max(top, m["seq"])
            else:
                assert m["seq"] <= top or m["seq"] == 0, "a state ahead of its events"
