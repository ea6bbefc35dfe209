"""A worker that dies anyway takes its process down (so systemd restarts it), and a bug
in reading one message costs that message only, shown in the status."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.broker import MosquittoBroker
from appliance.bus import Bus, Message
from appliance.clock import ManualClock, OffsetClock
from appliance.config import load_unit_config
from appliance.config.base import BrokerConfig
from appliance.config.store import StoreSection
from appliance.hub.bootstrap import Hub, build_hub
from appliance.store.core import open_store
from appliance.store.service import _STOP, StoreService
from tests.conftest import OPENING
from tests.waiting import poll


@pytest.fixture
def hub_offline(broker: MosquittoBroker, demo_site: Path, clock: OffsetClock) -> Iterator[Hub]:
    fatal: list[str] = []
    config = load_unit_config(demo_site / "hub.toml", broker_url=broker.url)
    hub = build_hub(config, clock=clock, on_fatal=fatal.append)
    hub.fatal = fatal  # type: ignore[attr-defined]
    yield hub
    hub.store.close()


def test_a_dying_hub_worker_ends_the_process(hub_offline: Hub,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> None:
        raise MemoryError("out of memory")  # not an Exception: nothing catches it

    monkeypatch.setattr(hub_offline.service, "_loop", boom)
    with pytest.raises(MemoryError):
        hub_offline.service._run()
    assert hub_offline.fatal == ["hub worker died: MemoryError: out of memory"]  # type: ignore[attr-defined]


def test_a_bug_reading_one_message_costs_that_message(hub_offline: Hub,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    hub = hub_offline
    topics = hub.service.topics
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(hub.bus, "reply", lambda msg, obj: seen.append(obj))
    real = topics.unit_of

    def unit_of(topic: str) -> tuple[str, str] | None:
        if "counter-2" in topic:
            raise RuntimeError("injected bug")
        return real(topic)

    monkeypatch.setattr(topics, "unit_of", unit_of)

    def msg(unit: str, rid: str, body: dict[str, Any]) -> Message:
        return Message(topics.req(unit), json.dumps({"v": 1, "id": rid, **body}).encode(),
                       False, topics.res(unit), rid.encode())

    hub.service._process([
        msg("dispenser-1", "a", {"op": "ticket.issue", "service": "A"}),
        msg("counter-2", "b", {"op": "counter.open", "counter": "2"}),
        msg("dispenser-1", "c", {"op": "ticket.issue", "service": "A"}),
    ])
    assert [r["ticket"]["number"] for r in seen] == ["A001", "A002"]
    assert hub.bus.status["state"] == "alert"
    assert any("injected bug" in r for r in hub.bus.status["reasons"])


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dying_store_worker_ends_the_process(broker: MosquittoBroker, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    clock = ManualClock(OPENING)
    store = open_store(StoreSection(workers=1), data_path=tmp_path / "s", base_dir=tmp_path,
                       clock=clock)
    bus = Bus(site="demo", unit="store", role="store", broker=BrokerConfig(url=broker.url),
              clock=clock, status_interval_s=3600)
    fatal: list[str] = []
    died = threading.Event()

    def on_fatal(reason: str) -> None:
        fatal.append(reason)
        died.set()

    svc = StoreService(bus, store, on_fatal=on_fatal)
    bus.start()
    svc.start()
    try:
        assert bus.wait_connected(10)

        def explode(topic: str, payload: bytes) -> dict[str, Any]:
            if payload == b"fatal":
                raise SystemExit("a worker must not end quietly")
            raise ValueError("an ordinary bug")

        monkeypatch.setattr(svc, "handle", explode)
        m = Message(bus.topics.req("lookup-1", "store"), b"x", False,
                    bus.topics.res("lookup-1"), b"c")
        svc._queue.put(m)  # an ordinary bug: logged, shown, the worker goes on
        svc._queue.put(Message(m.topic, b"fatal", False, m.response_topic, b"d"))
        assert died.wait(10)
        assert fatal and "store worker died" in fatal[0]
        assert poll(lambda: svc.workers_alive == 0, 5)
        assert any("an ordinary bug" in r for r in bus.status["reasons"])
    finally:
        svc._queue.put(_STOP)
        svc.stop()
        bus.stop()
        store.close()
