"""A bus that runs its own network (the hub's way, appliance/bus_loop.py), against a real
mosquitto: requests answered, packets from another thread and from inside a corked block
delivered in order, and a broker that goes away and comes back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from appliance.broker import MosquittoBroker
from appliance.bus import Bus, Message
from appliance.config.base import BrokerConfig
from appliance.contract import decode, ok_reply


class Driven:
    """A Bus started with network_thread=False, its loop_step run by a thread of ours."""

    def __init__(self, url: str) -> None:
        self.bus = Bus(site="demo", unit="hub", role="hub", broker=BrokerConfig(url=url),
                       status_interval_s=3600)
        self._stop = threading.Event()
        self.bus.start(network_thread=False)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.bus.loop_step(0.2)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.bus.stop()


@pytest.fixture
def driven(broker: MosquittoBroker) -> Iterator[Driven]:
    d = Driven(broker.url)
    assert d.bus.wait_connected(10)
    yield d
    d.close()


def _collect(make_bus, topic: str) -> tuple[list[int], threading.Event, int]:
    watcher = make_bus("watcher", role="board")
    got: list[int] = []
    done = threading.Event()
    want = 50

    def on(m: Message) -> None:
        got.append(decode(m.payload)["i"])
        if len(got) >= want:
            done.set()

    watcher.subscribe(topic, on)
    return got, done, want


def test_self_driven_bus_answers_requests(driven: Driven, make_bus) -> None:
    driven.bus.subscribe(driven.bus.topics.req_filter("hub"),
                         lambda m: driven.bus.reply(m, ok_reply(decode(m.payload)["id"])))
    client = make_bus("dispenser-1")
    for _ in range(20):
        assert client.request("hub", {"op": "ping"}, timeout=5)["ok"] is True


def test_publishing_from_another_thread_reaches_the_broker(driven: Driven, make_bus) -> None:
    # the heartbeat's way: not the thread that runs the network, while it waits in select
    got, done, want = _collect(make_bus, "motcua/v1/demo/test/side")
    for i in range(want):
        driven.bus.publish("motcua/v1/demo/test/side", {"v": 1, "i": i})
    assert done.wait(5), f"only {len(got)} of {want} arrived"
    assert got == list(range(want))


def test_what_is_published_corked_arrives_whole_and_in_order(driven: Driven,
                                                             make_bus) -> None:
    got, done, want = _collect(make_bus, "motcua/v1/demo/test/corked")
    with driven.bus.corked():
        for i in range(want):
            driven.bus.publish("motcua/v1/demo/test/corked", {"v": 1, "i": i}, qos=0)
    assert done.wait(5), f"only {len(got)} of {want} arrived after the block"
    assert got == list(range(want))


def test_corked_without_a_connection_is_harmless(broker: MosquittoBroker) -> None:
    bus = Bus(site="demo", unit="hub", role="hub", broker=BrokerConfig(url=broker.url))
    with bus.corked():  # never connected: no socket to hold back
        pass


def test_self_driven_bus_comes_back_after_the_broker_restarts(tmp_path) -> None:
    first = MosquittoBroker(workdir=tmp_path / "m1").start()
    port = int(first.url.rsplit(":", 1)[1])
    d = Driven(first.url)
    try:
        assert d.bus.wait_connected(10)
        first.stop()
        deadline = time.monotonic() + 10
        while d.bus.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not d.bus.connected, "the bus did not notice the broker going away"
        second = MosquittoBroker(workdir=tmp_path / "m2", port=port).start()
        try:
            assert d.bus.wait_connected(15), "the bus did not reconnect"
        finally:
            d.close()
            second.stop()
    finally:
        first.stop()
