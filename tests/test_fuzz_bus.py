"""Thousands of hostile requests to the hub and the store through a real Mosquitto: after
them both still answer correctly, say honestly how they are, kept their memory in bound,
published nothing where they should not, and every worker thread is alive."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from appliance.broker import MosquittoBroker
from appliance.bus import Bus, Message
from appliance.clock import ManualClock, OffsetClock
from appliance.config import load_unit_config
from appliance.config.base import BrokerConfig
from appliance.config.store import StoreSection
from appliance.contract import ERRORS, Reply, parse
from appliance.hub.bootstrap import Hub, build_hub
from appliance.store.core import open_store
from appliance.store.service import StoreService
from tests.conftest import OPENING
from tests.fuzz_cases import SITE, Case, cases
from tests.waiting import poll

N_CASES = 2500  # per target
# Growth of this test process's resident memory over a whole fuzz run: the hub or store
# keeps nothing of a refused message, so what grows is allocator slack, not data.
RSS_BOUND_MB = 60


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class Raw:
    """A bare MQTT 5 client that sends whatever it is given and records what it hears."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.heard: list[tuple[str, bytes, bool]] = []
        # only replies are kept whole: the fuzz payloads themselves would swell this
        # process's memory, which the test measures
        self.c.on_message = lambda c, u, m: self.heard.append(
            (m.topic, bytes(m.payload) if "/res" in m.topic else bytes(m.payload[:1]),
             bool(m.retain)))
        connected = threading.Event()
        self.c.on_connect = lambda *a: connected.set()
        self.c.max_inflight_messages_set(200)
        self.c.max_queued_messages_set(0)
        self.c.connect("127.0.0.1", broker.port)
        self.c.loop_start()
        assert connected.wait(5)

    @staticmethod
    def props(case: Case) -> Properties:
        props = Properties(PacketTypes.PUBLISH)
        if case.response_topic is not None:
            props.ResponseTopic = case.response_topic
            props.CorrelationData = b"fuzz"
        return props

    def send(self, case: Case) -> mqtt.MQTTMessageInfo:
        return self.c.publish(case.topic, case.payload, qos=1, retain=case.retain,
                              properties=self.props(case))

    def listen(self, topic_filter: str) -> None:
        result, _ = self.c.subscribe(topic_filter, qos=1)
        assert result == mqtt.MQTT_ERR_SUCCESS
        time.sleep(0.2)

    def close(self) -> None:
        self.c.disconnect()  # first: the network thread then ends at once
        self.c.loop_stop()


Heard = list[tuple[str, bytes, bool]]


def fire(broker: MosquittoBroker, target: str) -> tuple[Counter[str], Heard]:
    """Send the cases; return how many of each kind, and what the spy heard."""
    spy = Raw(broker)
    spy.listen(f"{SITE}/#")
    sender = Raw(broker)
    kinds: Counter[str] = Counter()
    sent: list[mqtt.MQTTMessageInfo] = []
    try:
        for case in cases(target, N_CASES):
            kinds[case.kind] += 1
            if "\0" in (case.response_topic or ""):
                # the broker itself drops a client that sends a NUL in a topic property
                once = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
                once.connect("127.0.0.1", broker.port)
                once.publish(case.topic, case.payload, qos=0, properties=Raw.props(case))
                for _ in range(3):
                    once.loop(0.02)
                once.disconnect()
                continue
            sent.append(sender.send(case))
        for info in sent:
            info.wait_for_publish(30)
        # let the last replies arrive: until nothing new is heard for a second (a loaded
        # machine answers a few thousand requests in more than a fixed second)
        end, last, quiet_since = time.monotonic() + 60, -1, time.monotonic()
        while time.monotonic() < end and time.monotonic() - quiet_since < 1.0:
            if len(spy.heard) != last:
                last, quiet_since = len(spy.heard), time.monotonic()
            time.sleep(0.1)
    finally:
        sender.close()
        spy.close()
    return kinds, spy.heard


def check_heard(heard: Heard, allowed_publishers: set[str]) -> int:
    """Every reply went to a unit's own res topic and reads as a contract Reply; nothing
    appeared on a topic a fuzz case named as its ResponseTopic. Returns replies counted."""
    replies = 0
    for topic, payload, _ in heard:
        if "/res" in topic:
            assert topic.endswith("/res") and topic.count("/") == 5, topic
            reply = parse(Reply, payload)
            assert reply.ok is False and reply.code in ERRORS, payload[:200]
            replies += 1
        else:
            assert topic.rsplit("/", 1)[-1] in allowed_publishers or "/req/" in topic, topic
    return replies


def no_retained_requests(broker: MosquittoBroker) -> bool:
    probe = Raw(broker)
    try:
        probe.listen(f"{SITE}/unit/+/req/#")
        time.sleep(0.5)
        return not [h for h in probe.heard if h[2] and h[1]]
    finally:
        probe.close()


def test_hub_survives_thousands_of_hostile_requests(broker: MosquittoBroker, demo_site: Path,
                                                    clock: OffsetClock,
                                                    make_bus: Callable[..., Bus]) -> None:
    config = load_unit_config(demo_site / "hub.toml", broker_url=broker.url)
    hub = build_hub(config, clock=clock)
    hub.start()
    assert hub.bus.wait_connected(10)
    seq_before = hub.service.engine.state.seq
    rss_before = rss_mb()
    try:
        kinds, heard = fire(broker, "hub")
        replies = check_heard(heard, {"state", "info", "units", "events", "status"})
        rss_growth = rss_mb() - rss_before
        print(f"\nhub fuzz: {sum(kinds.values())} cases {dict(kinds)}; {replies} error "
              f"replies; refused {hub.service.refused}; RSS +{rss_growth:.1f} MB")
        assert hub.service.alive, "the hub's worker died"
        assert rss_growth < RSS_BOUND_MB
        assert replies > N_CASES // 4
        # nothing hostile was acted on: no ticket, no event
        assert hub.service.engine.state.seq == seq_before
        assert hub.service.refused >= kinds["foreign_reply"] + kinds["wildcard_reply"] // 2
        assert len(hub.service._replies) <= len(config.hub.units) * 1000  # type: ignore[union-attr]
    finally:
        hub.stop()
    # a restarted hub meets the retained leftovers: ignores and clears them, and works
    again: Hub = build_hub(config, clock=clock)
    again.start()
    try:
        assert again.bus.wait_connected(10)
        disp = make_bus("dispenser-1")
        r = disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)
        assert r["ok"] and r["ticket"]["number"] == "A001", r
        assert poll(lambda: no_retained_requests(broker), 10)
        assert again.service.alive
        assert poll(lambda: again.bus.status.get("state") == "ready", 10), again.bus.status
        assert not any("fault" in r for r in again.bus.status.get("reasons", []))
    finally:
        again.stop()


@pytest.fixture
def store_service(broker: MosquittoBroker, demo_site: Path,
                  tmp_path: Path) -> Iterator[StoreService]:
    site = load_unit_config(demo_site / "hub.toml").hub
    assert site is not None
    clock = ManualClock(OPENING)
    store = open_store(StoreSection(lookup_burst=1000, lookup_rate_per_s=1000,
                                    max_failed_lookups=100000),
                       data_path=tmp_path / "store", base_dir=tmp_path, clock=clock)
    bus = Bus(site="demo", unit="store", role="store", broker=BrokerConfig(url=broker.url),
              clock=clock, status_interval_s=3600)
    svc = StoreService(bus, store, units=site.units)
    svc.start()
    bus.start()
    try:
        assert bus.wait_connected(10)
        yield svc
    finally:
        for close in (svc.stop, bus.stop, store.close):  # in this order
            close()


def test_store_survives_thousands_of_hostile_requests(store_service: StoreService,
                                                      broker: MosquittoBroker,
                                                      make_bus: Callable[..., Bus]) -> None:
    from appliance.store.models import DossierIn

    svc = store_service
    d = svc.store.dossiers.create(DossierIn(procedure_code="1.001022",
                                            applicant_name="Nguyễn Văn An",
                                            applicant_phone="0912345678"), "tn")
    rss_before = rss_mb()
    kinds, heard = fire(broker, "store")
    replies = check_heard(heard, {"status", "catalogue", "board"})
    rss_growth = rss_mb() - rss_before
    print(f"\nstore fuzz: {sum(kinds.values())} cases {dict(kinds)}; {replies} error "
          f"replies; refused {svc.refused}; RSS +{rss_growth:.1f} MB")
    assert svc.workers_alive == svc.store.settings.workers
    assert rss_growth < RSS_BOUND_MB
    assert replies > N_CASES // 4
    assert svc.refused >= kinds["foreign_reply"] + kinds["wildcard_reply"] // 2
    assert poll(lambda: no_retained_requests(broker), 10)
    # a valid lookup is answered correctly; a unit the site file does not know is not
    kiosk = make_bus("lookup-1", "lookup")
    r = kiosk.request("store", {"op": "dossier.lookup", "code": d["code"],
                                "secret": d["secret"]}, timeout=5)
    assert r["ok"] and r["dossier"]["code"] == d["code"], r
    ghost = make_bus("ghost-9", "lookup")
    r = ghost.request("store", {"op": "procedure.search", "q": ""}, timeout=5)
    assert r["error"]["code"] == "unknown_unit"
    disp = make_bus("dispenser-1")
    r = disp.request("store", {"op": "dossier.lookup", "code": d["code"],
                               "secret": d["secret"]}, timeout=5)
    assert r["error"]["code"] == "forbidden"
    assert svc.bus.status["state"] == "ready", svc.bus.status
    statuses: list[dict] = []
    got = threading.Event()

    def on(msg: Message) -> None:
        statuses.append(json.loads(msg.payload))
        got.set()

    kiosk.subscribe(kiosk.topics.status("store"), on)
    assert got.wait(5) and statuses[-1]["state"] == "ready", statuses
