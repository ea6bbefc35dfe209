"""The care server's own record: every state change of every unit and site, every alert
sent or held back, and what people were last told of each unit and site (SQLite, WAL).
It feeds the 7-day availability and the digest, and lets a restarted care server (even
after kill -9) go on where it stopped: no second alert for what it had told already, a
recovery for what got better while it was down, an alert it had decided on but not yet
delivered sent again."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
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
CREATE TABLE IF NOT EXISTS told (
    site TEXT NOT NULL, unit TEXT NOT NULL, state TEXT NOT NULL, codes TEXT NOT NULL,
    since TEXT NOT NULL, PRIMARY KEY (site, unit));
"""
# (site, unit or None, state, reason codes, since): what a person was last told
Told = tuple[str, str | None, str, frozenset[str], datetime]
# (site, unit or None, what is told now or None when all is well, since)
ToldChange = tuple[str, str | None, tuple[str, frozenset[str]] | None, datetime]
# (site, unit or None, kind, state, body, sent)
NoticeRow = tuple[str, str | None, str, str, dict[str, Any], bool]
SITE = ""  # the unit column of a whole site's rows
# how a notice goes out; each is marked done on its own, the moment its receiver took it,
# so that a restart sends again only what no receiver had (not the webhook again because
# the e-mail after it was still on its way)
CHANNELS = ("webhook", "email")


class History:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a crash or kill -9 of the server loses no commit (the kernel
        # holds the log); a power cut of the province's machine may lose the last second,
        # which the live state re-teaches (at worst one alert told twice)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(notices)")}
        # a record made before deliveries (then each channel's) were tracked: all done
        for column in ("done", *(f"{c}_done" for c in CHANNELS)):
            if column not in columns:
                self._db.execute(f"ALTER TABLE notices ADD COLUMN {column} INTEGER NOT NULL "
                                 "DEFAULT 1")
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
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

    def record(self, notices: Sequence[NoticeRow], told: Sequence[ToldChange],
               at: datetime) -> list[int]:
        """One tick's notices (site, unit, kind, state, body, sent) and told states, in one
        transaction: both are on disk or neither. Returns the notices' ids."""
        ids = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for site, unit, kind, state, body, sent in notices:
                    cur = self._db.execute(
                        "INSERT INTO notices (site, unit, kind, state, body, sent, at, done, "
                        "webhook_done, email_done) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (site, unit or SITE, kind, state, json.dumps(body, ensure_ascii=False),
                         int(sent), at.isoformat(), *[int(not sent)] * 3))
                    ids.append(int(cur.lastrowid or 0))
                for site, unit, now_told, since in told:
                    if now_told is None:
                        self._db.execute("DELETE FROM told WHERE site=? AND unit=?",
                                         (site, unit or SITE))
                    else:
                        self._db.execute(
                            "INSERT OR REPLACE INTO told VALUES (?, ?, ?, ?, ?)",
                            (site, unit or SITE, now_told[0], json.dumps(sorted(now_told[1])),
                             since.isoformat()))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return ids

    def delivered(self, notice_id: int, channel: str) -> None:
        """``channel`` (one of CHANNELS) is done with the notice; the notice is done when
        every channel is."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown notice channel {channel!r}")
        others = " AND ".join(f"{c}_done" for c in CHANNELS if c != channel) or "1"
        with self._lock:
            if self._closed:
                return  # sent while shutting down: sent again at the next start, not lost
            # the right-hand sides read the row as it was: the other channels' marks
            self._db.execute(f"UPDATE notices SET {channel}_done=1, done=({others}) "
                             "WHERE rowid=?", (notice_id,))

    def undelivered(self, since: datetime) -> list[tuple[int, dict[str, Any], frozenset[str]]]:
        """Notices decided on and due to go out but not done (the server died), each with
        the channels that had already taken it."""
        marks = ", ".join(f"{c}_done" for c in CHANNELS)
        with self._lock:
            rows = self._db.execute(
                f"SELECT rowid, body, {marks} FROM notices WHERE sent=1 AND done=0 AND at>=? "
                "ORDER BY rowid", (since.isoformat(),)).fetchall()
        return [(int(i), json.loads(b), frozenset(c for c, d in zip(CHANNELS, done, strict=True)
                                                  if d)) for i, b, *done in rows]

    def told(self) -> list[Told]:
        with self._lock:
            rows = self._db.execute("SELECT site, unit, state, codes, since FROM told"
                                    ).fetchall()
        return [(site, unit or None, state, frozenset(json.loads(codes)),
                 datetime.fromisoformat(since)) for site, unit, state, codes, since in rows]

    def last_sent(self) -> list[dict[str, Any]]:
        """The last notice that went out for each unit and site (what is still open)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body, at FROM notices WHERE rowid IN (SELECT MAX(rowid) FROM notices "
                "WHERE sent=1 GROUP BY site, unit)").fetchall()
        return [{**json.loads(b), "decided": a} for b, a in rows]

    def sent_alerts(self, since: datetime) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body, at FROM notices WHERE sent=1 AND kind='alert' AND at>=? "
                "ORDER BY at", (since.isoformat(),)).fetchall()
        return [{**json.loads(b), "decided": a} for b, a in rows]

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
                "SELECT body, sent FROM notices WHERE at>=? ORDER BY at, rowid",
                (since.isoformat(),)).fetchall()
        return [{**json.loads(b), "sent": bool(s)} for b, s in rows]
