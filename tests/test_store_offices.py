"""Many offices, one store (SQLite and PostgreSQL): each office's procedures in use, its
counters, its own board figures on its own site's retained topic; every JSON API change
audited in the change's transaction; sessions that outlive a restart of the store."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from appliance.broker import MosquittoBroker
from appliance.bus import Bus
from appliance.clock import ManualClock
from appliance.config.base import BrokerConfig
from appliance.config.store import StoreSection
from appliance.store.api import create_app
from appliance.store.core import Store, open_store
from appliance.store.models import DossierIn, StageMove
from appliance.store.schema import audit, dossiers
from appliance.store.service import StoreService
from tests.desk_helpers import OTHER, PASSWORD, add_accounts, csrf_of, log_in

pytest_plugins = ["tests.pg"]


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    add_accounts(store)
    store.users.set_user("tong", "admin", password=PASSWORD, full_name="Quản Trị Tỉnh")
    with TestClient(create_app(store)) as c:
        yield c


def receive(client: TestClient, csrf: str, procedure: str = "1.001193") -> Any:
    return client.post("/receive", data={
        "csrf": csrf, "procedure_code": procedure, "applicant_name": "Trần Văn Bình",
        "applicant_id": "001203004567", "channel": "counter", "sets": "1",
        "return_method": "counter"})


def save_office(client: TestClient, csrf: str, **fields: str) -> Any:
    data = {"csrf": csrf, "code": OTHER, "name": "Trung tâm Phục vụ hành chính công xã Khác",
            "agency_name": "UBND xã Khác", "place": "Xã Khác", "site": "", "procedures": "",
            "counters": "", **fields}
    return client.post("/admin/offices", data=data)


def test_each_office_uses_its_own_procedures_and_counters(client: TestClient,
                                                          store: Store) -> None:
    # the store's admin sets the other office up: two procedures, two counters
    csrf = log_in(client, "tong")
    r = save_office(client, csrf, procedures="1.001193 1.001022",
                    counters="1 Quầy 1 - Tư pháp\n2 Quầy 2 - Đất đai")
    assert r.status_code == 200 and r.url.path == "/admin/offices", r.text
    assert store.offices.procedures(OTHER) == frozenset({"1.001193", "1.001022"})
    assert store.offices.counters(OTHER) == [("1", "Quầy 1 - Tư pháp"), ("2", "Quầy 2 - Đất đai")]
    assert "Quầy 2 - Đất đai" in client.get("/admin/offices").text
    bad = save_office(client, csrf, procedures="9.999999")
    assert bad.status_code == 422 and "9.999999" in bad.text
    client.cookies.clear()

    # the other office's officer: only its procedures are offered and accepted
    csrf = log_in(client, "khac")
    page = client.get("/receive", params={"q": "kết hôn"}).text
    assert "/receive?procedure=" not in page  # marriage is not one of this office's
    assert "/receive?procedure=1.001193" in client.get("/receive", params={"q": "khai sinh"}).text
    refused = receive(client, csrf, "1.000894")
    assert refused.status_code == 422 and "không giải quyết thủ tục 1.000894" in refused.text
    r = receive(client, csrf)
    assert r.url.path.startswith(f"/dossiers/{OTHER}-")
    code = r.url.path.split("/")[-1]
    for action in ("handover",):
        client.post(f"/dossiers/{code}/act", data={"csrf": csrf, "action": action,
                                                   "to_user": "khac"})
    page = client.get(f"/dossiers/{code}").text
    assert '<select name="counter">' in page and "Quầy 2 - Đất đai" in page
    r = client.post(f"/dossiers/{code}/act", data={"csrf": csrf, "action": "ready",
                                                   "counter": "7"})
    assert r.status_code == 422 and "Quầy «7» không thuộc cơ quan này" in r.text
    r = client.post(f"/dossiers/{code}/act", data={"csrf": csrf, "action": "ready",
                                                   "counter": "2"})
    assert r.status_code == 200
    d = store.dossiers.get(code)
    assert d is not None and (d["stage"], d["pickup_counter"]) == ("ready", "2")
    # the JSON API refuses a procedure the office does not use as well
    token = client.post("/api/v1/auth/token", data={"username": "khac",
                                                    "password": PASSWORD}).json()
    r = client.post("/api/v1/dossiers", headers={"Authorization": f"Bearer "
                                                 f"{token['access_token']}"},
                    json={"procedure_code": "1.000894", "applicant_name": "Âu Văn Api"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_request"
    client.cookies.clear()

    # the first office lists none: the whole catalogue, any counter name
    csrf = log_in(client, "tiepnhan")
    assert receive(client, csrf, "1.000894").url.path.startswith("/dossiers/")


def test_an_office_admin_edits_only_their_own_office(client: TestClient, store: Store) -> None:
    csrf = log_in(client, "quantri")  # an admin of the first office
    r = save_office(client, csrf, procedures="1.001193")
    assert r.status_code == 403
    assert store.offices.procedures(OTHER) is None
    page = client.get("/admin/offices").text
    assert store.settings.agency_code in page and OTHER not in page
    r = save_office(client, csrf, code=store.settings.agency_code, name="Bộ phận Một cửa Mẫu",
                    counters="A Quầy A")
    assert r.status_code == 200
    assert store.offices.counters(store.settings.agency_code) == [("A", "Quầy A")]
    with store.engine.connect() as conn:
        rows = conn.execute(select(audit.c.action, audit.c.target)
                            .where(audit.c.action == "set_office")).all()
    assert [tuple(x) for x in rows] == [("set_office", store.settings.agency_code)]


def _retained(port: int, topics: list[str], want: int) -> dict[str, dict[str, Any]]:
    """The retained messages on ``topics`` as a fresh subscriber sees them."""
    seen: dict[str, dict[str, Any]] = {}
    done = threading.Event()

    def on_message(c: Any, u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.payload:
            seen[msg.topic] = json.loads(msg.payload)
        if len(seen) >= want:
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    for t in topics:
        client.subscribe(t)
    client.loop_start()
    try:
        done.wait(10)
    finally:
        client.loop_stop()
        client.disconnect()
    return seen


def test_each_site_board_shows_only_its_office(broker: MosquittoBroker, db_url: str,
                                               tmp_path: Path,
                                               store_clock: ManualClock) -> None:
    store = open_store(StoreSection(), data_path=tmp_path / "d", base_dir=tmp_path,
                       clock=store_clock, url=db_url)
    store.offices.put(OTHER, "Trung tâm xã Khác", "UBND xã Khác", "Xã Khác", site="xa-khac")
    bus = Bus(site="demo", unit="store", role="store", broker=BrokerConfig(url=broker.url),
              clock=store_clock, status_interval_s=3600)
    svc = StoreService(bus, store)
    try:
        for office, name in ((None, "Nguyễn Văn An"), (OTHER, "Hồ Văn Hai"),
                             (OTHER, "Hồ Văn Ba")):
            d = store.dossiers.create(DossierIn(procedure_code="1.001022", applicant_name=name),
                                      "tn", office)
        store.dossiers.move_stage(d["code"], StageMove(stage="processing"), "x")
        store.dossiers.move_stage(d["code"], StageMove(stage="ready", pickup_counter="2"), "x")
        bus.start()
        assert bus.wait_connected(10)
        svc.publish_board()
        boards = _retained(broker.port, ["motcua/v1/demo/store/board",
                                         "motcua/v1/xa-khac/store/board"], 2)
        own, other = boards["motcua/v1/demo/store/board"], boards["motcua/v1/xa-khac/store/board"]
        assert (own["today"]["received"], other["today"]["received"]) == (1, 2)
        assert own["ready"] == [] and [r["code"] for r in other["ready"]] == [d["code"]]
        # this site's units asking the store get their own office's figures
        reply = svc.handle(bus.topics.req("board-1", "store"),
                           b'{"v":1,"id":"b1","op":"dossier.board"}')
        assert reply["ok"] and reply["today"]["received"] == 1
        # the other office now shows on this site instead: the boards follow
        store.offices.put(OTHER, "Trung tâm xã Khác", "UBND xã Khác", "Xã Khác", site="demo")
        svc.publish_board()
        boards = _retained(broker.port, ["motcua/v1/demo/store/board"], 1)
        assert boards["motcua/v1/demo/store/board"]["today"]["received"] == 2
    finally:
        bus.stop()
        store.close()


def test_procedure_search_over_mqtt_offers_the_sites_procedures(
        db_url: str, tmp_path: Path, store_clock: ManualClock) -> None:
    store = open_store(StoreSection(), data_path=tmp_path / "d", base_dir=tmp_path,
                       clock=store_clock, url=db_url)
    bus = Bus(site="demo", unit="store", role="store",
              broker=BrokerConfig(url="mqtt://127.0.0.1:1"), clock=store_clock)
    svc = StoreService(bus, store)
    try:
        store.offices.set_procedures(store.settings.agency_code, ["1.001193"])
        reply = svc.handle(bus.topics.req("counter-1", "store"),
                           b'{"v":1,"id":"s1","op":"procedure.search","q":""}')
        assert reply["ok"] and [p["code"] for p in reply["procedures"]] == ["1.001193"]
    finally:
        store.close()


def test_a_json_api_change_and_its_audit_row_land_together(
        client: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    token = client.post("/api/v1/auth/token", data={"username": "tiepnhan",
                                                    "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    ok = client.post("/api/v1/dossiers", headers=auth, json={
        "procedure_code": "1.001193", "applicant_name": "Âu Văn Api"})
    assert ok.status_code == 201
    code = ok.json()["dossier"]["code"]
    client.patch(f"/api/v1/dossiers/{code}", headers=auth, json={"applicant_phone": "0912"})
    with store.engine.connect() as conn:
        actions = conn.execute(select(audit.c.action).where(audit.c.target == code)
                               .order_by(audit.c.id)).scalars().all()
        before = conn.execute(select(func.count()).select_from(dossiers)).scalar_one()
    assert actions == ["receive", "update"]

    from appliance.store import audit as audit_module

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the audit log's disk is full")

    monkeypatch.setattr(audit_module, "record", broken)
    with TestClient(create_app(store), raise_server_exceptions=False) as c2:
        r = c2.post("/api/v1/dossiers", headers=auth, json={
            "procedure_code": "1.001193", "applicant_name": "Không Được Ghi"})
        assert r.status_code == 500
        r = c2.post(f"/api/v1/dossiers/{code}/stage", headers=auth,
                    json={"stage": "processing"})
        assert r.status_code == 500
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(dossiers)).scalar_one() == before
    d = store.dossiers.get(code)
    assert d is not None and d["stage"] == "received"  # no change without its audit row


def test_a_session_survives_a_restart_of_the_store(db_url: str, tmp_path: Path,
                                                   store_clock: ManualClock) -> None:
    def opened() -> Store:
        return open_store(StoreSection(), data_path=tmp_path / "d", base_dir=tmp_path,
                          clock=store_clock, url=db_url)

    first = opened()
    add_accounts(first)
    with TestClient(create_app(first)) as c:
        log_in(c, "tiepnhan")
        form_csrf = csrf_of(c.get("/receive").text)  # a form opened before the restart
        cookies = dict(c.cookies)
    first.close()
    second = opened()
    try:
        with TestClient(create_app(second), cookies=cookies) as c:
            page = c.get("/worklist")
            assert page.status_code == 200 and page.url.path == "/worklist"
            r = c.post("/receive", data={"csrf": form_csrf, "procedure_code": "1.001193",
                                         "applicant_name": "Sau Khởi Động",
                                         "return_method": "counter", "channel": "counter"})
            assert r.status_code == 200 and r.url.path.startswith("/dossiers/"), r.text
            # logging out ends the session in the database too
            c.post("/logout", data={"csrf": csrf_of(page.text)})
        with TestClient(create_app(second), cookies=cookies) as c:
            assert c.get("/worklist").url.path == "/login"
    finally:
        second.close()
