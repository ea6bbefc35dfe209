"""The counter unit's durable memory: SQLite, WAL, synchronous=FULL.

* ``outbox`` — what the hub must hear, in order: offline manual events (sent as
  batches with ``counter.sync``) and ratings (``rating.submit``). A batch gets its
  request id when first sent and keeps it for every retry, so the hub applies it once
  even when its reply was lost.
* ``rated`` — tickets already rated here (one rating per ticket, across restarts).
* ``kv`` — the officer on duty, the last finished ticket, cached site info.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import StorageError
from appliance.i18n import tr

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('event', 'rating')),
    body TEXT NOT NULL,
    req_id TEXT,
    created_at TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    result TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (done, id);
CREATE TABLE IF NOT EXISTS rated (number TEXT NOT NULL, day TEXT NOT NULL,
                                  PRIMARY KEY (day, number));
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _db_error(path: object, exc: Exception) -> StorageError:
    """The error staff read when the counter's own file fails."""
    return StorageError(tr(f"cơ sở dữ liệu của quầy {path}: {exc}",
                           f"counter database {path}: {exc}"))


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    body: dict[str, Any]
    req_id: str | None


class CounterStore:
    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(tr(f"không mở được cơ sở dữ liệu của quầy {path}: {exc}",
                                  f"cannot open the counter's database {path}: {exc}")) from exc
        self.path = path
        self._lock = threading.Lock()

    def db_mode(self) -> tuple[str, int]:
        """(journal_mode, synchronous) as SQLite reports them: ("wal", 2) = WAL + FULL."""
        with self._lock:
            journal = self._db.execute("PRAGMA journal_mode").fetchone()[0]
            sync = self._db.execute("PRAGMA synchronous").fetchone()[0]
        return str(journal), int(sync)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            with self._lock:
                return self._db.execute(sql, args)
        except sqlite3.Error as exc:
            raise _db_error(self.path, exc) from exc

    # ---- outbox ------------------------------------------------------------------------
    def add(self, kind: str, body: dict[str, Any], at: str) -> int:
        cur = self._write("INSERT INTO outbox (kind, body, created_at) VALUES (?, ?, ?)",
                          (kind, json.dumps(body, ensure_ascii=False), at))
        return int(cur.lastrowid or 0)

    def pending(self, limit: int = 500) -> list[OutboxRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, body, req_id FROM outbox WHERE done = 0 ORDER BY id LIMIT ?",
                (limit,)).fetchall()
        return [OutboxRow(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]

    def backlog(self) -> int:
        with self._lock:
            return int(self._db.execute(
                "SELECT COUNT(*) FROM outbox WHERE done = 0").fetchone()[0])

    def events_backlog(self) -> int:
        with self._lock:
            return int(self._db.execute(
                "SELECT COUNT(*) FROM outbox WHERE done = 0 AND kind = 'event'").fetchone()[0])

    def freeze(self, ids: list[int], req_id: str) -> None:
        """Give rows their request id once; later retries reuse it."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("UPDATE outbox SET req_id = ? WHERE id = ? AND req_id IS NULL",
                                     [(req_id, i) for i in ids])
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise _db_error(self.path, exc) from exc

    def done(self, ids: list[int], result: str) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("UPDATE outbox SET done = 1, result = ? WHERE id = ?",
                                     [(result, i) for i in ids])
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise _db_error(self.path, exc) from exc

    def history(self) -> list[tuple[str, dict[str, Any], int, str | None, str | None]]:
        """Every outbox row in order: (kind, body, done, result, request id)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, body, done, result, req_id FROM outbox ORDER BY id").fetchall()
        return [(r[0], json.loads(r[1]), r[2], r[3], r[4]) for r in rows]

    # ---- ratings -------------------------------------------------------------------------
    def rate_once(self, day: str, number: str, body: dict[str, Any], at: str) -> bool:
        """Mark rated and queue the rating in one transaction (or neither)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO rated (day, number) VALUES (?, ?)", (day, number))
                if cur.rowcount != 1:
                    self._db.execute("ROLLBACK")
                    return False
                self._db.execute(
                    "INSERT INTO outbox (kind, body, created_at) VALUES ('rating', ?, ?)",
                    (json.dumps(body, ensure_ascii=False), at))
                self._db.execute("COMMIT")
                return True
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise _db_error(self.path, exc) from exc

    # ---- key/value -----------------------------------------------------------------------
    def get(self, key: str) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: Any) -> None:
        self.put_many({key: value})

    def put_many(self, values: dict[str, Any]) -> None:
        """Set several keys in one transaction (one fsync)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT INTO kv (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [(k, json.dumps(v, ensure_ascii=False)) for k, v in values.items()])
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise _db_error(self.path, exc) from exc
