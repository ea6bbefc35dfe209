"""The hub's day records reach the store once each: store down then up, a lost
acknowledgement, duplicate and out-of-order deliveries, and a hub killed with -9 while it
ships (real Mosquitto, the real hub, the store's real MQTT service)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.childproc import tied_to_parent
from appliance.config import load_unit_config
from appliance.errors import NotConnected, RequestTimeout
from appliance.hub.bootstrap import build_hub
from appliance.store.service import StoreService
from tests.records_helpers import RunningStore, hub_tickets, outbox_size, wait_for

pytest_plugins = ["tests.pg"]


def _epoch(text: str | None) -> int | None:
    return int(datetime.fromisoformat(text).timestamp()) if text else None


def _same(store_rows: list[dict[str, Any]], hub_rows: dict[tuple[str, str], dict[str, Any]]
          ) -> None:
    """Every ticket of the hub is in the store once, in the state the hub has now."""
    keys = [(r["day"], r["number"]) for r in store_rows]
    assert len(keys) == len(set(keys)), "a ticket was stored twice"
    assert set(keys) == set(hub_rows)
    for r in store_rows:
        h = hub_rows[(r["day"], r["number"])]
        assert (r["state"], r["service"], r["counter"], r["officer"], r["calls"],
                r["rating"], bool(r["priority"]), r["origin"], r["category"]) == (
            h["state"], h["service"], h["counter"], h["officer"], h["calls"], h["rating"],
            bool(h["priority"]), h["origin"], h["category"]), r["number"]
        for col in ("issued_at", "first_called_at", "called_at", "finished_at"):
            assert r[col] == _epoch(h[col]), (r["number"], col)
        assert r["office"] == "000.00.06.G04" and r["site"] == "demo"


def _all(store: Any) -> list[dict[str, Any]]:
    return store.records.tickets(None, "2000-01-01", "2999-12-31")


def test_store_down_then_up(broker, demo_site, make_bus, clock, db_url, tmp_path):
    hub = build_hub(load_unit_config(demo_site / "hub.toml", broker_url=broker.url),
                    clock=clock)
    assert hub.shipper is not None
    hub.shipper.interval_s = 0.3
    hub.shipper.timeout_s = 0.5
    hub.shipper.alert_after_s = 0.5
    hub.start()
    assert hub.bus.wait_connected(10)  # subscribed before the first request
    running = RunningStore(broker, db_url, tmp_path)
    try:
        assert hub.bus.wait_connected(10)
        disp, ctr = make_bus("dispenser-1"), make_bus("counter-1", role="counter")
        for _ in range(5):
            assert disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)["ok"]
        ctr.request("hub", {"op": "counter.next", "counter": "1", "officer": "CB01"}, timeout=5)
        ctr.request("hub", {"op": "counter.next", "counter": "1", "officer": "CB01"}, timeout=5)
        ctr.request("hub", {"op": "rating.submit", "counter": "1", "number": "A001",
                            "rating": "satisfied"}, timeout=5)
        db = hub.store.path
        time.sleep(1.5)  # several rounds of the shipper with nobody answering
        assert outbox_size(db) == 6  # five tickets and the counter's opening, none lost
        assert hub.shipper.last_error and "did not answer" in hub.shipper.last_error
        # a store away that long is a fault shown in the hub's own status
        # (the hub refreshes its status every few seconds)
        wait_for(lambda: hub.bus.status.get("records_waiting") == 6
                 and any("day records not shipped" in r for r in hub.bus.status["reasons"]),
                 what="the hub's status to say so")
        assert hub.bus.status["state"] == "alert"
        store = running.start()
        wait_for(lambda: outbox_size(db) == 0, what="the outbox to drain")
        _same(_all(store), hub_tickets(db))
        wait_for(lambda: hub.bus.status["state"] == "ready", what="the alert to clear")
        events = store.records.counter_events(None, "2026-11-30", "2026-11-30")
        assert [(e["type"], e["counter"], e["officer"]) for e in events] == [
            ("counter.opened", "1", "CB01")]
        # later changes follow: the served ticket's new state replaces the stored one
        ctr.request("hub", {"op": "counter.close", "counter": "1"}, timeout=5)
        wait_for(lambda: outbox_size(db) == 0, what="the close to ship")
        _same(_all(store), hub_tickets(db))
        assert [e["type"] for e in store.records.counter_events(
            "000.00.06.G04", "2026-11-30", "2026-11-30")] == ["counter.opened",
                                                             "counter.closed"]
    finally:
        hub.stop()
        running.stop()


def test_priority_category_reaches_the_queue_report(broker, demo_site, make_bus, clock,
                                                    db_url, tmp_path):
    """A ticket's priority category (ticket.issue) is kept by the hub, shipped with its
    record and counted per category in the store's queue report (page table and XLSX)."""
    from io import BytesIO

    from openpyxl import load_workbook

    from appliance.store.reports.exports import xlsx_bytes
    from appliance.store.reports.load import build_report
    from appliance.store.reports.periods import period
    from appliance.store.reports.tables import report_tables

    hub = build_hub(load_unit_config(demo_site / "hub.toml", broker_url=broker.url),
                    clock=clock)
    assert hub.shipper is not None
    hub.shipper.interval_s = 0.3
    hub.start()
    assert hub.bus.wait_connected(10)
    running = RunningStore(broker, db_url, tmp_path)
    try:
        store = running.start()
        disp, ctr = make_bus("dispenser-1"), make_bus("counter-1", role="counter")
        asked = [("Người cao tuổi", 3), ("Phụ nữ mang thai", 2), ("Người khuyết tật", 1)]
        for category, n in asked:
            for _ in range(n):
                assert disp.request("hub", {"op": "ticket.issue", "service": "A",
                                            "priority": True, "category": category},
                                    timeout=5)["ok"]
        for _ in range(4):
            assert disp.request("hub", {"op": "ticket.issue", "service": "A"}, timeout=5)["ok"]
        # priority tickets are called first: some of them are served (the hub's rows say which)
        for _ in range(3):
            ctr.request("hub", {"op": "counter.next", "counter": "1", "officer": "CB01"},
                        timeout=5)
        ctr.request("hub", {"op": "counter.close", "counter": "1"}, timeout=5)
        db = hub.store.path
        wait_for(lambda: outbox_size(db) == 0, what="the outbox to drain")
        hub_rows = hub_tickets(db)
        _same(_all(store), hub_rows)
        served = {c: sum(1 for h in hub_rows.values()
                         if h["category"] == c and h["state"] == "finished") for c, _ in asked}
        assert sum(served.values()) >= 1
        rep = build_report(store.engine, store.calendar, None, period("day", "2026-11-30"),
                           now=clock.now())
        assert rep.queue.categories == sorted((c, n, served[c]) for c, n in asked)
        table = {t.key: t for t in report_tables(rep)}["priority"]
        assert [r[:3] for r in table.rows] == [
            *[[c, n, served[c]] for c, n in sorted(asked)], ["Total", 6, sum(served.values())]]
        assert table.rows[-1][3] == 60.0  # 6 of the 10 issued
        sheet = load_workbook(BytesIO(xlsx_bytes(rep, "Phường", clock.now())))[
            "Số ưu tiên theo đối tượng"[:31]]
        values = [[c.value for c in row] for row in sheet.iter_rows()]
        assert ["Đối tượng ưu tiên", "Số phát", "Đã phục vụ", "Tỷ lệ trong số phát (%)"] in [
            v[:4] for v in values]
        assert ["Người cao tuổi", 3, served["Người cao tuổi"]] in [v[:3] for v in values]
    finally:
        hub.stop()
        running.stop()


def test_lost_acknowledgement_stores_once(broker, demo_site, make_bus, clock, db_url,
                                          tmp_path, monkeypatch):
    running = RunningStore(broker, db_url, tmp_path)
    store = running.start()
    real_handle = StoreService.handle
    delayed: list[str] = []

    def slow_first(self: StoreService, topic: str, payload: bytes) -> dict[str, Any]:
        reply = real_handle(self, topic, payload)  # committed here...
        if b"records.put" in payload and not delayed:
            delayed.append(topic)
            time.sleep(3.0)  # ...but the answer comes after the hub gave up waiting
        return reply

    monkeypatch.setattr(StoreService, "handle", slow_first)
    hub = build_hub(load_unit_config(demo_site / "hub.toml", broker_url=broker.url),
                    clock=clock)
    assert hub.shipper is not None
    hub.shipper.interval_s, hub.shipper.timeout_s = 0.2, 1.0
    try:
        hub.start()
        assert hub.bus.wait_connected(10)  # subscribed before the first request
        disp = make_bus("dispenser-1")
        for _ in range(3):
            assert disp.request("hub", {"op": "ticket.issue", "service": "B"}, timeout=5)["ok"]
        wait_for(lambda: outbox_size(hub.store.path) == 0, what="the outbox to drain")
        assert delayed, "the first batch's answer was not held back"
        _same(_all(store), hub_tickets(hub.store.path))
    finally:
        hub.stop()
        running.stop()


def _put(tickets: list[dict[str, Any]], events: list[dict[str, Any]] | None = None
         ) -> dict[str, Any]:
    return {"op": "records.put", "tickets": tickets, "counter_events": events or []}


def _ticket(rev: int, state: str, **kw: Any) -> dict[str, Any]:
    return {"rev": rev, "day": "2026-11-30", "number": "A001", "service": "A",
            "priority": False, "state": state, "origin": "hub", "unit": "dispenser-1",
            "issued_at": "2026-11-30T08:00:05+07:00", "calls": 0, **kw}


def test_duplicates_and_late_old_versions(broker, make_bus, db_url, tmp_path):
    running = RunningStore(broker, db_url, tmp_path)
    store = running.start()
    try:
        hub = make_bus("hub", role="hub")  # speaks as the hub would, to send out of order
        served = _ticket(7, "finished", counter="1", officer="CB01", calls=1,
                         called_at="2026-11-30T08:03:00+07:00",
                         first_called_at="2026-11-30T08:03:00+07:00",
                         finished_at="2026-11-30T08:09:30+07:00", rating="very_satisfied")
        opened = {"seq": 3, "type": "counter.opened", "at": "2026-11-30T08:02:00+07:00",
                  "day": "2026-11-30", "counter": "1", "officer": "CB01"}
        for _ in range(3):  # the same batch three times (QoS 1 duplicates, retries)
            r = hub.request("store", _put([served], [opened]), timeout=5, req_id="same")
            assert r == {"v": 1, "id": "same", "ok": True, "stored": 2}
        # an older version arriving late changes nothing
        assert hub.request("store", _put([_ticket(2, "waiting")]), timeout=5)["ok"]
        rows = _all(store)
        assert len(rows) == 1
        assert (rows[0]["state"], rows[0]["rev"], rows[0]["rating"]) == (
            "finished", 7, "very_satisfied")
        assert rows[0]["finished_at"] - rows[0]["called_at"] == 390
        assert rows[0]["issued_hour"] == 8
        assert len(store.records.counter_events(None, "2026-11-30", "2026-11-30")) == 1
        # within one batch the later version wins too
        assert hub.request("store", _put([_ticket(9, "expired"), _ticket(8, "waiting")]),
                           timeout=5)["ok"]
        assert [r["state"] for r in _all(store)] == ["expired"]
        # bad input is refused whole, naming the field, and nothing is half-written
        bad = hub.request("store", _put([_ticket(10, "no_show"),
                                         _ticket(11, "x", issued_at="yesterday")]), timeout=5)
        assert not bad["ok"] and bad["error"]["code"] == "bad_request"
        assert "issued_at" in bad["error"]["detail"]
        assert [r["state"] for r in _all(store)] == ["expired"]
        missing = hub.request("store", {"op": "records.put", "tickets": [{"rev": 1}]},
                              timeout=5)
        assert missing["error"]["code"] == "bad_request" and "day" in missing["error"]["detail"]
    finally:
        running.stop()


def test_only_the_sites_hub_may_ship(broker, make_bus, db_url, tmp_path):
    running = RunningStore(broker, db_url, tmp_path)
    running.start()
    try:
        site = load_unit_config(Path(__file__).parent.parent / "firmware_config" / "examples"
                                / "demo-site" / "hub.toml").hub
        assert running.service is not None
        running.service.units = site.units if site else None
        disp = make_bus("dispenser-1")
        r = disp.request("store", _put([_ticket(1, "waiting")]), timeout=5)
        assert r["error"]["code"] == "forbidden"
        hub = make_bus("hub", role="hub")
        assert hub.request("store", _put([_ticket(1, "waiting")]), timeout=5)["ok"]
    finally:
        running.stop()


def _start_hub(site: Path, broker_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(tied_to_parent(
        [sys.executable, "-m", "appliance.cli", "hub", "--config", str(site / "hub.toml"),
         "--broker", broker_url]), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _issue(bus: Any, n: int) -> int:
    done = 0
    for i in range(n):
        try:
            if bus.request("hub", {"op": "ticket.issue", "service": "ABCD"[i % 4]},
                           timeout=2)["ok"]:
                done += 1
        except (RequestTimeout, NotConnected):
            time.sleep(0.2)
    return done


def test_hub_kill_9_while_shipping(broker, demo_site, make_bus, tmp_path):
    hub_toml = demo_site / "hub.toml"
    # the subprocess runs on the real clock: do not let the hour of the CI run matter
    hub_toml.write_text(hub_toml.read_text().replace("enforce = true", "enforce = false"))
    db = demo_site / "data" / "hub" / "hub.sqlite3"
    # one database is enough here: the store's side of both is tested above
    running = RunningStore(broker, f"sqlite:///{tmp_path}/store.sqlite3", tmp_path)
    store = running.start()
    proc = _start_hub(demo_site, broker.url)
    try:
        disp = make_bus("dispenser-1")
        wait_for(lambda: _issue(disp, 1) == 1, what="the hub to answer")
        wait_for(lambda: outbox_size(db) == 0, what="the first ticket to be shipped")
        # the store away while 150 tickets are issued: their records wait in the outbox, so
        # the kill below comes while the shipper is between its batches (of 100), however
        # fast or slow this machine is
        running.stop()
        _issue(disp, 150)
        wait_for(lambda: outbox_size(db) >= 150, what="the records to wait for the store")
        store = running.start()
        wait_for(lambda: outbox_size(db) < 150, timeout=60, what="shipping to begin")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc = _start_hub(demo_site, broker.url)
        wait_for(lambda: _issue(disp, 1) == 1, what="the restarted hub to answer")
        _issue(disp, 20)
        wait_for(lambda: outbox_size(db) == 0, timeout=60, what="the outbox to drain")
        _same(_all(store), hub_tickets(db))
        assert len(_all(store)) >= 170
    finally:
        proc.kill()
        proc.wait(10)
        running.stop()


def test_a_hub_database_from_before_the_category_keeps_working(tmp_path):
    """A hub file written before tickets had a category gets the column on open; its old
    tickets load without one and ship without the field; a new ticket keeps its own."""
    import sqlite3
    from datetime import date

    from appliance.core.model import Outcome, Ticket
    from appliance.hub.shipper import RecordShipper
    from appliance.hub.store import HubStore

    path = tmp_path / "hub.sqlite3"
    HubStore(path).close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE tickets DROP COLUMN category")  # as the file was before
    db.execute("INSERT INTO tickets VALUES ('2026-11-30', 'A001', 'A', 1, "
               "'2026-11-30T08:00:00+07:00', 'dispenser-1', 'hub', 'waiting', "
               "'2026-11-30T08:00:00+07:00', NULL, NULL, NULL, NULL, NULL, 0, NULL)")
    db.execute("INSERT INTO meta VALUES ('day', '2026-11-30')")
    db.commit()
    db.close()
    store = HubStore(path)
    st, _ = store.load()
    assert st.tickets["A001"].category is None and st.tickets["A001"].priority
    when = st.tickets["A001"].issued_at
    new = Ticket(day=date(2026, 11, 30), number="A002", service="A", priority=True,
                 issued_at=when, unit="lookup-1", category="Người cao tuổi")
    st.tickets[new.number] = new
    store.commit(st, [Outcome(tickets=[new])], [])
    assert HubStore(path).load()[0].tickets["A002"].category == "Người cao tuổi"
    shipper = RecordShipper(path, bus=None, batch=10)  # type: ignore[arg-type]
    _, body = shipper.pending()
    by = {t["number"]: t for t in body["tickets"]}
    assert "category" not in by["A001"] and by["A002"]["category"] == "Người cao tuổi"
    store.close()
