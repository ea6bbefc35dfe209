"""The care server's own record: every state change of every unit and site, and every
alert sent or held back (SQLite, WAL). It feeds the 7-day availability and the digest."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS changes (
    site TEXT NOT NULL, unit TEXT NOT NULL, state TEXT NOT NULL, reasons TEXT NOT NULL,
    at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS changes_by_unit ON changes (site, unit, at);
CREATE TABLE IF NOT EXISTS notices (
    site TEXT NOT NULL, unit TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
    body TEXT NOT NULL, sent INTEGER NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS notices_by_time ON notices (at);
"""
SITE = ""  # the unit column of a whole site's rows


class History:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a lost last change is re-learnt live
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def change(self, site: str, unit: str | None, state: str, reasons: tuple[str, ...],
               at: datetime) -> None:
        with self._lock:
            self._db.execute("INSERT INTO changes VALUES (?, ?, ?, ?, ?)",
                             (site, unit or SITE, state, json.dumps(list(reasons),
                                                                    ensure_ascii=False),
                              at.isoformat()))

    def changes(self, site: str, unit: str | None, since: datetime,
                limit: int = 10_000) -> list[tuple[datetime, str, list[str]]]:
        """State changes from ``since`` on, with the one in force at ``since`` first."""
        key = unit or SITE
        with self._lock:
            before = self._db.execute(
                "SELECT at, state, reasons FROM changes WHERE site=? AND unit=? AND at<? "
                "ORDER BY at DESC LIMIT 1", (site, key, since.isoformat())).fetchall()
            rows = self._db.execute(
                "SELECT at, state, reasons FROM changes WHERE site=? AND unit=? AND at>=? "
                "ORDER BY at LIMIT ?", (site, key, since.isoformat(), limit)).fetchall()
        return [(datetime.fromisoformat(a), s, json.loads(r)) for a, s, r in before + rows]

    def notice(self, site: str, unit: str | None, kind: str, state: str, body: dict[str, Any],
               sent: bool, at: datetime) -> None:
        with self._lock:
            self._db.execute("INSERT INTO notices VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (site, unit or SITE, kind, state,
                              json.dumps(body, ensure_ascii=False), int(sent), at.isoformat()))

    def prune(self, before: datetime) -> None:
        """Forget what is older than the dashboard and the digest look back."""
        with self._lock:
            self._db.execute("DELETE FROM changes WHERE at<? AND rowid NOT IN (SELECT "
                             "MAX(rowid) FROM changes GROUP BY site, unit)",
                             (before.isoformat(),))
            self._db.execute("DELETE FROM notices WHERE at<?", (before.isoformat(),))

    def notices(self, since: datetime) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body, sent FROM notices WHERE at>=? ORDER BY at", (since.isoformat(),)
            ).fetchall()
        return [{**json.loads(b), "sent": bool(s)} for b, s in rows]
