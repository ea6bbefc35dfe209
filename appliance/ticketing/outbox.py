"""A ticket-printing unit's durable memory (dispenser, lookup terminal): offline tickets to
hand to the hub, voids still to send, the last ticket (for a reprint) and the cached site
info (to print correct tickets offline after a restart).

SQLite in WAL mode with synchronous=FULL: a row written here survives a power cut the moment
the call returns. One connection, guarded by a lock; the dispenser has one writer thread
and a sync thread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import MotcuaError, StorageError
from appliance.i18n import tr

SCHEMA = """
CREATE TABLE IF NOT EXISTS offline_ticket (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    day       TEXT NOT NULL,
    service   TEXT NOT NULL,
    n         INTEGER NOT NULL,
    number    TEXT NOT NULL,
    priority  INTEGER NOT NULL,
    issued_at TEXT NOT NULL,
    -- allocated: number taken, printing; printed: waits for the hub; imported: the hub has it;
    -- failed: never printed, never sent; rejected: the hub refused it (detail says why)
    state     TEXT NOT NULL,
    detail    TEXT,
    UNIQUE (day, service, n)
);
CREATE TABLE IF NOT EXISTS pending_void (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    number     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    req_id     TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0,
    detail     TEXT
);
-- ticket.issue requests that timed out: the hub may have issued a number nobody holds
CREATE TABLE IF NOT EXISTS orphan_issue (
    req_id     TEXT PRIMARY KEY,
    service    TEXT NOT NULL,
    priority   INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS kv (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


# whose file it is, in the words staff read in an error: (Vietnamese, English)
DISPENSER = ("máy lấy số", "dispenser")
TERMINAL = ("máy tra cứu", "lookup terminal")


def _store_error(path: object, exc: Exception, owner: tuple[str, str] = DISPENSER
                 ) -> StorageError:
    """The error staff read when the unit's own ticket file fails."""
    return StorageError(tr(f"kho dữ liệu của {owner[0]} {path}: {exc}",
                           f"{owner[1]} store {path}: {exc}"))


class BandExhausted(MotcuaError):
    """Every number of this service's offline band is used today."""


@dataclass(frozen=True)
class OfflineTicket:
    seq: int
    day: str
    service: str
    n: int
    number: str
    priority: bool
    issued_at: str
    state: str

    @property
    def req_id_suffix(self) -> str:
        return f"offline-{self.day}-{self.number}"


@dataclass(frozen=True)
class PendingVoid:
    id: int
    number: str
    reason: str
    req_id: str


class Outbox:
    def __init__(self, path: Path, owner: tuple[str, str] = DISPENSER) -> None:
        self.path = path
        self.owner = owner
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False,
                                       isolation_level=None, timeout=5.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(tr(f"không mở được kho dữ liệu của {owner[0]} {path}: {exc}",
                                  f"cannot open the {owner[1]} store {path}: {exc}")) from None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, args)
            except sqlite3.Error as exc:
                raise _store_error(self.path, exc, self.owner) from None

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._db.execute(sql, args).fetchall())
            except sqlite3.Error as exc:
                raise _store_error(self.path, exc, self.owner) from None

    # ---- offline tickets ---------------------------------------------------------------
    def allocate_offline(self, *, day: str, service: str, letter: str, digits: int,
                         first: int, last: int, priority: bool, issued_at: str
                         ) -> OfflineTicket:
        """Take the next number of today's band for ``service``, durably, before printing."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute(
                    "SELECT MAX(n) FROM offline_ticket WHERE day = ? AND service = ?",
                    (day, service),
                ).fetchone()
                n = first if row[0] is None else int(row[0]) + 1
                if n > last:
                    self._db.execute("ROLLBACK")
                    raise BandExhausted(tr(
                        f"dải số khi mất kết nối {first}-{last} của dịch vụ {service} đã hết "
                        "trong hôm nay",
                        f"offline band {first}-{last} of service {service} is used up today"))
                number = f"{letter}{n:0{digits}d}"
                cur = self._db.execute(
                    "INSERT INTO offline_ticket (day, service, n, number, priority, issued_at,"
                    " state) VALUES (?, ?, ?, ?, ?, ?, 'allocated')",
                    (day, service, n, number, int(priority), issued_at),
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise _store_error(self.path, exc, self.owner) from None
        assert cur.lastrowid is not None
        return OfflineTicket(cur.lastrowid, day, service, n, number, priority, issued_at,
                             "allocated")

    def set_offline_state(self, seq: int, state: str, detail: str | None = None) -> None:
        self._write("UPDATE offline_ticket SET state = ?, detail = ? WHERE seq = ?",
                    (state, detail, seq))

    def pending_imports(self) -> list[OfflineTicket]:
        """Tickets the hub does not have yet, in issue order.

        "allocated" rows are left by a power cut during printing. We cannot know whether the
        paper came out; sending them means at worst a no-show, never a citizen holding a
        ticket no counter will call.
        """
        rows = self._rows(
            "SELECT seq, day, service, n, number, priority, issued_at, state FROM offline_ticket"
            " WHERE state IN ('allocated', 'printed') ORDER BY seq"
        )
        return [OfflineTicket(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7])
                for r in rows]

    def offline_tickets(self) -> list[OfflineTicket]:
        rows = self._rows(
            "SELECT seq, day, service, n, number, priority, issued_at, state FROM offline_ticket"
            " ORDER BY seq"
        )
        return [OfflineTicket(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7])
                for r in rows]

    def backlog(self) -> int:
        rows = self._rows("SELECT COUNT(*) FROM offline_ticket"
                          " WHERE state IN ('allocated', 'printed')")
        return int(rows[0][0])

    # ---- voids still to tell the hub ---------------------------------------------------
    def add_void(self, *, number: str, reason: str, req_id: str, created_at: str) -> None:
        self._write(
            "INSERT OR IGNORE INTO pending_void (number, reason, req_id, created_at)"
            " VALUES (?, ?, ?, ?)",
            (number, reason, req_id, created_at),
        )

    def pending_voids(self) -> list[PendingVoid]:
        rows = self._rows("SELECT id, number, reason, req_id FROM pending_void"
                          " WHERE done = 0 ORDER BY id")
        return [PendingVoid(*r) for r in rows]

    def void_done(self, void_id: int, detail: str | None = None) -> None:
        self._write("UPDATE pending_void SET done = 1, detail = ? WHERE id = ?",
                    (detail, void_id))

    # ---- issue requests that got no answer ----------------------------------------------
    def add_orphan(self, *, req_id: str, service: str, priority: bool, created_at: str) -> None:
        self._write("INSERT OR IGNORE INTO orphan_issue (req_id, service, priority, created_at)"
                    " VALUES (?, ?, ?, ?)", (req_id, service, int(priority), created_at))

    def orphans(self, *, since: str = "") -> list[tuple[str, str, bool]]:
        """Unsettled requests; older than ``since`` (an RFC 3339 day prefix) are dropped."""
        if since:
            self._write("UPDATE orphan_issue SET done = 1 WHERE done = 0 AND created_at < ?",
                        (since,))
        rows = self._rows("SELECT req_id, service, priority FROM orphan_issue WHERE done = 0"
                          " ORDER BY created_at, req_id")
        return [(r[0], r[1], bool(r[2])) for r in rows]

    def orphan_done(self, req_id: str) -> None:
        self._write("UPDATE orphan_issue SET done = 1 WHERE req_id = ?", (req_id,))

    # ---- small documents ---------------------------------------------------------------
    def put(self, key: str, value: dict[str, Any]) -> None:
        self._write("INSERT INTO kv (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, json.dumps(value, ensure_ascii=False)))

    def get(self, key: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT value FROM kv WHERE key = ?", (key,))
        if not rows:
            return None
        value = json.loads(rows[0][0])
        return value if isinstance(value, dict) else None
