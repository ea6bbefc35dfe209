"""The hub's durable record: SQLite in WAL mode with synchronous=FULL.

One transaction per batch of requests holds the changed tickets and counters, the events,
the replies (for idempotency) and the sequence number. Nothing is replied or published
before that transaction has committed.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from pathlib import Path

from appliance.contract import encode
from appliance.core.model import Counter, Outcome, QueueState, Ticket
from appliance.errors import StorageError
from appliance.hub.replies import Key, ReplyMemory
from appliance.i18n import tr

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    day TEXT NOT NULL, number TEXT NOT NULL, service TEXT NOT NULL, priority INTEGER NOT NULL,
    issued_at TEXT NOT NULL, unit TEXT NOT NULL, origin TEXT NOT NULL, state TEXT NOT NULL,
    order_at TEXT NOT NULL, counter TEXT, first_called_at TEXT, called_at TEXT,
    finished_at TEXT, officer TEXT, calls INTEGER NOT NULL, rating TEXT, category TEXT,
    PRIMARY KEY (day, number)
);
CREATE TABLE IF NOT EXISTS counters (
    id TEXT PRIMARY KEY, open INTEGER NOT NULL, serving TEXT, since TEXT, officer TEXT,
    priority_streak INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, day TEXT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS replies (
    unit TEXT NOT NULL, req_id TEXT NOT NULL, day TEXT, body TEXT NOT NULL,
    PRIMARY KEY (unit, req_id)
);
"""
# The outbox of day records for the store (appliance/hub/shipper.py). Triggers fill it in
# the very transaction that changes a ticket or records a counter's opening/closing, so a
# record is queued exactly when it is on disk, without a line in the hot path's code. One
# row per ticket (a newer version replaces the row, with a higher id): what is shipped is
# the ticket's latest state, and an acknowledgement deletes only the rows it covers.
_OUTBOX = """
CREATE TABLE IF NOT EXISTS ship_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, day TEXT NOT NULL,
    key TEXT NOT NULL, body TEXT, UNIQUE (kind, day, key)
);
CREATE TRIGGER IF NOT EXISTS ship_ticket_ins AFTER INSERT ON tickets BEGIN
    INSERT OR REPLACE INTO ship_outbox (kind, day, key) VALUES ('ticket', NEW.day, NEW.number);
END;
CREATE TRIGGER IF NOT EXISTS ship_ticket_upd AFTER UPDATE ON tickets BEGIN
    INSERT OR REPLACE INTO ship_outbox (kind, day, key) VALUES ('ticket', NEW.day, NEW.number);
END;
CREATE TRIGGER IF NOT EXISTS ship_counter_event AFTER INSERT ON events
WHEN json_valid(NEW.body)
     AND json_extract(NEW.body, '$.type') IN ('counter.opened', 'counter.closed', 'day.reset')
BEGIN
    INSERT OR IGNORE INTO ship_outbox (kind, day, key, body)
    VALUES ('event', COALESCE(NEW.day, ''), CAST(NEW.seq AS TEXT), NEW.body);
END;
"""
# A hub database from before the outbox: queue what it already holds, once. (The event
# type is read as JSON, not matched as text: the body's spacing is the encoder's choice.)
_BACKFILL = """
INSERT OR IGNORE INTO ship_outbox (kind, day, key) SELECT 'ticket', day, number FROM tickets;
INSERT OR IGNORE INTO ship_outbox (kind, day, key, body)
    SELECT 'event', COALESCE(day, ''), CAST(seq AS TEXT), body FROM events
    WHERE json_valid(body)
      AND json_extract(body, '$.type') IN ('counter.opened', 'counter.closed', 'day.reset');
"""
_TICKET_COLS = ("day", "number", "service", "priority", "issued_at", "unit", "origin", "state",
                "order_at", "counter", "first_called_at", "called_at", "finished_at", "officer",
                "calls", "rating", "category")


def _ts(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


class HubStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            # The hub reads its tables once, at start; after that it only appends and
            # replaces rows, so a page cache of SQLite's default 2 MB only holds a busy
            # day's pages for nothing (the OS caches the file anyway). 256 KiB.
            self.db.execute("PRAGMA cache_size=-256")
            self.db.executescript(_SCHEMA)
            # a hub database from before the priority category: the column, added once
            if "category" not in {r[1] for r in self.db.execute("PRAGMA table_info(tickets)")}:
                self.db.execute("ALTER TABLE tickets ADD COLUMN category TEXT")
            fresh = self.db.execute("SELECT 1 FROM sqlite_master WHERE name = "
                                    "'ship_outbox'").fetchone() is None
            self.db.executescript(_OUTBOX)
            if fresh:
                self.db.executescript(f"BEGIN IMMEDIATE; {_BACKFILL} COMMIT;")
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)",
                            (str(SCHEMA_VERSION),))
        except sqlite3.Error as exc:
            raise StorageError(tr(f"không mở được cơ sở dữ liệu của hub {path}: {exc}",
                                  f"cannot open the hub database {path}: {exc}")) from exc
        self.path = path

    def close(self) -> None:
        self.db.close()

    # ---- loading ---------------------------------------------------------------------
    def load(self) -> tuple[QueueState, ReplyMemory]:
        """The state as last committed, and the replies already given (for idempotency),
        no more of them than the memory's bound (older ones beyond it are deleted)."""
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        st = QueueState(seq=int(meta.get("seq", "0")))
        if meta.get("day"):
            st.day = date.fromisoformat(meta["day"])
            st.next_number = json.loads(meta.get("next_number", "{}"))
            cur = self.db.execute(
                f"SELECT {', '.join(_TICKET_COLS)} FROM tickets WHERE day = ?",
                (meta["day"],))
            for row in cur:
                r = dict(zip(_TICKET_COLS, row, strict=True))
                t = Ticket(
                    day=date.fromisoformat(r["day"]), number=r["number"], service=r["service"],
                    priority=bool(r["priority"]), issued_at=_dt(r["issued_at"]),  # type: ignore[arg-type]
                    unit=r["unit"], origin=r["origin"], state=r["state"],
                    order_at=_dt(r["order_at"]), counter=r["counter"],
                    first_called_at=_dt(r["first_called_at"]), called_at=_dt(r["called_at"]),
                    finished_at=_dt(r["finished_at"]), officer=r["officer"], calls=r["calls"],
                    rating=r["rating"], category=r["category"])
                st.tickets[t.number] = t
        for cid, is_open, serving, since, officer, streak in self.db.execute(
            "SELECT id, open, serving, since, officer, priority_streak FROM counters"
        ):
            st.counters[cid] = Counter(id=cid, open=bool(is_open), serving=serving,
                                       since=_dt(since), officer=officer,
                                       priority_streak=streak)
        replies = ReplyMemory()
        # rowid order is write order (INSERT OR REPLACE gives a replaced row a new rowid)
        over = replies.fill(self.db.execute(
            "SELECT unit, req_id, body FROM replies ORDER BY rowid"))
        if over:
            self._forget(over)
        return st, replies

    def _forget(self, keys: list[Key]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("DELETE FROM replies WHERE unit = ? AND req_id = ?", keys)
            self.db.execute("COMMIT")
        except sqlite3.Error:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    # ---- committing ------------------------------------------------------------------
    def commit(self, state: QueueState, outcomes: list[Outcome],
               replies: list[tuple[str, str, str]], forget: list[Key] | None = None,
               event_payloads: list[bytes] | None = None) -> None:
        """Write a batch in one transaction; raises StorageError if it did not commit.

        ``replies`` are (unit, request id, reply JSON); ``forget`` are replies the bounded
        memory let go of, deleted in the same transaction; ``event_payloads``, the events
        of ``outcomes`` already encoded for the bus (so each is encoded once), in order."""
        day = state.day.isoformat() if state.day else None
        # the last version of each row wins: a ticket changed twice in a batch is written once
        tickets = {(t.day, t.number): t for out in outcomes for t in out.tickets}
        counters = {c.id: c for out in outcomes for c in out.counters}
        events = [ev for out in outcomes for ev in out.events]
        if event_payloads is None:
            event_payloads = [encode(ev) for ev in events]
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                f"INSERT OR REPLACE INTO tickets ({', '.join(_TICKET_COLS)}) "
                f"VALUES ({', '.join('?' * len(_TICKET_COLS))})",
                [(t.day.isoformat(), t.number, t.service, int(t.priority), _ts(t.issued_at),
                  t.unit, t.origin, t.state, _ts(t.order_at), t.counter,
                  _ts(t.first_called_at), _ts(t.called_at), _ts(t.finished_at), t.officer,
                  t.calls, t.rating, t.category) for t in tickets.values()])
            self.db.executemany(
                "INSERT OR REPLACE INTO counters VALUES (?, ?, ?, ?, ?, ?)",
                [(c.id, int(c.open), c.serving, _ts(c.since), c.officer, c.priority_streak)
                 for c in counters.values()])
            self.db.executemany(
                "INSERT INTO events VALUES (?, ?, ?)",
                [(ev["seq"], day, payload.decode("utf-8"))
                 for ev, payload in zip(events, event_payloads, strict=True)])
            self.db.executemany(
                "INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?)",
                [(unit, req_id, day, body) for unit, req_id, body in replies])
            if forget:
                self.db.executemany("DELETE FROM replies WHERE unit = ? AND req_id = ?",
                                    forget)
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
                ("seq", str(state.seq)), ("day", day or ""),
                ("next_number", json.dumps(state.next_number)),
            ])
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the connection itself is gone; nothing was committed either way
            raise StorageError(tr(f"không ghi được vào cơ sở dữ liệu của hub: {exc}",
                                  f"hub database write failed: {exc}")) from exc

    def prune(self, keep_from: date) -> None:
        """Forget replies and events older than ``keep_from`` (tickets stay for statistics)."""
        self.db.execute("DELETE FROM replies WHERE day < ?", (keep_from.isoformat(),))
        self.db.execute("DELETE FROM events WHERE day < ?", (keep_from.isoformat(),))
