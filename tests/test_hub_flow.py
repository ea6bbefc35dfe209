"""The hub through a real mosquitto: issue → call → finish, idempotency, permissions."""

from __future__ import annotations

import json
import threading
import uuid

from appliance.bus import Message
from appliance.contract import decode


def _collect(bus, topic_filter):
    got: list[dict] = []
    cond = threading.Condition()

    def on(msg: Message) -> None:
        with cond:
            got.append(decode(msg.payload))
            cond.notify_all()

    bus.subscribe(topic_filter, on)

    def wait_for(pred, timeout=5.0):
        with cond:
            assert cond.wait_for(lambda: any(pred(g) for g in got), timeout), got
            return next(g for g in got if pred(g))

    return got, wait_for


def test_issue_call_finish_round_trip(hub, make_bus):
    disp = make_bus("dispenser-1")
    ctr = make_bus("counter-1", role="counter")
    watch = make_bus("board-1", role="board")
    events, wait_event = _collect(watch, watch.topics.queue_events)

    r = disp.request("hub", {"op": "ticket.issue", "service": "A", "priority": False}, timeout=5)
    assert r["ok"] is True
    t = r["ticket"]
    assert t["number"] == "A001" and t["service"] == "A" and t["ahead"] == 0
    assert t["issued_at"].endswith("+07:00")
    assert t["service_name"] == "Chứng thực" and t["counters"] == ["1"]

    r2 = disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)
    assert r2["ticket"]["number"] == "A002" and r2["ticket"]["ahead"] == 1

    n = ctr.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5)
    assert n["ok"] and n["ticket"]["number"] == "A001"
    assert n["counter"]["serving"] == "A001" and n["counter"]["open"] is True
    called = wait_event(lambda e: e["type"] == "ticket.called")
    assert called["ticket"]["number"] == "A001" and called["counter"] == "1"

    f = ctr.request("hub", {"op": "counter.finish", "counter": "1"}, timeout=5)
    assert f["ok"] and f["counter"]["serving"] is None
    wait_event(lambda e: e["type"] == "ticket.finished")
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "seq must rise by one"

    # the retained state says what happened
    _states, wait_state = _collect(make_bus("board-2", role="board"), watch.topics.queue_state)
    s = wait_state(lambda s: True)
    assert s["services"]["A"]["waiting"] == ["A002"]
    assert s["counters"]["1"]["serving"] is None and s["seq"] == seqs[-1]


def test_empty_queue_answers_null_ticket(hub, make_bus):
    ctr = make_bus("counter-2", role="counter")
    r = ctr.request("hub", {"op": "counter.next", "counter": "2"}, timeout=5)
    assert r["ok"] is True and r["ticket"] is None


def test_duplicate_request_id_acts_once(hub, make_bus):
    disp = make_bus("dispenser-1")
    rid = uuid.uuid4().hex
    a = disp.request("hub", {"op": "ticket.issue", "service": "B"}, timeout=5, req_id=rid)
    b = disp.request("hub", {"op": "ticket.issue", "service": "B"}, timeout=5, req_id=rid)
    assert a == b
    c = disp.request("hub", {"op": "ticket.issue", "service": "B"}, timeout=5)
    assert c["ticket"]["number"] == "B002", "the duplicate must not have used a number"


def test_permissions(hub, make_bus):
    stranger = make_bus("intruder-9")
    r = stranger.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)
    assert r["ok"] is False and r["error"]["code"] == "unknown_unit"
    assert r["error"]["message"]  # a sentence a person can read
    ctr = make_bus("counter-1", role="counter")
    r = ctr.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)
    assert r["error"]["code"] == "forbidden"
    r = ctr.request("hub", {"op": "counter.next", "counter": "2"}, timeout=5)
    assert r["error"]["code"] == "forbidden", "counter-1 may not drive counter 2"
    disp = make_bus("dispenser-1")
    r = disp.request("hub", {"op": "counter.next", "counter": "1"}, timeout=5)
    assert r["error"]["code"] == "forbidden"


def test_malformed_and_oversized_payloads_get_errors_and_hub_survives(hub, make_bus):
    disp = make_bus("dispenser-1")
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    got: list[bytes] = []
    done = threading.Event()
    raw = make_bus("dispenser-raw")

    def on_raw(msg: Message) -> None:
        got.append(msg.payload)
        if len(got) >= 5:
            done.set()

    # the hub answers only on the sender's own response topic (a foreign one is refused)
    reply_topic = disp.topics.res("dispenser-1")
    raw.subscribe(reply_topic, on_raw)
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = reply_topic
    topic = disp.topics.req("dispenser-1")
    bad = [
        b"not json",
        b"\xff\xfe",
        json.dumps({"v": 2, "id": "x", "op": "ticket.issue"}).encode(),
        json.dumps({"v": 1, "id": "y", "op": "ticket.issue", "service": 7}).encode(),
        json.dumps({"v": 1, "id": "z", "op": "x" * 70000}).encode(),
    ]
    for payload in bad:
        raw._client.publish(topic, payload, qos=1, properties=props)
    assert done.wait(10), got
    codes = sorted(json.loads(p)["error"]["code"] for p in got)
    assert codes == ["bad_request", "malformed", "malformed", "too_large",
                     "unsupported_version"]
    detail = next(json.loads(p)["error"] for p in got if b"bad_request" in p)
    assert "service" in detail["detail"]
    # and the hub still works
    r = disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)
    assert r["ok"] is True


def test_storage_failure_answers_internal_and_says_alert(hub, make_bus):
    disp = make_bus("dispenser-1")
    assert disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)["ok"]
    statuses: list[dict] = []
    alert = threading.Event()

    def on_status(msg: Message) -> None:
        body = decode(msg.payload)
        statuses.append(body)
        if body["state"] == "alert":
            alert.set()

    watch = make_bus("board-1", role="board")
    watch.subscribe(watch.topics.status("hub"), on_status)
    hub.store.db.close()  # the disk is gone from under the hub
    r = disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)
    assert r["ok"] is False and r["error"]["code"] == "internal"
    assert alert.wait(5), statuses
    assert any("database" in reason for reason in statuses[-1]["reasons"])
    # it does not pretend: later requests are refused too, not answered from memory
    r = disp.request("hub", {"op": "ticket.issue", "service": "B"}, timeout=5)
    assert r["error"]["code"] == "internal"
