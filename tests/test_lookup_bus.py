"""The kiosk on a real mosquitto: against the real store, a store that is away, the cache."""

from __future__ import annotations

import json
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pygame
import pytest

from appliance.broker import MosquittoBroker
from appliance.bus import Bus, Message
from appliance.config import parse_unit_config
from appliance.contract import decode, ok_reply
from appliance.lookup import sample
from appliance.lookup.bootstrap import LookupUnit, build_lookup
from appliance.lookup.service import catalogue_topic
from appliance.lookup.state import NOT_FOUND, UNAVAILABLE, Screen, Tap, Target, TypeText
from appliance.store.bootstrap import StoreUnit, build_store
from appliance.store.models import DossierIn, StageMove
from tests.waiting import poll


def _config(site: Path, name: str, broker: MosquittoBroker, data: Path,
            **section: Any) -> Any:
    path = site / f"{name}.toml"
    raw = tomllib.loads(path.read_text("utf-8"))
    role = raw["role"]
    raw[role] = {**raw.get(role, {}), **section}
    return parse_unit_config(raw, source=path, broker_url=broker.url, data_dir=data)


@pytest.fixture
def kiosk_factory(demo_site: Path, broker: MosquittoBroker,
                  tmp_path: Path) -> Iterator[Callable[..., LookupUnit]]:
    made: list[LookupUnit] = []
    pygame.init()

    def make(**section: Any) -> LookupUnit:
        cfg = _config(demo_site, "lookup-1", broker, tmp_path / "lookup-data", **section)
        unit = build_lookup(cfg, surface=pygame.Surface((1280, 800)))
        unit.start()
        assert unit.bus.wait_connected(10)
        made.append(unit)
        return unit

    yield make
    for unit in made:
        unit.stop()


@pytest.fixture
def store(demo_site: Path, broker: MosquittoBroker, tmp_path: Path) -> Iterator[StoreUnit]:
    cfg = _config(demo_site, "store", broker, tmp_path / "store-data")
    unit = build_store(cfg, http=False)
    unit.start()
    assert unit.bus.wait_connected(10)
    yield unit
    unit.stop()


class StatusWatch:
    """The kiosk's latest retained status, as the office's monitor sees it."""

    def __init__(self, bus: Bus, unit: str = "lookup-1") -> None:
        self.latest: dict[str, Any] = {}
        self._got = threading.Event()
        bus.subscribe(bus.topics.status(unit), self._on)

    def _on(self, msg: Message) -> None:
        self.latest = decode(msg.payload)
        self._got.set()

    def __call__(self) -> dict[str, Any]:
        assert self._got.wait(5), "no status from the kiosk"
        return self.latest


@pytest.fixture
def status(make_bus: Callable[..., Bus]) -> StatusWatch:
    return StatusWatch(make_bus("monitor", "board"))


def _wait(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    return poll(cond, timeout)


def test_lookup_against_a_real_mosquitto_and_store(store: StoreUnit, kiosk_factory,
                                                   status: StatusWatch) -> None:
    d = store.store.dossiers.create(
        DossierIn(procedure_code="1.001022", applicant_name="Nguyễn Văn An"), "tn")
    store.store.dossiers.move_stage(d["code"], StageMove(stage="processing"), "tn")
    kiosk = kiosk_factory()
    app = kiosk.app
    # the catalogue arrives from the store and is cached on disk
    assert app.run_until(lambda s: not s.catalogue.empty, 15), "catalogue never arrived"
    assert len(app.state.catalogue.procedures) == store.store.catalogue.count
    assert (kiosk.config.data_path / "catalogue.json").exists()
    # a scan of the receipt shows the dossier
    app.scan(f"{d['code']}/{d['secret']}")
    assert app.run_until(lambda s: s.screen is Screen.DOSSIER_RESULT, 10), app.state.error
    shown = app.state.dossier
    assert shown is not None and shown["code"] == d["code"]
    assert shown["applicant"] == "Nguyễn V** A**" and shown["stage"] == "processing"
    # typing a wrong secret gets the same "not found" as an unknown code
    app.post(Tap(Target("dossier")))
    app.post(TypeText(d["code"] + "\n" + ("A" * 6 if d["secret"] != "A" * 6 else "B" * 6)
                      + "\n"))
    assert app.run_until(lambda s: s.screen is Screen.ERROR, 10)
    assert app.state.error == NOT_FOUND
    assert _wait(lambda: status().get("state") == "ready"), status()
    assert status()["procedures"] == store.store.catalogue.count


def test_store_away_says_ask_at_the_counter_and_raises_alert(kiosk_factory, make_bus,
                                                             status: StatusWatch) -> None:
    kiosk = kiosk_factory(lookup_timeout_s=0.5)
    app = kiosk.app
    app.scan(f"{sample.DOSSIER['code']}/{sample.DOSSIER_SECRET}")
    assert app.run_until(lambda s: s.screen is Screen.ERROR, 5)
    assert app.state.error == UNAVAILABLE
    assert _wait(lambda: "store_no_answer" in status().get("reasons", []))
    assert status()["state"] == "alert"
    assert "catalogue_missing" in status()["reasons"]  # a fresh kiosk with no store at all
    # the alert stays until the store really answers again, then clears by itself
    kiosk.sync.probe_s = 0.3
    tiny = TinyStore(make_bus("store", "store"), sample.PROCEDURES, "v1")
    tiny.announce()
    assert _wait(lambda: status().get("state") == "ready", 15), status()
    assert status()["reasons"] == []


class TinyStore:
    """A store stand-in on the real broker that serves the catalogue in pages."""

    def __init__(self, bus: Bus, procedures: list[dict[str, Any]], version: str) -> None:
        self.bus, self.procedures, self.version = bus, procedures, version
        self.pages = 0
        bus.subscribe(bus.topics.req_filter("store"), self._on)

    def announce(self) -> None:
        self.bus.publish(catalogue_topic("demo"), {"v": 1, "version": self.version,
                                                   "count": len(self.procedures), "at": "x"},
                         retain=True)

    def _on(self, msg: Message) -> None:
        req = decode(msg.payload)
        assert req["op"] == "procedure.catalogue"
        self.pages += 1
        off, lim = req["offset"], req["limit"]
        self.bus.reply(msg, ok_reply(req["id"], version=self.version,
                                     total=len(self.procedures),
                                     procedures=self.procedures[off:off + lim]))


def test_catalogue_refreshes_only_when_the_version_changes(kiosk_factory, make_bus) -> None:
    tiny = TinyStore(make_bus("store", "store"), sample.PROCEDURES[:7], "v1")
    tiny.announce()
    kiosk = kiosk_factory(page_size=5)
    app = kiosk.app
    assert app.run_until(lambda s: s.catalogue.version == "v1", 10)
    assert len(app.state.catalogue.procedures) == 7 and tiny.pages == 2
    tiny.announce()  # same version again: nothing fetched
    time.sleep(0.5)
    assert tiny.pages == 2
    tiny.procedures, tiny.version = sample.PROCEDURES, "v2"
    tiny.announce()
    assert app.run_until(lambda s: s.catalogue.version == "v2", 10)
    assert len(app.state.catalogue.procedures) == len(sample.PROCEDURES)
    cached = json.loads((kiosk.config.data_path / "catalogue.json").read_text("utf-8"))
    assert cached["version"] == "v2" and len(cached["procedures"]) == len(sample.PROCEDURES)
    # a garbage announcement changes nothing
    tiny.bus._client.publish(catalogue_topic("demo"), b"not json", retain=True)
    time.sleep(0.3)
    assert app.state.catalogue.version == "v2"


def test_offline_browse_and_search_with_no_broker_at_all(demo_site: Path, tmp_path: Path,
                                                         broker: MosquittoBroker,
                                                         make_bus) -> None:
    pygame.init()
    data = tmp_path / "kiosk"
    tiny = TinyStore(make_bus("store", "store"), sample.PROCEDURES, "v1")
    tiny.announce()
    cfg = _config(demo_site, "lookup-1", broker, data)
    first = build_lookup(cfg, surface=pygame.Surface((1280, 800)))
    first.start()
    try:
        assert first.app.run_until(lambda s: s.catalogue.version == "v1", 10)
    finally:
        first.stop()
    broker.stop()
    again = build_lookup(cfg, surface=pygame.Surface((1280, 800)))
    again.start()
    try:
        app = again.app
        assert app.state.catalogue.version == "v1"
        app.post(Tap(Target("procedures")))
        app.post(Tap(Target("sector", "Hộ tịch")))
        assert app.run_until(lambda s: s.screen is Screen.PROCEDURES
                             and len(s.in_sector()) == 3, 2)
        app.post(Tap(Target("search")))
        app.post(TypeText("ddawng kys khai sinh"))
        assert app.run_until(lambda s: bool(s.results), 2)
        assert app.state.results[0]["name"] == "Đăng ký khai sinh"
    finally:
        again.stop()


def test_scanner_unplugged_is_an_alert_and_a_replug_clears_it(demo_site: Path, tmp_path: Path,
                                                              broker: MosquittoBroker,
                                                              status: StatusWatch) -> None:
    from drivers.evdev_fake import FakeUsbPort

    pygame.init()
    port = FakeUsbPort(name="Fake scanner", plugged=False)
    cfg = _config(demo_site, "lookup-1", broker, tmp_path / "k",
                  scanner={"kind": "hid", "device": port.path})
    unit = build_lookup(cfg, surface=pygame.Surface((1280, 800)), scanner_opener=port.open)
    unit.start()
    try:
        assert unit.bus.wait_connected(10)
        assert _wait(lambda: "scanner_unplugged" in status().get("reasons", []))
        port.plug()
        assert _wait(lambda: "scanner_unplugged" not in status().get("reasons", []))
        port.type_text(f"{sample.DOSSIER['code']}/{sample.DOSSIER_SECRET}\n")
        # the scan reaches the kiosk; no store here, so the honest answer is "unavailable"
        assert unit.app.run_until(lambda s: s.screen is Screen.DOSSIER_WAIT, 5)
    finally:
        unit.stop()
