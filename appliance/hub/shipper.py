"""The hub's day records to the store: read from the outbox, sent, forgotten once stored.

The outbox (``ship_outbox`` in the hub's database, filled by triggers in the same
transaction as the change) holds one row per ticket changed and one per counter opening or
closing. This thread sends them, oldest first, as ``records.put`` requests to the store
(docs/protocol.md), and deletes a row only when the store's reply says the batch is
committed there — and only if the row was not replaced by a newer version meanwhile
(a replaced row has a new id, so it goes in the next batch). A store that is down, a lost
reply or a hub restart leave the rows in place: they are sent again, and the store's upsert
(latest ``rev`` wins) keeps each record once.

It has its own SQLite connection (WAL lets it read beside the worker) and never blocks the
worker: it only publishes and waits for the reply, which the worker's network loop delivers.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from appliance.bus import Bus
from appliance.errors import MotcuaError
from appliance.i18n import tr
from appliance.logbudget import LogBudget

log = logging.getLogger(__name__)
_budget = LogBudget(log)
BATCH = 100  # about 35 kB a request, well under the contract's 64 kB
INTERVAL_S = 5.0  # a look at the outbox this often while nothing is left to send
TIMEOUT_S = 5.0
ALERT_AFTER_S = 3600.0  # records waiting longer than this make the hub's status an alert
_TICKET_COLS = ("day", "number", "service", "priority", "state", "origin", "unit",
                "issued_at", "first_called_at", "called_at", "finished_at", "counter",
                "officer", "calls", "rating", "category")


class RecordShipper:
    def __init__(self, db_path: Path, bus: Bus, *, target: str = "store", batch: int = BATCH,
                 interval_s: float = INTERVAL_S, timeout_s: float = TIMEOUT_S) -> None:
        self._db = sqlite3.connect(str(db_path), isolation_level=None,
                                   check_same_thread=False, timeout=10.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self.bus = bus
        self.target = target
        self.batch = batch
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.shipped = 0  # records the store has acknowledged since start
        self.last_error: str | None = None
        self.waiting = 0  # outbox rows at the last look (read by the hub's status)
        self.alert_after_s = ALERT_AFTER_S
        self._stuck_since: float | None = None  # monotonic: when shipping began to fail
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-shipper", daemon=True)

    def start(self) -> None:
        self.bus.on_connection(lambda up: self._wake.set() if up else None)
        self._thread.start()

    def stop(self) -> None:
        """Stop without waiting for a request in flight (its rows stay in the outbox: they
        go again after the restart); the thread closes its connection as it ends."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)
        else:
            self._db.close()

    def wake(self) -> None:
        self._wake.set()

    def status(self) -> tuple[list[str], dict[str, Any]]:
        """(alert reasons, status fields) for the hub's status: records the store has not
        had for ``alert_after_s`` are a fault a person must see (the store is down)."""
        reasons = []
        since = self._stuck_since
        if since is not None and time.monotonic() - since >= self.alert_after_s:
            reasons.append(f"records: {self.waiting} day records not shipped to the store "
                           f"for {int((time.monotonic() - since) / 60)} min "
                           f"({self.last_error or 'no answer'})")
        return reasons, {"records_waiting": self.waiting}

    @property
    def backlog(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM ship_outbox").fetchone()[0])

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._db.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                while not self._stop.is_set() and self.bus.connected and self.ship_once():
                    pass
            except (MotcuaError, sqlite3.Error) as exc:
                # the store is away or the reply was lost: the rows stay, tried again later
                self.last_error = str(exc)
                _budget.log(logging.WARNING, "ship",
                            tr("chưa gửi được số liệu trong ngày cho kho hồ sơ: %s",
                               "day records not shipped yet: %s"), exc)
            try:
                self.waiting = self.backlog
            except sqlite3.Error as exc:
                self.last_error = str(exc)
            if self.waiting == 0:
                self._stuck_since = None
            elif self._stuck_since is None:
                self._stuck_since = time.monotonic()
            self._wake.wait(self.interval_s)
            self._wake.clear()

    def pending(self) -> tuple[list[int], dict[str, Any]]:
        """The next batch: outbox row ids and the ``records.put`` body for them."""
        cols = ", ".join(f"t.{c}" for c in _TICKET_COLS)
        rows = self._db.execute(
            f"SELECT o.id, o.kind, o.day, o.body, t.day, {cols} FROM ship_outbox o "
            "LEFT JOIN tickets t ON o.kind = 'ticket' AND t.day = o.day AND t.number = o.key "
            "ORDER BY o.id LIMIT ?", (self.batch,)).fetchall()
        ids: list[int] = []
        tickets: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for rid, kind, day, body, found, *values in rows:
            ids.append(rid)
            if kind == "ticket" and found is not None:
                t = dict(zip(_TICKET_COLS, values, strict=True))
                t["priority"] = bool(t["priority"])
                if t["category"] is None:  # an added field (docs/protocol.md): only when set
                    del t["category"]
                tickets.append({"rev": rid, **t})
            elif kind == "event" and body:
                ev = json.loads(body)
                events.append({k: v for k, v in {
                    "seq": ev.get("seq"), "type": ev.get("type"), "at": ev.get("at"),
                    "day": ev.get("previous") if ev.get("type") == "day.reset" else day,
                    "counter": ev.get("counter"), "officer": ev.get("officer")}.items()
                    if v is not None})
            # anything else (a ticket row gone) is dropped with the acknowledgement
        return ids, {"op": "records.put", "tickets": tickets, "counter_events": events}

    def ship_once(self) -> bool:
        """Send one batch and forget it once stored; False when the outbox was empty.
        Raises RequestTimeout/NotConnected (store away) or MotcuaError (store refused)."""
        ids, body = self.pending()
        if not ids:
            return False
        reply = self.bus.request(self.target, body, timeout=self.timeout_s,
                                 req_id=f"{self.bus.unit}-records-{ids[0]}-{ids[-1]}")
        if not reply.get("ok"):
            err = reply.get("error") or {}
            raise MotcuaError(f"the store refused the day records: {err.get('code')} "
                              f"{err.get('detail') or err.get('message') or ''}".strip())
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("DELETE FROM ship_outbox WHERE id = ?", [(i,) for i in ids])
            self._db.execute("COMMIT")
        except sqlite3.Error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self.shipped += len(body["tickets"]) + len(body["counter_events"])
        self.last_error = None
        return True
