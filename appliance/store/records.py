"""The hub's day records in the store: each office's tickets and counter spans, kept once.

``records.put`` may bring the same record twice (a lost reply, a QoS 1 duplicate, a hub
that restarted before it heard the answer): a ticket is an upsert on (site, day, number)
where the higher ``rev`` wins, a counter event an insert that ignores a (site, day, seq)
it already has. So any number of deliveries, in any order, end with each record once and
each ticket in its latest state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from appliance.contract import RecordsPut
from appliance.errors import ContractError
from appliance.store.queue_summary import rebuild_days
from appliance.store.schema import queue_counter_events, queue_tickets

_TIMES = ("first_called_at", "called_at", "finished_at")


def _time(text: str, name: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ContractError("bad_request", f"{name}: not an RFC 3339 time: {text[:40]!r}") \
            from None
    if when.tzinfo is None:
        raise ContractError("bad_request", f"{name}: a time needs its UTC offset")
    return when


def _epoch(text: str, name: str) -> int:
    return int(_time(text, name).timestamp())


class QueueRecords:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def put(self, site: str, office: str, batch: RecordsPut) -> int:
        """Store a batch in one transaction; the number of records it held."""
        tickets = [self._ticket_row(site, office, t.model_dump()) for t in batch.tickets]
        events = [{"office": office, "site": site, "day": e.day or "", "seq": e.seq,
                   "type": e.type, "counter": e.counter, "officer": e.officer,
                   "at": _epoch(e.at, "at")} for e in batch.counter_events]
        # the last version of a ticket within one batch wins before the database sees it
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for row in tickets:
            key = (row["day"], row["number"])
            if key not in latest or latest[key]["rev"] <= row["rev"]:
                latest[key] = row
        with self.engine.begin() as conn:
            self._put_tickets(conn, list(latest.values()))
            # the days' summaries the reports read, in the same transaction
            rebuild_days(conn, office, {row["day"] for row in latest.values()})
            if events:
                conn.execute(self._insert(queue_counter_events).values(events)
                             .on_conflict_do_nothing(index_elements=["site", "day", "seq"]))
        return len(tickets) + len(events)

    @staticmethod
    def _ticket_row(site: str, office: str, t: dict[str, Any]) -> dict[str, Any]:
        issued = _time(t["issued_at"], f"issued_at of {t['number']}")
        row = {"office": office, "site": site, "day": t["day"], "number": t["number"],
               "service": t["service"], "priority": int(t["priority"]), "state": t["state"],
               "origin": t["origin"], "issued_at": int(issued.timestamp()),
               "issued_hour": issued.hour, "counter": t["counter"], "officer": t["officer"],
               "calls": t["calls"], "rating": t["rating"], "rev": t["rev"],
               "category": t.get("category")}
        for name in _TIMES:
            row[name] = _epoch(t[name], name) if t[name] else None
        return row

    def _put_tickets(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        stmt = self._insert(queue_tickets).values(rows)
        keep = {c: stmt.excluded[c] for c in rows[0] if c not in ("site", "day", "number")}
        conn.execute(stmt.on_conflict_do_update(
            index_elements=["site", "day", "number"], set_=keep,
            where=queue_tickets.c.rev <= stmt.excluded.rev))

    def tickets(self, office: str | None, first_day: str, last_day: str) -> list[dict[str, Any]]:
        """The ticket rows of an office (None: every office) from ``first_day`` to
        ``last_day`` (office days, inclusive)."""
        q = select(queue_tickets).where(queue_tickets.c.day >= first_day,
                                        queue_tickets.c.day <= last_day)
        if office is not None:
            q = q.where(queue_tickets.c.office == office)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def counter_events(self, office: str | None, first_day: str,
                       last_day: str) -> list[dict[str, Any]]:
        q = select(queue_counter_events).where(queue_counter_events.c.day >= first_day,
                                               queue_counter_events.c.day <= last_day)
        if office is not None:
            q = q.where(queue_counter_events.c.office == office)
        with self.engine.connect() as conn:
            return [dict(r) for r in
                    conn.execute(q.order_by(queue_counter_events.c.at,
                                            queue_counter_events.c.seq)).mappings()]
