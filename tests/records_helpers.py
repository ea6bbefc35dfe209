"""A store listening for the hub's day records, and ways to wait for them, for the tests
of appliance/hub/shipper.py, appliance/store/records.py and the reports."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.broker import MosquittoBroker
from appliance.bus import Bus
from appliance.clock import Clock, SystemClock
from appliance.config.base import BrokerConfig
from appliance.config.store import StoreSection
from appliance.errors import RequestTimeout
from appliance.store.core import Store, open_store
from appliance.store.service import StoreService


class RunningStore:
    """The store's real MQTT service over its own database, started and stopped at will
    (the database stays: a store that is down keeps what it had)."""

    def __init__(self, broker: MosquittoBroker, url: str, tmp: Path,
                 clock: Clock | None = None) -> None:
        self.broker, self.url, self.tmp = broker, url, tmp
        self.clock = clock or SystemClock()
        self.store: Store | None = None
        self.service: StoreService | None = None
        self.bus: Bus | None = None

    def start(self) -> Store:
        self.store = open_store(StoreSection(), data_path=self.tmp / "store-data",
                                base_dir=self.tmp, clock=self.clock, url=self.url)
        self.bus = Bus(site="demo", unit="store", role="store",
                       broker=BrokerConfig(url=self.broker.url), clock=self.clock,
                       status_interval_s=3600)
        self.service = StoreService(self.bus, self.store)
        self.service.start()
        self.bus.start()
        assert self.bus.wait_connected(10)
        for _ in range(20):  # the broker has the subscription once a request to itself works
            try:
                if self.bus.request("store", {"op": "procedure.search", "q": ""},
                                    timeout=0.5)["ok"]:
                    break
            except RequestTimeout:
                continue
        return self.store

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
        if self.bus is not None:
            self.bus.stop()
        if self.store is not None:
            self.store.close()
        self.service = self.bus = self.store = None


def hub_tickets(db_path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The hub's own ticket rows, read from its file (as the hub committed them)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return {(r["day"], r["number"]): dict(r) for r in db.execute("SELECT * FROM tickets")}
    finally:
        db.close()


def outbox_size(db_path: Path) -> int:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT COUNT(*) FROM ship_outbox").fetchone()[0])
    finally:
        db.close()


def wait_for(cond: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or cond}")
