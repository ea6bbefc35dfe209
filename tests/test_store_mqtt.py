"""The store through a real mosquitto: lookups, search, catalogue, board, limits, bad input."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from appliance.broker import MosquittoBroker
from appliance.bus import Bus
from appliance.clock import ManualClock
from appliance.config.base import BrokerConfig
from appliance.config.store import StoreSection
from appliance.contract import decode
from appliance.errors import RequestTimeout
from appliance.store.core import Store, open_store
from appliance.store.models import DossierIn, StageMove
from appliance.store.service import StoreService

pytest_plugins = ["tests.pg"]


@pytest.fixture
def service(broker: MosquittoBroker, db_url: str, tmp_path: Path,
            store_clock: ManualClock) -> Iterator[StoreService]:
    # slow refill: the limit test must not depend on how fast this machine is
    settings = StoreSection(lookup_rate_per_s=0.05, lookup_burst=5, max_failed_lookups=8)
    store = open_store(settings, data_path=tmp_path / "d", base_dir=tmp_path,
                       clock=store_clock, url=db_url)
    bus = Bus(site="demo", unit="store", role="store", broker=BrokerConfig(url=broker.url),
              clock=store_clock, status_interval_s=3600)
    svc = StoreService(bus, store)
    svc.start()
    bus.start()
    assert bus.wait_connected(10)
    # a request to itself proves the broker has its subscription before any test asks
    for _ in range(20):
        try:
            if bus.request("store", {"op": "procedure.search", "q": ""}, timeout=0.5)["ok"]:
                break
        except RequestTimeout:
            continue
    try:
        yield svc
    finally:
        svc.stop()
        bus.stop()
        store.close()


def receive(store: Store, name: str = "Nguyễn Văn An") -> dict:
    return store.dossiers.create(DossierIn(procedure_code="1.001022", applicant_name=name,
                                           applicant_phone="0912345678"), "tn")


def test_lookup_end_to_end(service: StoreService, make_bus: Callable[..., Bus]) -> None:
    d = receive(service.store)
    service.store.dossiers.move_stage(d["code"], StageMove(stage="processing"), "x")
    kiosk = make_bus("lookup-1", "lookup")
    reply = kiosk.request("store", {"op": "dossier.lookup", "code": d["code"],
                                    "secret": d["secret"]}, timeout=5)
    assert reply["ok"] is True
    got = reply["dossier"]
    assert got["code"] == d["code"]
    assert got["procedure"] == {"code": "1.001022", "name": "Đăng ký nhận cha, mẹ, con"}
    assert got["applicant"] == "Nguyễn V** A**"
    assert got["stage"] == "processing" and got["stage_label"] == "Đang giải quyết"
    assert got["due_at"] == "2026-12-03T09:00:00+07:00" and got["status"] == "on_time"
    assert got["ready"] is False and got["pickup_counter"] is None
    assert [h["stage"] for h in got["history"]] == ["received", "processing"]
    assert set(got["history"][0]) == {"at", "stage", "stage_label", "note"}
    assert "0912345678" not in json.dumps(got) and d["secret"] not in json.dumps(got)
    by_scan = kiosk.request("store", {"op": "dossier.lookup",
                                      "scan": f"{d['code']}/{d['secret']}"}, timeout=5)
    assert by_scan["ok"] and by_scan["dossier"]["code"] == d["code"]


def test_wrong_secret_and_unknown_code_get_the_same_answer(
        service: StoreService, make_bus: Callable[..., Bus]) -> None:
    d = receive(service.store)
    kiosk = make_bus("lookup-1", "lookup")
    wrong = "A" * 6 if d["secret"] != "A" * 6 else "B" * 6
    a = kiosk.request("store", {"op": "dossier.lookup", "code": d["code"], "secret": wrong},
                      timeout=5, req_id="same")
    b = kiosk.request("store", {"op": "dossier.lookup", "code": "000.00.06.G04-261130-0777",
                                "secret": d["secret"]}, timeout=5, req_id="same")
    assert a == b
    assert a["ok"] is False and a["error"]["code"] == "not_found"
    assert "hồ sơ" in a["error"]["message"]


def test_guessing_is_rate_limited_per_unit(service: StoreService,
                                           make_bus: Callable[..., Bus]) -> None:
    d = receive(service.store)
    kiosk, other = make_bus("lookup-1", "lookup"), make_bus("lookup-2", "lookup")
    codes = []
    for i in range(8):
        r = kiosk.request("store", {"op": "dossier.lookup", "code": d["code"],
                                    "secret": f"AAAA{i + 2}A"}, timeout=5)
        codes.append(r["error"]["code"])
    assert codes[:5] == ["not_found"] * 5
    assert codes[5:] == ["rate_limited"] * 3
    # even the right secret is refused while the unit is limited; other units are not
    r = kiosk.request("store", {"op": "dossier.lookup", "code": d["code"],
                                "secret": d["secret"]}, timeout=5)
    assert r["error"]["code"] == "rate_limited"
    r = other.request("store", {"op": "dossier.lookup", "code": d["code"],
                                "secret": d["secret"]}, timeout=5)
    assert r["ok"] is True


def test_failed_lookups_lock_out_a_unit(service: StoreService) -> None:
    topic = service.bus.topics.req("lookup-9", "store")
    for i in range(8):
        service.limiter._buckets.pop("lookup-9", None)  # refill: only the failure count acts
        r = service.handle(topic, json.dumps({"v": 1, "id": f"r{i}", "op": "dossier.lookup",
                                              "code": "000.00.06.G04-261130-0777",
                                              "secret": "ABCDEF"}).encode())
        assert r["error"]["code"] == "not_found"
    service.limiter._buckets.pop("lookup-9", None)
    r = service.handle(topic, b'{"v":1,"id":"x","op":"dossier.lookup","code":"A1234",'
                              b'"secret":"ABCDEF"}')
    assert r["error"]["code"] == "rate_limited"


def test_search_get_and_catalogue(service: StoreService, make_bus: Callable[..., Bus]) -> None:
    kiosk = make_bus("lookup-1", "lookup")
    r = kiosk.request("store", {"op": "procedure.search", "q": "chung thuc", "sector": None,
                                "limit": 20}, timeout=5)
    assert r["ok"] and r["total"] >= 5
    assert all(set(p) == {"code", "name", "sector", "processing_days", "fee"}
               for p in r["procedures"])
    assert any(p["sector"] == "Chứng thực" for p in r["procedures"])
    r = kiosk.request("store", {"op": "procedure.search", "q": "ho tich", "limit": 3},
                      timeout=5)
    assert r["total"] > 3 and len(r["procedures"]) == 3
    r = kiosk.request("store", {"op": "procedure.get", "code": "2.000635"}, timeout=5)
    assert r["procedure"]["name"] == "Cấp bản sao Trích lục hộ tịch"
    assert r["procedure"]["documents"][0]["name"]
    r = kiosk.request("store", {"op": "procedure.get", "code": "9.9"}, timeout=5)
    assert r["error"]["code"] == "not_found"
    got: list[dict] = []
    offset: int | None = 0
    version = None
    while offset is not None:
        page = kiosk.request("store", {"op": "procedure.catalogue", "offset": offset,
                                       "limit": 100}, timeout=5)
        assert page["ok"] and len(json.dumps(page, ensure_ascii=False).encode()) < 64 * 1024
        version = version or page["version"]
        assert page["version"] == version
        got.extend(page["procedures"])
        offset = page["next_offset"]
    assert len(got) == page["total"] == service.store.catalogue.count


def test_retained_catalogue_and_board(service: StoreService, broker: MosquittoBroker,
                                      make_bus: Callable[..., Bus]) -> None:
    seen: dict[str, list[dict]] = {"catalogue": [], "board": []}
    arrived = threading.Event()

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        seen[m.topic.rsplit("/", 1)[1]].append(decode(bytes(m.payload)))
        arrived.set()

    d = receive(service.store, "Lê Thị Hoa")
    service.store.dossiers.move_stage(d["code"], StageMove(stage="processing"), "x")
    service.store.dossiers.move_stage(d["code"], StageMove(stage="ready", pickup_counter="2"),
                                      "x")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.connect("127.0.0.1", broker.port)
    client.subscribe("motcua/v1/demo/store/#")
    client.loop_start()
    try:
        for _ in range(100):
            arrived.wait(0.1)
            arrived.clear()
            if seen["board"] and seen["board"][-1]["ready"] and seen["catalogue"]:
                break
        cat = seen["catalogue"][-1]
        assert cat["count"] == service.store.catalogue.count
        assert cat["version"] == service.store.catalogue.version
        board = seen["board"][-1]
        assert board["ready"] == [{"code": d["code"], "applicant": "Lê T** H**",
                                   "procedure": "Đăng ký nhận cha, mẹ, con", "counter": "2"}]
        assert board["today"]["received"] == 1 and board["today"]["returned_early"] == 1
        kiosk = make_bus("board-1", "board")
        r = kiosk.request("store", {"op": "dossier.board"}, timeout=5)
        assert r["ok"] and r["ready"] == board["ready"] and r["today"] == board["today"]
    finally:
        client.loop_stop()
        client.disconnect()


@pytest.mark.parametrize(("payload", "code"), [
    (b"not json", "malformed"),
    (b'{"v":2,"id":"a","op":"procedure.get"}', "unsupported_version"),
    (b'{"v":1,"op":"procedure.get","code":"1"}', "bad_request"),
    (b'{"v":1,"id":"a","op":"dossier.delete"}', "unknown_op"),
    (b'{"v":1,"id":"a","op":"procedure.search","q":5}', "bad_request"),
    (b'{"v":1,"id":"a","op":"procedure.search","q":"x","limit":1000}', "bad_request"),
    (b'{"v":1,"id":"a","op":"procedure.catalogue","offset":-1}', "bad_request"),
    (b'{"v":1,"id":"a","op":"dossier.lookup","code":["x"],"secret":"ABCDEF"}', "bad_request"),
])
def test_malformed_requests_get_a_named_error(service: StoreService, payload: bytes,
                                              code: str) -> None:
    r = service.handle(service.bus.topics.req("lookup-1", "store"), payload)
    assert r["ok"] is False and r["error"]["code"] == code
    assert r["error"]["message"]


def test_an_import_republishes_the_catalogue(service: StoreService, broker: MosquittoBroker,
                                             make_bus: Callable[..., Bus]) -> None:
    from appliance.store.models import ProcedureIn
    from appliance.store.transfer import import_procedures

    before = service.store.catalogue.version
    count = service.store.catalogue.count
    import_procedures(service.store.engine, [ProcedureIn(
        code="9.000001", name="Xác nhận thông tin cư trú", sector="Cư trú",
        processing_days=2)])
    service.store.catalogue.invalidate()
    got: list[dict] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = lambda c, u, m: got.append(decode(bytes(m.payload)))
    client.connect("127.0.0.1", broker.port)
    client.subscribe("motcua/v1/demo/store/catalogue")
    client.loop_start()
    try:
        for _ in range(100):
            if got and got[-1]["version"] != before:
                break
            threading.Event().wait(0.1)
        assert got[-1]["count"] == count + 1 and got[-1]["version"] != before
    finally:
        client.loop_stop()
        client.disconnect()
    kiosk = make_bus("lookup-1", "lookup")
    r = kiosk.request("store", {"op": "procedure.search", "q": "cu tru"}, timeout=5)
    assert [p["code"] for p in r["procedures"]] == ["9.000001"]


def test_a_database_fault_is_loud_and_heals(service: StoreService) -> None:
    from sqlalchemy import text

    d = receive(service.store)
    body = json.dumps({"v": 1, "id": "x", "op": "dossier.lookup", "code": d["code"],
                       "secret": d["secret"]}).encode()
    topic = service.bus.topics.req("lookup-1", "store")
    with service.store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE dossier_history RENAME TO dossier_history_gone"))
    try:
        r = service.handle(topic, body)
        assert r["error"]["code"] == "internal"
        assert service.bus.status["state"] == "alert"
        assert service.bus.status["reasons"][0].startswith("database")
    finally:
        with service.store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE dossier_history_gone RENAME TO dossier_history"))
    assert service.handle(topic, body)["ok"] is True
    assert service.bus.status["state"] == "ready"
