"""The shared MQTT client against a real mosquitto."""

from __future__ import annotations

import threading

import pytest

from appliance.bus import Message
from appliance.contract import decode, ok_reply
from appliance.errors import NotConnected, RequestTimeout


def test_request_reply_round_trip(make_bus):
    server = make_bus("hub", role="hub")
    client = make_bus("dispenser-1")

    def echo(msg: Message) -> None:
        req = decode(msg.payload)
        server.reply(msg, ok_reply(req["id"], echo=req["op"]))

    server.subscribe(server.topics.req_filter("hub"), echo)
    reply = client.request("hub", {"op": "ping"}, timeout=5)
    assert reply["ok"] is True and reply["echo"] == "ping"


def test_request_without_answer_times_out(make_bus):
    client = make_bus("dispenser-1")
    with pytest.raises(RequestTimeout):
        client.request("hub", {"op": "ping"}, timeout=0.3)


def test_last_will_says_lost_when_broker_connection_dies(broker, make_bus):
    watcher = make_bus("watcher", role="board")
    seen: list[dict] = []
    got_lost = threading.Event()

    def on_status(msg: Message) -> None:
        body = decode(msg.payload)
        seen.append(body)
        if body["unit"] == "victim" and body["state"] == "lost":
            got_lost.set()

    watcher.subscribe(watcher.topics.status_filter(), on_status)
    victim = make_bus("victim")
    victim.set_status("ready")
    # drop the TCP connection without DISCONNECT, as a power cut would
    victim._client.socket().close()
    assert got_lost.wait(40), f"no last will seen; got {seen}"


def test_request_when_disconnected_fails_fast(broker, make_bus):
    client = make_bus("dispenser-1")
    broker.stop()
    for _ in range(100):
        if not client.connected:
            break
        threading.Event().wait(0.05)
    with pytest.raises(NotConnected):
        client.request("hub", {"op": "ping"}, timeout=5)


@pytest.mark.parametrize(
    ("flt", "topic", "expected"),
    [
        ("a/b", "a/b", True),
        ("a/+/c", "a/x/c", True),
        ("a/+/c", "a/x/y/c", False),
        ("a/#", "a/x/y", True),
        ("a/#", "a", True),  # '#' also matches the parent level
        ("a/+", "a", False),
        ("motcua/v1/+/unit/+/req/hub", "motcua/v1/demo/unit/counter-1/req/hub", True),
        ("motcua/v1/+/unit/+/req/hub", "motcua/v1/demo/unit/counter-1/req/store", False),
    ],
)
def test_topic_matching_agrees_with_paho(flt, topic, expected):
    import paho.mqtt.client as mqtt

    from appliance.bus import topic_matches

    assert topic_matches(flt, topic) is expected
    assert mqtt.topic_matches_sub(flt, topic) is expected
